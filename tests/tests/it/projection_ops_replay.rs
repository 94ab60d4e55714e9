//! `keel projections replay search`: events the projector never received (appended to the
//! event store, never published) leave documents behind their streams; a replay from the
//! first of them re-applies them in place and verify is clean again, and a second replay
//! changes nothing. `--force` from a time folds the streams again from their first event
//! and repairs a document changed at its own version, which a plain replay leaves alone.

use std::time::Duration;

use keel_schemas::order::{OrderConfirmed, OrderEvent, PaymentAuthorised};
use serde_json::json;
use uuid::Uuid;

use super::projection_ops_support::{
    append_orders, put_document, run, summary_number, Generations,
};
use super::projection_support::{stream_id, ProjectionFixture};

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_re_applies_missed_events_and_force_refolds_a_changed_document() {
    let fixture = ProjectionFixture::new("ops-replay").await;
    let _generations = Generations::of(&fixture);
    let alias = fixture.index.alias.clone();
    // No relay: the test publishes what the projector is to see.
    let _projector = fixture.spawn_projector("live", &[]);
    let orders = append_orders(&fixture.store, 30, 8).await;
    for order in &orders {
        fixture.produce_events(&fixture.stream(*order).await).await;
    }
    fixture.wait_projected(&orders, WITHIN).await;
    // The first event recorded: a replay from its time covers every stream.
    let mut first_recorded = fixture.stream(orders[0]).await[0].recorded_at;
    for order in &orders {
        first_recorded = first_recorded.min(fixture.stream(*order).await[0].recorded_at);
    }

    // Events appended but never published: the documents fall behind.
    let missed: Vec<Uuid> = vec![Uuid::new_v4(), Uuid::new_v4()];
    let mut first_missed = None;
    for order in &missed {
        fixture
            .append(*order, vec![super::projection_support::placed(*order)])
            .await;
        let stream = fixture.stream(*order).await;
        first_missed.get_or_insert(stream[0].global_position);
        fixture.produce_events(&stream).await;
    }
    fixture.wait_projected(&missed, WITHIN).await;
    let first_missed = first_missed.expect("a position");
    for order in &missed {
        fixture
            .append(
                *order,
                vec![
                    OrderEvent::PaymentAuthorised(PaymentAuthorised {
                        payment_id: Uuid::new_v4(),
                    }),
                    OrderEvent::OrderConfirmed(OrderConfirmed {}),
                ],
            )
            .await;
    }
    let behind = run(&fixture, &["verify", "search"]).await;
    assert_eq!(behind.code, Some(1), "{behind}");
    assert!(
        behind.stdout.contains("2 differences: 2 version"),
        "{behind}"
    );

    let from = first_missed.to_string();
    let replay = run(&fixture, &["replay", "search", "--from", &from]).await;
    assert!(replay.success(), "{replay}");
    assert_eq!(summary_number(&replay.stdout, "events"), 6, "{replay}");
    assert_eq!(summary_number(&replay.stdout, "streams"), 2, "{replay}");
    assert_eq!(
        summary_number(&replay.stdout, "documents written"),
        2,
        "{replay}"
    );
    let docs = fixture.index.documents(&missed).await;
    for order in &missed {
        assert_eq!(docs[order].version, 3, "{order}: {:?}", docs[order]);
        assert_eq!(docs[order].source["status"], "confirmed");
    }
    let clean = run(&fixture, &["verify", "search"]).await;
    assert!(clean.success(), "{clean}");
    let again = run(&fixture, &["replay", "search", "--from", &from]).await;
    assert!(again.success(), "{again}");
    assert_eq!(
        summary_number(&again.stdout, "documents written"),
        0,
        "{again}"
    );

    // A document changed at its own version: only a forced replay rewrites it.
    let damaged = orders[3];
    let mut source = fixture
        .index
        .document(damaged)
        .await
        .expect("a document")
        .source;
    source["customer_name"] = json!("Someone Else");
    put_document(&alias, &source).await;
    let plain = run(&fixture, &["replay", "search", "--from", "1"]).await;
    assert!(plain.success(), "{plain}");
    let still = run(&fixture, &["verify", "search"]).await;
    assert_eq!(still.code, Some(1), "{still}");
    assert!(
        still
            .stdout
            .contains(&format!("{}: fields: customer_name", stream_id(damaged))),
        "{still}"
    );
    let since = first_recorded.to_rfc3339();
    let forced = run(&fixture, &["replay", "search", "--from", &since, "--force"]).await;
    assert!(forced.success(), "{forced}");
    assert_eq!(summary_number(&forced.stdout, "streams"), 32, "{forced}");
    let repaired = run(&fixture, &["verify", "search"]).await;
    assert!(repaired.success(), "{repaired}");
    assert_eq!(
        fixture
            .index
            .document(damaged)
            .await
            .expect("a document")
            .source["customer_name"],
        "Grace Hopper"
    );
}
