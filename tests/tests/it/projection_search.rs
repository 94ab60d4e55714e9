//! Search projector test (a): orders placed and advanced over HTTP reach Elasticsearch
//! through the relay and the projector, as documents with the order's fields at its
//! stream version, and follow every later event.

use std::time::Duration;

use keel_services::ServiceKind;
use keel_tests::{eventually, StoredDocument, TestService};
use serde_json::json;
use uuid::Uuid;

use super::http_support::{order_command, place_order};
use super::projection_support::ProjectionFixture;

const WITHIN: Duration = Duration::from_secs(30);

async fn at_version(fixture: &ProjectionFixture, id: Uuid, version: u64) -> StoredDocument {
    let what = || format!("document {id} never reached version {version}");
    eventually(WITHIN, what, || async {
        fixture
            .index
            .document(id)
            .await
            .filter(|d| d.version == version)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_advanced_over_http_become_documents_at_their_stream_version() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let fixture = ProjectionFixture::for_service("http", &service);
    let _relay = fixture.spawn_relay();
    let projector = fixture.spawn_projector("a", &[]);

    let id: Uuid = place_order(&service).await.parse().expect("uuid");
    let doc = at_version(&fixture, id, 1).await;
    let source = &doc.source;
    assert_eq!(source["order_id"], id.to_string());
    assert_eq!(
        source["customer_id"],
        "0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59"
    );
    assert_eq!(source["customer_name"], "Ada Lovelace");
    assert_eq!(source["currency"], "EUR");
    assert_eq!(source["total"], 2 * 1250 + 3 * 99);
    assert_eq!(source["status"], "placed");
    assert_eq!(source["version"], 1);
    assert_eq!(source["lines"][0]["sku"], "SKU-1");
    assert_eq!(source["lines"][1]["unit_price"], 99);
    assert_eq!(source["payment_id"], serde_json::Value::Null);
    assert_eq!(source["placed_at"], source["updated_at"]);

    let payment = "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a";
    order_command(
        &service,
        &id.to_string(),
        "payment-authorized",
        json!({"payment_id": payment}),
    )
    .await;
    order_command(&service, &id.to_string(), "confirm", json!({})).await;
    let shipped = order_command(
        &service,
        &id.to_string(),
        "ship",
        json!({"carrier": "DHL", "tracking_number": "JD0146"}),
    )
    .await;
    let doc = at_version(&fixture, id, 4).await;
    let source = &doc.source;
    assert_eq!(source["status"], "shipped");
    assert_eq!(source["payment_id"], payment);
    assert_eq!(source["shipment"]["carrier"], "DHL");
    assert_eq!(source["shipment"]["tracking_number"], "JD0146");
    assert_eq!(source["version"], shipped["version"]);
    assert_ne!(source["placed_at"], source["updated_at"]);

    // A second order, cancelled: its reason is searchable; the first is untouched.
    let other: Uuid = place_order(&service).await.parse().expect("uuid");
    order_command(
        &service,
        &other.to_string(),
        "cancel",
        json!({"reason": "found it cheaper"}),
    )
    .await;
    let cancelled = at_version(&fixture, other, 2).await;
    assert_eq!(cancelled.source["status"], "cancelled");
    assert_eq!(cancelled.source["cancellation_reason"], "found it cheaper");
    let hits = fixture
        .index
        .search(json!({ "match": { "cancellation_reason": "cheaper" } }))
        .await;
    assert_eq!(hits, vec![other]);
    let hits = fixture
        .index
        .search(json!({ "match": { "customer_name": "lovelace" } }))
        .await;
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(
        fixture.index.indexes().await,
        vec![format!("{}-v1", fixture.index.alias)]
    );

    let ready = projector.readiness().await.expect("an answer");
    assert!(ready.ready(), "{}", ready.body);
    // Six events, each applied once (the counter moves just after the write is acknowledged).
    let what = || "the projector did not count six applied events".to_owned();
    eventually(WITHIN, what, || async {
        let applied = projector
            .metric("keel_projector_events_applied_total")
            .await;
        (applied == 6.0).then_some(())
    })
    .await;
    assert_eq!(
        projector.metric("keel_projector_dead_letters_total").await,
        0.0
    );
    assert_eq!(
        projector
            .metric("keel_projector_search_events_stale_total")
            .await,
        0.0
    );
    // Lag per partition, from librdkafka's statistics (every 5 s): caught up, each partition
    // that received a transaction is one behind its end, the transaction's commit marker.
    let what = || "no consumer lag reported".to_owned();
    let lags = eventually(Duration::from_secs(15), what, || async {
        let text = projector.metrics().await;
        let lags: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with("keel_projector_consumer_lag{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect();
        (lags.len() == 6).then_some(lags)
    })
    .await;
    assert!(lags.iter().all(|lag| *lag <= 1.0), "{lags:?}");
}
