//! The global log never skips a committed event, however transactions interleave.
//!
//! Writers append concurrently; some hold their transaction open for a while (so events
//! with lower positions commit after higher ones), some roll back. A reader follows
//! `read_all` meanwhile and must see every committed event exactly once, each stream in
//! version order, and nothing that was rolled back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use keel_eventstore::{
    contract::{event, unique_stream},
    AppendRequest, EventStore, ExpectedVersion, GlobalCheckpoint, PgEventStore,
};
use keel_tests::TestDatabase;
use tokio::sync::Mutex;
use uuid::Uuid;

const WRITERS: u64 = 12;
const APPENDS_PER_WRITER: u64 = 40;

#[derive(Default)]
struct Ledger {
    committed: HashSet<Uuid>,
    rolled_back: HashSet<Uuid>,
}

async fn writer(store: PgEventStore, id: u64, ledger: Arc<Mutex<Ledger>>) {
    let stream = unique_stream();
    for n in 0..APPENDS_PER_WRITER {
        let events = vec![event(n), event(n)];
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let request = AppendRequest::new(&stream, "gap", ExpectedVersion::Any, events);
        // A deterministic mix per writer and step: plain appends, slow commits, rollbacks.
        match (id * 7 + n * 13) % 10 {
            0..=2 => {
                let mut tx = store.pool().begin().await.expect("begin");
                store
                    .append_in(&mut tx, request)
                    .await
                    .expect("append in tx");
                // The fault being injected: a commit that lands long after later inserts.
                tokio::time::sleep(Duration::from_millis(5 + (n * id) % 40)).await;
                tx.commit().await.expect("commit");
                ledger.lock().await.committed.extend(ids);
            }
            3 => {
                let mut tx = store.pool().begin().await.expect("begin");
                store
                    .append_in(&mut tx, request)
                    .await
                    .expect("append in tx");
                tokio::time::sleep(Duration::from_millis(5 + n % 20)).await;
                tx.rollback().await.expect("rollback");
                ledger.lock().await.rolled_back.extend(ids);
            }
            _ => {
                store.append(request).await.expect("append");
                ledger.lock().await.committed.extend(ids);
            }
        }
    }
}

/// Checks, as it reads, that no event comes twice and each stream comes in version order.
#[derive(Default)]
struct Follower {
    seen: HashSet<Uuid>,
    last_version: HashMap<String, u64>,
}

impl Follower {
    fn take(&mut self, batch: Vec<keel_schemas::EventEnvelope>) {
        for e in batch {
            assert!(
                self.seen.insert(e.event_id),
                "event {} delivered twice",
                e.event_id
            );
            let last = self.last_version.entry(e.stream_id.clone()).or_default();
            assert_eq!(
                e.stream_version,
                *last + 1,
                "stream {} out of order",
                e.stream_id
            );
            *last = e.stream_version;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reader_sees_every_committed_event_once_in_stream_order() {
    let db = TestDatabase::create().await;
    let store = PgEventStore::new(db.pool(WRITERS as u32 + 4).await);
    store.migrate().await.expect("migrate");
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(store.clone(), id, Arc::clone(&ledger))))
        .collect();

    let mut checkpoint = GlobalCheckpoint::START;
    let mut reader = Follower::default();
    // Follow the log while the writers run, in small batches so the reader is often
    // right at the horizon.
    while !writers.iter().all(|w| w.is_finished()) {
        let batch = store.read_all(checkpoint, 17).await.expect("read all");
        checkpoint = batch.checkpoint;
        reader.take(batch.events.into_iter().map(|g| g.event).collect());
        tokio::task::yield_now().await;
    }
    for w in writers {
        w.await.expect("writer");
    }
    // Drain what is left, with a deadline. An empty batch is not the end: a transaction
    // elsewhere on the server (another test's database) can hold the horizon back.
    let committed = ledger.lock().await.committed.len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while reader.seen.len() < committed {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reader did not catch up"
        );
        let batch = store.read_all(checkpoint, 500).await.expect("read all");
        if batch.events.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        checkpoint = batch.checkpoint;
        reader.take(batch.events.into_iter().map(|g| g.event).collect());
    }
    let rest = store.read_all(checkpoint, 500).await.expect("read all");
    assert!(rest.events.is_empty(), "events beyond the committed ones");

    let ledger = ledger.lock().await;
    assert!(!ledger.rolled_back.is_empty() && ledger.committed.len() > 500);
    let missing = ledger.committed.difference(&reader.seen).count();
    assert_eq!(
        missing, 0,
        "{missing} committed events were skipped by the reader"
    );
    assert!(
        reader.seen.is_disjoint(&ledger.rolled_back),
        "a rolled-back event was read"
    );
    assert_eq!(reader.seen.len(), ledger.committed.len());
}
