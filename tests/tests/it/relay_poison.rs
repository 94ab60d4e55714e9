//! Test 5 of the relay: poison rows (an event too large for Kafka, an event whose stored
//! metadata cannot be decoded) are parked with their reason; their own stream stops behind
//! them (later events are parked too, in order); every other stream keeps flowing; a
//! re-drive after the fix publishes the stream's rest in order.

use std::collections::HashSet;
use std::time::Duration;

use keel_eventstore::contract::event;
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion};
use keel_schemas::NewEvent;
use uuid::Uuid;

use super::relay_support::RelayFixture;

async fn append(fixture: &RelayFixture, stream: &str, events: Vec<NewEvent>) -> Vec<Uuid> {
    let ids = events.iter().map(|e| e.event_id).collect();
    let request = AppendRequest::new(stream, "order", ExpectedVersion::Any, events);
    fixture.store.append(request).await.expect("append");
    ids
}

fn big_event() -> NewEvent {
    let mut e = event(0);
    e.payload = serde_json::json!({ "blob": "x".repeat(30_000) });
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_rows_are_parked_and_other_streams_keep_flowing() {
    let fixture = RelayFixture::new("poison").await;
    let (good, big, corrupt) = (
        format!("order-{}", Uuid::new_v4()),
        format!("order-{}", Uuid::new_v4()),
        format!("order-{}", Uuid::new_v4()),
    );
    let mut expected: HashSet<Uuid> = HashSet::new();
    expected.extend(append(&fixture, &good, vec![event(1), event(2)]).await);
    expected.extend(append(&fixture, &big, vec![event(1)]).await);
    let big_poison = append(&fixture, &big, vec![big_event()]).await[0];
    let big_behind = append(&fixture, &big, vec![event(3)]).await[0];
    expected.extend(append(&fixture, &corrupt, vec![event(1)]).await);
    let corrupt_poison = append(&fixture, &corrupt, vec![event(2)]).await[0];
    let corrupt_behind = append(&fixture, &corrupt, vec![event(3)]).await[0];
    // Stored metadata the relay cannot decode (what a bad migration or manual edit leaves).
    sqlx::query("UPDATE events SET metadata = '{\"correlation_id\": 12}' WHERE event_id = $1")
        .bind(corrupt_poison)
        .execute(fixture.store.pool())
        .await
        .expect("corrupt one event");

    let relay = fixture.spawn_relay("a", &["--max-message-bytes", "20000"]);
    let watcher = fixture.watch();
    watcher
        .wait_for(expected.len(), Duration::from_secs(60))
        .await;
    // The good stream keeps flowing; the poisoned streams' later events wait.
    expected.extend(append(&fixture, &good, vec![event(3)]).await);
    let big_later = append(&fixture, &big, vec![event(4)]).await[0];
    watcher
        .wait_for(expected.len(), Duration::from_secs(30))
        .await;
    fixture.wait_drained(Duration::from_secs(30)).await;

    let received = watcher.received();
    let got: HashSet<Uuid> = received.iter().map(|r| r.event_id).collect();
    assert_eq!(
        got, expected,
        "exactly the events before and beside the poison rows"
    );

    let parked = fixture
        .store
        .outbox_dead_letters()
        .await
        .expect("dead letters");
    let mut reasons = std::collections::HashMap::new();
    for id in [
        big_poison,
        corrupt_poison,
        big_behind,
        big_later,
        corrupt_behind,
    ] {
        let position = position_of(&fixture, id).await;
        let reason = parked
            .iter()
            .find(|d| d.position == position)
            .map(|d| d.reason.clone())
            .unwrap_or_else(|| panic!("event {id} is not parked: {parked:?}"));
        reasons.insert(id, reason);
    }
    assert!(
        reasons[&big_poison].contains("over the limit"),
        "{reasons:?}"
    );
    assert!(reasons[&corrupt_poison].contains("metadata"), "{reasons:?}");
    for behind in [big_behind, big_later, corrupt_behind] {
        assert!(reasons[&behind].contains("behind"), "{reasons:?}");
    }
    assert_eq!(parked.len(), 5);
    // What an operator sees: each parked row with its stream and reason.
    let listed = fixture.keel_outbox(&["dead-letters"]);
    assert!(listed.contains("order-service: 5 dead letters"), "{listed}");
    for stream in [&big, &corrupt] {
        assert_eq!(
            listed.matches(stream.as_str()).count(),
            if *stream == big { 3 } else { 2 },
            "{listed}"
        );
    }
    let metrics = relay.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("keel_relay_dead_letters_total{") && l.ends_with(" 5")),
        "{metrics}"
    );

    // The operator fixes the event and re-drives its stream: the rest arrives, in order.
    sqlx::query("UPDATE events SET metadata = '{}' WHERE event_id = $1")
        .bind(corrupt_poison)
        .execute(fixture.store.pool())
        .await
        .expect("fix the event");
    let redriven = fixture.keel_outbox(&["redrive", &corrupt]);
    assert!(
        redriven.contains(&format!("2 rows of {corrupt} back in the outbox")),
        "{redriven}"
    );
    watcher
        .wait_for(expected.len() + 2, Duration::from_secs(30))
        .await;
    let versions: Vec<u64> = watcher
        .received()
        .iter()
        .filter(|r| r.stream_id == corrupt)
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
}

/// Position of the event `id` (the dead letters name rows by position).
async fn position_of(fixture: &RelayFixture, id: Uuid) -> u64 {
    let position: i64 = sqlx::query_scalar("SELECT position FROM events WHERE event_id = $1")
        .bind(id)
        .fetch_one(fixture.store.pool())
        .await
        .expect("position");
    position as u64
}
