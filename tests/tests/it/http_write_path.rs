//! The command path under faults and contention, end to end: PostgreSQL backends killed
//! under load, many clients on the same orders, idempotency keys that record every
//! answer, and one bad request among good ones.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::StreamExt;
use keel_services::ServiceKind;
use keel_tests::{eventually, TestService};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::http_support::{expect_problem, order_body, order_command, place_order};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

async fn spawn_orders() -> TestService {
    TestService::spawn_with(ServiceKind::Orders, |config| {
        config.request_timeout = REQUEST_TIMEOUT;
    })
    .await
}

/// Ends every other session of the service's database, every 25 ms, until stopped.
fn kill_backends(service: &TestService, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    let url = service.db.url.clone();
    let name = service.db.name.clone();
    tokio::spawn(async move {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("the killer's connection");
        let mut killed = 0u64;
        while !stop.load(Ordering::Acquire) {
            let ended: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            )
            .bind(&name)
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
            killed += ended.into_iter().filter(|ok| *ok).count() as u64;
            // The fault's rhythm, not a wait for anything.
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        killed
    })
}

/// POST /orders with `key`; the status, the body and how long it took.
async fn place_with_key(service: &TestService, key: &str) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let response = service
        .post("/orders", &order_body())
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("the service answers");
    let status = response.status();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

#[tokio::test]
async fn killed_database_sessions_lose_nothing_and_store_nothing_twice() {
    let service = spawn_orders().await;
    let stop = Arc::new(AtomicBool::new(false));
    let killer = kill_backends(&service, Arc::clone(&stop));
    let keys: Vec<String> = (0..300).map(|n| format!("fault-{n}")).collect();
    let answers: Vec<(StatusCode, Value, Duration)> = futures::stream::iter(&keys)
        .map(|key| place_with_key(&service, key))
        .buffered(16)
        .collect()
        .await;
    stop.store(true, Ordering::Release);
    let killed = killer.await.expect("killer");
    assert!(killed > 10, "only {killed} sessions were ended");

    let mut unavailable = 0;
    for (key, (status, body, took)) in keys.iter().zip(&answers) {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::SERVICE_UNAVAILABLE,
            "{key}: {status} {body}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            unavailable += 1;
        }
        assert!(
            *took < REQUEST_TIMEOUT + Duration::from_secs(1),
            "{key} took {took:?}"
        );
    }
    // Retried with its key, every request reaches exactly one order.
    let mut orders: HashMap<&str, String> = HashMap::new();
    for (key, (status, body, _)) in keys.iter().zip(&answers) {
        let id = if *status == StatusCode::CREATED {
            body["id"].as_str().expect("id").to_owned()
        } else {
            let (status, body, _) = place_with_key(&service, key).await;
            assert_eq!(status, StatusCode::CREATED, "{key} retried: {body}");
            body["id"].as_str().expect("id").to_owned()
        };
        let (again, body, _) = place_with_key(&service, key).await;
        assert_eq!(again, StatusCode::CREATED);
        assert_eq!(body["id"], id.as_str(), "{key} names one order");
        orders.insert(key, id);
    }
    let distinct: HashSet<&String> = orders.values().collect();
    assert_eq!(distinct.len(), keys.len());
    assert_eq!(
        service.event_count().await,
        keys.len() as i64,
        "one OrderPlaced per key ({unavailable} answers were 503)"
    );
    let streams: i64 = sqlx::query_scalar("SELECT count(DISTINCT stream_id) FROM events")
        .fetch_one(&service.pool)
        .await
        .expect("count streams");
    assert_eq!(streams, keys.len() as i64);
}

#[tokio::test]
async fn sixty_concurrent_cancels_cancel_each_of_twelve_orders_once() {
    let service = spawn_orders().await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(place_order(&service).await);
    }
    let cancels = (0..60).map(|n| {
        let path = format!("/orders/{}/cancel", ids[n % 12]);
        let service = &service;
        async move {
            let response = service
                .post(&path, &json!({"reason": format!("attempt {n}")}))
                .send()
                .await
                .expect("cancel");
            (n % 12, response.status())
        }
    });
    let answers = join_all(cancels).await;
    let mut successes = vec![0; 12];
    for (order, status) in &answers {
        assert!(!status.is_server_error(), "order {order}: {status}");
        if status.is_success() {
            successes[*order] += 1;
        } else {
            assert!(status.is_client_error(), "{status}");
        }
    }
    assert_eq!(successes, vec![1; 12], "{answers:?}");
    let cancelled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderCancelled'")
            .fetch_one(&service.pool)
            .await
            .expect("count");
    assert_eq!(cancelled, 12);
}

#[tokio::test]
async fn a_key_keeps_its_refusal_and_if_match_is_part_of_the_request() {
    let service = spawn_orders().await;
    let id = place_order(&service).await;
    order_command(
        &service,
        &id,
        "cancel",
        json!({"reason": "changed my mind"}),
    )
    .await;
    let ship = |carrier: &str| {
        service
            .post(
                &format!("/orders/{id}/ship"),
                &json!({"carrier": carrier, "tracking_number": "T-1"}),
            )
            .header("Idempotency-Key", "ship-1")
    };
    let first = ship("DHL").send().await.expect("ship");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_problem(first, StatusCode::UNPROCESSABLE_ENTITY, "rule:order-closed").await;
    let again = ship("DHL").send().await.expect("ship again");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = expect_problem(again, StatusCode::UNPROCESSABLE_ENTITY, "rule:order-closed").await;
    assert_eq!(first, again, "the recorded refusal comes back as it was");
    let other = ship("UPS").send().await.expect("another body");
    expect_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;

    let second = place_order(&service).await;
    let cancel = |version: u64| {
        service
            .post(
                &format!("/orders/{second}/cancel"),
                &json!({"reason": "duplicate"}),
            )
            .header("Idempotency-Key", "cancel-1")
            .header("If-Match", version.to_string())
    };
    let done = cancel(1).send().await.expect("cancel");
    assert_eq!(done.status(), StatusCode::OK);
    let replay = cancel(1).send().await.expect("the same cancel");
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let changed = cancel(2).send().await.expect("another If-Match");
    expect_problem(
        changed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
}

#[tokio::test]
async fn idempotency_keys_expire_after_their_retention() {
    let service = TestService::spawn_with(ServiceKind::Orders, |config| {
        config.idempotency_retention = Duration::from_secs(1);
    })
    .await;
    let response = service
        .post("/orders", &order_body())
        .header("Idempotency-Key", "short-lived")
        .send()
        .await
        .expect("place");
    assert_eq!(response.status(), StatusCode::CREATED);
    let what = || "keys outlived their retention".to_owned();
    eventually(Duration::from_secs(15), what, || async {
        let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
            .fetch_one(&service.pool)
            .await
            .expect("count");
        (keys == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_nul_character_fails_only_its_own_request() {
    let service = spawn_orders().await;
    let mut bad = order_body();
    bad["customer_name"] = json!("nul\u{0}x");
    let requests = (0..21).map(|n| {
        let body = if n == 10 { bad.clone() } else { order_body() };
        let service = &service;
        async move { service.post("/orders", &body).send().await.expect("place") }
    });
    for (n, response) in join_all(requests).await.into_iter().enumerate() {
        if n == 10 {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body: Value = response.json().await.expect("problem");
            assert_eq!(body["field"], "customer_name", "{body}");
        } else {
            assert_eq!(response.status(), StatusCode::CREATED);
        }
    }
    assert_eq!(service.event_count().await, 20);
}
