//! Search projector test (d): poison messages (a value that is not an event envelope, and an
//! envelope whose event no version of the schema knows) land in the dead-letter topic with
//! the error and where they were read; the other orders' events, before and after them,
//! still apply.

use std::time::Duration;

use keel_schemas::EventMetadata;
use keel_services::http::response::EventView;
use keel_tests::{eventually, DeadLetterWatcher};
use uuid::Uuid;

use super::projection_support::{life, stream_id, ProjectionFixture};

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_and_other_orders_keep_flowing() {
    let fixture = ProjectionFixture::new("poison").await;
    let dead_letters = DeadLetterWatcher::start(&fixture.brokers, &fixture.dead_letter_topic);
    let _relay = fixture.spawn_relay();
    let projector = fixture.spawn_projector("a", &[]);
    let first = Uuid::new_v4();
    fixture.append(first, life(first, 2)).await;
    fixture.wait_projected(&[first], WITHIN).await;

    // Poison: a value that is not an envelope, and an event of an unknown type.
    let broken = Uuid::new_v4();
    fixture
        .produce(&stream_id(broken), b"this is not an event")
        .await;
    let strange = Uuid::new_v4();
    let mut unknown = fixture.stream(first).await[0].clone();
    unknown.event_id = Uuid::now_v7();
    unknown.stream_id = stream_id(strange);
    unknown.event_type = "OrderTeleported".into();
    unknown.metadata = EventMetadata::default();
    let value = serde_json::to_vec(&EventView::from(unknown)).expect("JSON");
    fixture.produce(&stream_id(strange), &value).await;

    // Later events of other orders still apply.
    let later: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (n, order) in later.iter().enumerate() {
        fixture.append(*order, life(*order, n as u64)).await;
    }
    let mut all = later.clone();
    all.push(first);
    fixture.wait_projected(&all, WITHIN).await;

    let letters = dead_letters.wait_for(2, WITHIN).await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    let by_key = |order: Uuid| {
        letters
            .iter()
            .find(|l| l["key"] == stream_id(order))
            .unwrap_or_else(|| panic!("no dead letter for {order}: {letters:?}"))
    };
    let garbage = by_key(broken);
    assert_eq!(garbage["projector"], "search");
    assert_eq!(garbage["topic"], fixture.topic);
    assert!(garbage["offset"].as_i64().is_some(), "{garbage}");
    assert_eq!(garbage["event"], "this is not an event");
    assert!(
        garbage["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not an event envelope"),
        "{garbage}"
    );
    let teleported = by_key(strange);
    assert_eq!(teleported["event"]["event_type"], "OrderTeleported");
    assert!(
        teleported["error"]
            .as_str()
            .unwrap_or_default()
            .contains("OrderTeleported"),
        "{teleported}"
    );
    assert!(fixture.index.document(broken).await.is_none());
    assert!(fixture.index.document(strange).await.is_none());
    let what = || "the projector did not count two dead letters".to_owned();
    eventually(WITHIN, what, || async {
        (projector.metric("keel_projector_dead_letters_total").await == 2.0).then_some(())
    })
    .await;
    let ready = projector.readiness().await.expect("an answer");
    assert!(
        ready.ready(),
        "poison does not make the projector unready: {}",
        ready.body
    );
}
