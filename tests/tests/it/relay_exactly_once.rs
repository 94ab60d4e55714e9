//! Test 1 of the relay: concurrent writers on many streams, some holding their transaction
//! open (commits landing out of position order), some rolling back, while the relay runs.
//! A read_committed consumer sees every committed event exactly once, each stream in
//! version order, and nothing that was rolled back; the outbox ends empty.

use std::time::Duration;

use keel_eventstore::contract::event;
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore};
use keel_tests::assert_exactly_once_in_order;
use uuid::Uuid;

use super::relay_support::{Ledger, RelayFixture};

const WRITERS: u64 = 12;
const APPENDS_PER_WRITER: u64 = 40;

async fn writer(store: PgEventStore, id: u64, committed: Ledger, rolled_back: Ledger) {
    let stream = format!("order-{}", Uuid::new_v4());
    for n in 0..APPENDS_PER_WRITER {
        let events = vec![event(n), event(n)];
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let request = AppendRequest::new(&stream, "order", ExpectedVersion::Any, events);
        match (id * 7 + n * 13) % 10 {
            0..=2 => {
                let mut tx = store.pool().begin().await.expect("begin");
                store
                    .append_in(&mut tx, request)
                    .await
                    .expect("append in tx");
                // The fault: a commit that lands long after later appends of other streams.
                tokio::time::sleep(Duration::from_millis(5 + (n * id) % 40)).await;
                tx.commit().await.expect("commit");
                committed.add(ids);
            }
            3 => {
                let mut tx = store.pool().begin().await.expect("begin");
                store
                    .append_in(&mut tx, request)
                    .await
                    .expect("append in tx");
                tokio::time::sleep(Duration::from_millis(5 + n % 20)).await;
                tx.rollback().await.expect("rollback");
                rolled_back.add(ids);
            }
            _ => {
                store.append(request).await.expect("append");
                committed.add(ids);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_publishes_every_committed_event_once_in_stream_order() {
    let fixture = RelayFixture::new("exactly-once").await;
    let relay = fixture.spawn_relay("a", &[]);
    let watcher = fixture.watch();
    let (committed, rolled_back) = (Ledger::default(), Ledger::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            tokio::spawn(writer(
                fixture.store.clone(),
                id,
                committed.clone(),
                rolled_back.clone(),
            ))
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    watcher
        .wait_for(committed.len(), Duration::from_secs(60))
        .await;
    fixture.wait_drained(Duration::from_secs(30)).await;
    watcher.settle(Duration::from_secs(1)).await;

    let received = watcher.received();
    assert_exactly_once_in_order(&received, &committed.ids());
    assert!(
        !rolled_back.ids().is_empty(),
        "the mix rolled something back"
    );
    assert!(received
        .iter()
        .all(|r| !rolled_back.ids().contains(&r.event_id)));

    // The message: key = stream id; headers; the envelope as `GET /orders/{id}/events` shows.
    let first = &received[0];
    assert_eq!(first.headers["event-id"], first.event_id.to_string());
    assert_eq!(first.headers["event-type"], "Counted");
    assert_eq!(first.headers["schema-version"], "1");
    assert_eq!(first.headers["stream-version"], first.version.to_string());
    assert!(first.value["global_position"].as_u64().is_some());
    assert_eq!(first.value["payload"]["n"].as_u64().map(|_| ()), Some(()));
    assert!(first.value["metadata"]["correlation_id"].is_string());

    let metrics = relay.metrics().await;
    assert!(
        metrics.contains("keel_relay_events_published_total"),
        "{metrics}"
    );
    assert!(metrics.contains("keel_relay_leader{database="), "{metrics}");
    relay.wait_ready(true, Duration::from_secs(5)).await;
}
