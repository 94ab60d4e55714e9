//! Proves each of the four servers is real and reachable from Rust with the crate the
//! platform uses for it.

use std::time::Duration;

use keel_tests::{clickhouse_url, elasticsearch_url, kafka_brokers, unique_suffix, TestDatabase};

#[tokio::test]
async fn postgresql_round_trip_with_sqlx() {
    let db = TestDatabase::create().await;
    let pool = db.pool(2).await;
    sqlx::query("CREATE TABLE smoke (id int PRIMARY KEY, note text NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO smoke VALUES ($1, $2)")
        .bind(7)
        .bind("hello")
        .execute(&pool)
        .await
        .expect("insert");
    let note: String = sqlx::query_scalar("SELECT note FROM smoke WHERE id = $1")
        .bind(7)
        .fetch_one(&pool)
        .await
        .expect("select");
    assert_eq!(note, "hello");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await
        .expect("version");
    assert!(version.starts_with("1"), "PostgreSQL {version}");
    pool.close().await;
}

#[tokio::test]
async fn kafka_produce_and_consume_in_a_group() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use rdkafka::{ClientConfig, Message};

    let topic = format!("smoke-{}", unique_suffix());
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", kafka_brokers());
    let admin: AdminClient<_> = config.create().expect("admin client");
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create topic request");
    assert!(created.iter().all(|r| r.is_ok()), "{created:?}");

    let producer: FutureProducer = config
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .expect("producer");
    let delivered = producer
        .send(
            FutureRecord::to(&topic).key("order-1").payload("hello"),
            Duration::from_secs(10),
        )
        .await;
    assert!(delivered.is_ok(), "delivery failed: {delivered:?}");

    let consumer: StreamConsumer = config
        .clone()
        .set("group.id", format!("smoke-{}", unique_suffix()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a message within 30 s")
        .expect("receive");
    assert_eq!(message.key(), Some(&b"order-1"[..]));
    assert_eq!(message.payload(), Some(&b"hello"[..]));
    consumer
        .commit_message(&message, CommitMode::Sync)
        .expect("commit offset");
    admin
        .delete_topics(&[&topic], &AdminOptions::new())
        .await
        .expect("delete topic");
}

#[tokio::test]
async fn elasticsearch_index_and_search() {
    use elasticsearch::http::transport::Transport;
    use elasticsearch::indices::IndicesDeleteParts;
    use elasticsearch::params::Refresh;
    use elasticsearch::{Elasticsearch, IndexParts, SearchParts};
    use serde_json::{json, Value};

    let transport = Transport::single_node(&elasticsearch_url()).expect("transport");
    let client = Elasticsearch::new(transport);
    let index = format!("smoke-{}", unique_suffix());
    let indexed = client
        .index(IndexParts::IndexId(&index, "1"))
        .body(json!({ "customer": "Ada Lovelace", "status": "placed" }))
        .refresh(Refresh::True)
        .send()
        .await
        .expect("index request");
    assert!(
        indexed.status_code().is_success(),
        "{}",
        indexed.status_code()
    );

    let found: Value = client
        .search(SearchParts::Index(&[&index]))
        .body(json!({ "query": { "match": { "customer": "lovelace" } } }))
        .send()
        .await
        .expect("search request")
        .json()
        .await
        .expect("search body");
    assert_eq!(found["hits"]["total"]["value"], 1, "{found}");
    assert_eq!(found["hits"]["hits"][0]["_source"]["status"], "placed");
    client
        .indices()
        .delete(IndicesDeleteParts::Index(&[&index]))
        .send()
        .await
        .expect("delete index");
}

#[tokio::test]
async fn clickhouse_insert_and_select() {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, clickhouse::Row, Serialize, Deserialize)]
    struct Fact {
        #[serde(with = "clickhouse::serde::uuid")]
        id: uuid::Uuid,
        amount: u64,
        status: String,
    }

    // This server (18.16) predates the crate's schema validation queries.
    let client = clickhouse::Client::default()
        .with_url(clickhouse_url())
        .with_validation(false);
    let db = format!("smoke_{}", unique_suffix());
    client
        .query(&format!("CREATE DATABASE {db}"))
        .execute()
        .await
        .expect("create database");
    let client = client.with_database(&db);
    client
        .query("CREATE TABLE facts (id UUID, amount UInt64, status String) ENGINE = MergeTree ORDER BY id")
        .execute()
        .await
        .expect("create table");
    let rows = vec![
        Fact {
            id: uuid::Uuid::new_v4(),
            amount: 250,
            status: "placed".into(),
        },
        Fact {
            id: uuid::Uuid::new_v4(),
            amount: 750,
            status: "shipped".into(),
        },
    ];
    let mut insert = client.insert::<Fact>("facts").await.expect("insert");
    for row in &rows {
        insert.write(row).await.expect("write row");
    }
    insert.end().await.expect("end insert");
    let total: u64 = client
        .query("SELECT sum(amount) FROM facts")
        .fetch_one()
        .await
        .expect("sum");
    assert_eq!(total, 1000);
    let mut back: Vec<Fact> = client
        .query("SELECT ?fields FROM facts ORDER BY amount")
        .fetch_all()
        .await
        .expect("select rows");
    back.sort_by_key(|f| f.amount);
    assert_eq!(back, rows);
    client
        .query(&format!("DROP DATABASE {db}"))
        .execute()
        .await
        .expect("drop database");
}
