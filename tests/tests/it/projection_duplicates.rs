//! Search projector test (b): duplicates and reordering. Events are produced straight onto
//! the test topic (no relay), so the test chooses what arrives and in which order: an
//! already-applied batch again and an old version after a newer one leave the document
//! untouched (not even rewritten); a document whose first events never arrived is completed
//! from the event store.

use std::time::Duration;

use keel_schemas::order::{OrderConfirmed, OrderEvent, PaymentAuthorised};
use keel_tests::{eventually, KeelProcess, StoredDocument};
use uuid::Uuid;

use super::projection_support::{life, placed, ProjectionFixture};

const WITHIN: Duration = Duration::from_secs(30);

async fn wait_metric(projector: &KeelProcess, name: &str, at_least: f64) {
    let what = || format!("{name} never reached {at_least}");
    eventually(WITHIN, what, || async {
        (projector.metric(name).await >= at_least).then_some(())
    })
    .await
}

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
async fn duplicates_and_late_versions_leave_the_document_unchanged() {
    let fixture = ProjectionFixture::new("duplicates").await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    fixture.append(a, full_life(a)).await;
    fixture
        .append(
            b,
            vec![
                placed(b),
                OrderEvent::PaymentAuthorised(PaymentAuthorised {
                    payment_id: Uuid::new_v4(),
                }),
            ],
        )
        .await;
    let (a_events, b_events) = (fixture.stream(a).await, fixture.stream(b).await);
    assert_eq!(a_events.len(), 5);
    let projector = fixture.spawn_projector("a", &[]);
    fixture.produce_events(&a_events).await;
    fixture.produce_events(&b_events).await;
    fixture.wait_projected(&[a, b], WITHIN).await;
    let before = fixture.index.documents(&[a, b]).await;
    wait_metric(&projector, "keel_projector_events_applied_total", 7.0).await;
    let written = "keel_projector_search_documents_written_total";
    let written_before = projector.metric(written).await;

    // The already-applied batch again, then old versions after the newer ones.
    fixture.produce_events(&a_events).await;
    fixture.produce_events(&b_events).await;
    fixture
        .produce_events(&[a_events[1].clone(), b_events[0].clone()])
        .await;
    // All 9 were consumed and found stale (the counter moves before the commit).
    wait_metric(&projector, "keel_projector_search_events_stale_total", 9.0).await;
    wait_metric(&projector, "keel_projector_events_applied_total", 16.0).await;
    let after = fixture.index.documents(&[a, b]).await;
    for id in [a, b] {
        assert_eq!(after[&id], before[&id], "document {id} changed");
    }
    assert_eq!(after[&a].version, 5);
    assert_eq!(after[&a].source["status"], "delivered");
    assert_eq!(after[&b].version, 2);
    assert_eq!(
        projector.metric(written).await,
        written_before,
        "nothing was rewritten"
    );
    assert_eq!(
        projector.metric("keel_projector_dead_letters_total").await,
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_whose_first_events_never_arrived_is_completed_from_the_event_store() {
    let fixture = ProjectionFixture::new("history").await;
    let order = Uuid::new_v4();
    fixture.append(order, full_life(order)).await;
    let events = fixture.stream(order).await;
    let projector = fixture.spawn_projector("a", &[]);

    // Only version 4 arrives (a fresh index, a topic whose retention dropped the rest).
    fixture.produce_events(&events[3..4]).await;
    let doc = at_version(&fixture, order, 4).await;
    assert_eq!(doc.source["status"], "shipped");
    assert_eq!(doc.source["customer_name"], "Grace Hopper");
    assert_eq!(doc.source["total"], 3_000);
    assert_eq!(doc.source["payment_id"], events[1].payload["payment_id"]);
    assert_eq!(
        projector
            .metric("keel_projector_search_history_reads_total")
            .await,
        1.0
    );

    // The older versions arrive late: nothing changes; then the newest one applies.
    fixture.produce_events(&events[..3]).await;
    wait_metric(&projector, "keel_projector_search_events_stale_total", 3.0).await;
    assert_eq!(fixture.index.document(order).await.as_ref(), Some(&doc));
    fixture.produce_events(&events[4..]).await;
    let doc = at_version(&fixture, order, 5).await;
    assert_eq!(doc.source["status"], "delivered");
    assert_eq!(
        projector
            .metric("keel_projector_search_history_reads_total")
            .await,
        1.0,
        "the last event followed the document without a hole"
    );
}

/// Placed, paid, confirmed, shipped, delivered.
fn full_life(order: Uuid) -> Vec<OrderEvent> {
    let events = life(order, 4);
    assert_eq!(events.len(), 5);
    assert!(matches!(
        events[2],
        OrderEvent::OrderConfirmed(OrderConfirmed {})
    ));
    events
}
