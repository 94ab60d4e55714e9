//! What the `projection_*` tests share: an order event store (a database of its own, or a
//! test service's), topics, a consumer group and a search alias of their own, the relay and
//! the search projector as child processes pointed at them, writers of order lives, and the
//! check that every document is its stream's fold.

use std::collections::HashMap;
use std::time::Duration;

use keel_aggregates::order::{Order, OrderEvent};
use keel_aggregates::Aggregate;
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore};
use keel_schemas::order::{
    LineItem, OrderCancelled, OrderConfirmed, OrderDelivered, OrderPlaced, OrderShipped,
    PaymentAuthorised,
};
use keel_schemas::{Currency, EventEnvelope, EventMetadata, MinorUnits, NewEvent, VersionedEvent};
use keel_services::http::response::EventView;
use keel_tests::{
    eventually, kafka_brokers, unique_suffix, KeelProcess, SearchIndex, StoredDocument,
    TestDatabase, TestService,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;
use uuid::Uuid;

pub struct ProjectionFixture {
    pub database_url: String,
    pub store: PgEventStore,
    pub topic: String,
    pub progress_topic: String,
    pub dead_letter_topic: String,
    pub group: String,
    pub brokers: String,
    pub name: String,
    pub index: SearchIndex,
    producer: FutureProducer,
    // Last: dropped after the store's pool.
    _db: Option<TestDatabase>,
}

impl ProjectionFixture {
    /// A fixture on a database of its own, migrated.
    pub async fn new(name: &str) -> Self {
        let db = TestDatabase::create().await;
        let store = PgEventStore::new(db.pool(16).await);
        store.migrate().await.expect("migrate");
        Self::build(name, db.url.clone(), store, Some(db))
    }

    /// A fixture on a test service's database.
    pub fn for_service(name: &str, service: &TestService) -> Self {
        let store = PgEventStore::new(service.pool.clone());
        Self::build(name, service.db.url.clone(), store, None)
    }

    fn build(
        name: &str,
        database_url: String,
        store: PgEventStore,
        db: Option<TestDatabase>,
    ) -> Self {
        let suffix = unique_suffix();
        let brokers = kafka_brokers();
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .expect("producer");
        Self {
            database_url,
            store,
            topic: format!("orders.events.{suffix}"),
            progress_topic: format!("keel.relay.progress.{suffix}"),
            dead_letter_topic: format!("keel.dead-letters.search.{suffix}"),
            group: format!("keel-projector-search-{suffix}"),
            brokers,
            name: format!("{name}-{suffix}"),
            index: SearchIndex::new(),
            producer,
            _db: db,
        }
    }

    pub fn spawn_relay(&self) -> KeelProcess {
        let args: Vec<String> = [
            "--service",
            "orders",
            "--order-database-url",
            &self.database_url,
            "--orders-topic",
            &self.topic,
            "--progress-topic",
            &self.progress_topic,
            "--kafka-brokers",
            &self.brokers,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        KeelProcess::relay(&format!("{}-relay", self.name), &args)
    }

    /// `keel projector search` on this fixture's topic, alias, group and dead-letter topic.
    pub fn spawn_projector(&self, instance: &str, extra: &[&str]) -> KeelProcess {
        let mut args: Vec<String> = [
            "--kafka-brokers",
            &self.brokers,
            "--order-database-url",
            &self.database_url,
            "--topic",
            &self.topic,
            "--alias",
            &self.index.alias,
            "--group-id",
            &self.group,
            "--dead-letter-topic",
            &self.dead_letter_topic,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        KeelProcess::projector("search", &format!("{}-{instance}", self.name), &args)
    }

    /// Produces one message onto the fixture's topic, outside any transaction.
    pub async fn produce(&self, key: &str, value: &[u8]) {
        let record = FutureRecord::to(&self.topic).key(key).payload(value);
        self.producer
            .send(record, Timeout::After(Duration::from_secs(10)))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }

    /// Produces stored events onto the topic exactly as the relay would encode them.
    pub async fn produce_events(&self, events: &[EventEnvelope]) {
        for event in events {
            let value = serde_json::to_vec(&EventView::from(event.clone())).expect("JSON");
            self.produce(&event.stream_id, &value).await;
        }
    }

    pub async fn stream(&self, order: Uuid) -> Vec<EventEnvelope> {
        self.store
            .read_stream(&stream_id(order), 1, None)
            .await
            .expect("read stream")
    }

    /// Appends `events` to the order's stream, each at the next version.
    pub async fn append(&self, order: Uuid, events: Vec<OrderEvent>) {
        append(&self.store, order, events).await;
    }

    /// Waits until every order's document is at its stream's version, then checks that
    /// each document is its stream's fold; returns the documents.
    pub async fn wait_projected(
        &self,
        orders: &[Uuid],
        within: Duration,
    ) -> HashMap<Uuid, StoredDocument> {
        let mut expected = HashMap::new();
        for &order in orders {
            expected.insert(order, fold(&self.stream(order).await));
        }
        let behind = |docs: &HashMap<Uuid, StoredDocument>| {
            expected
                .iter()
                .filter(|(id, (version, _))| docs.get(id).map(|d| d.version) != Some(*version))
                .count()
        };
        let what = || format!("not every document reached its stream version within {within:?}");
        let docs = eventually(within, what, || async {
            let docs = self.index.documents(orders).await;
            (behind(&docs) == 0).then_some(docs)
        })
        .await;
        for (id, (version, status)) in &expected {
            let doc = &docs[id];
            assert_eq!(doc.source["version"], *version, "{id}: {:?}", doc.source);
            assert_eq!(doc.source["status"], *status, "{id}: {:?}", doc.source);
        }
        docs
    }
}

pub fn stream_id(order: Uuid) -> String {
    format!("order-{order}")
}

/// The version and status an order's events fold to.
pub fn fold(events: &[EventEnvelope]) -> (u64, String) {
    let mut order = Order::default();
    for e in events {
        order.apply(&OrderEvent::decode(&e.encoded()).expect("a known event"));
    }
    let version = events.last().map_or(0, |e| e.stream_version);
    (version, order.status().as_str().to_owned())
}

pub async fn append(store: &PgEventStore, order: Uuid, events: Vec<OrderEvent>) {
    let events: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent::new(e.encode(), EventMetadata::default()))
        .collect();
    let request = AppendRequest::new(stream_id(order), "order", ExpectedVersion::Any, events);
    store.append(request).await.expect("append");
}

pub fn placed(order: Uuid) -> OrderEvent {
    OrderEvent::OrderPlaced(OrderPlaced {
        order_id: order,
        customer_id: Uuid::from_u128(0x0b8f_7d0e_3c1a_4f7e_9a52_6f1d_2c3b_4a59),
        customer_name: "Grace Hopper".into(),
        lines: vec![LineItem {
            sku: "SKU-7".into(),
            name: "Compiler".into(),
            quantity: 3,
            unit_price: MinorUnits::new(1_000),
        }],
        currency: Currency::parse("EUR").expect("EUR"),
        total: MinorUnits::new(3_000),
    })
}

/// An order's life: placed, then up to four steps further (paid, confirmed, shipped,
/// delivered), or cancelled before shipping; its length and end picked by `seed`.
pub fn life(order: Uuid, seed: u64) -> Vec<OrderEvent> {
    let happy = [
        OrderEvent::PaymentAuthorised(PaymentAuthorised {
            payment_id: Uuid::new_v4(),
        }),
        OrderEvent::OrderConfirmed(OrderConfirmed {}),
        OrderEvent::OrderShipped(OrderShipped {
            carrier: "DHL".into(),
            tracking_number: format!("JD{seed}"),
        }),
        OrderEvent::OrderDelivered(OrderDelivered {}),
    ];
    let steps = (seed % 5) as usize;
    let mut events = vec![placed(order)];
    events.extend(happy.into_iter().take(steps));
    // Some of the orders that did not ship are cancelled.
    if steps < 3 && matches!(seed % 3, 0) {
        events.push(OrderEvent::OrderCancelled(OrderCancelled {
            reason: "changed my mind".into(),
        }));
    }
    events
}

/// Writes `orders` order lives one event per append, round after round (so every order
/// advances while the others do), pausing `pause` between appends; returns the orders.
pub async fn write_lives(store: PgEventStore, orders: usize, pause: Duration) -> Vec<Uuid> {
    let lives: Vec<(Uuid, Vec<OrderEvent>)> = (0..orders)
        .map(|_| {
            let id = Uuid::new_v4();
            (id, life(id, id.as_u64_pair().1))
        })
        .collect();
    let rounds = lives.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for round in 0..rounds {
        for (id, events) in &lives {
            if let Some(event) = events.get(round) {
                append(&store, *id, vec![event.clone()]).await;
                if !pause.is_zero() {
                    // Pacing the load, not synchronising.
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
    lives.into_iter().map(|(id, _)| id).collect()
}

/// Members of a consumer group, as the broker knows them.
pub async fn group_members(brokers: &str, group: &str) -> usize {
    let (brokers, group) = (brokers.to_owned(), group.to_owned());
    tokio::task::spawn_blocking(move || {
        let admin: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .ok()?;
        let list = admin
            .fetch_group_list(Some(&group), Duration::from_secs(5))
            .ok()?;
        let members = list
            .groups()
            .iter()
            .find(|g| g.name() == group && g.state() == "Stable")
            .map(|g| g.members().len());
        members
    })
    .await
    .ok()
    .flatten()
    .unwrap_or(0)
}

/// A pseudo-random duration in `[from, to)` (the moments need not be reproducible).
pub fn random_between(from: Duration, to: Duration) -> Duration {
    let r = Uuid::new_v4().as_u128() as u64;
    let span = (to - from).as_millis() as u64;
    from + Duration::from_millis(r % span.max(1))
}
