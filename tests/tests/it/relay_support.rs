//! What the `relay_*` tests share: a database with an event store, topics of its own, the
//! relay as a child process pointed at them, and writers that record what they committed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keel_eventstore::contract::event;
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore};
use keel_tests::{
    eventually, kafka_brokers, unique_suffix, KeelProcess, TestDatabase, TopicWatcher,
};
use uuid::Uuid;

pub struct RelayFixture {
    pub db: TestDatabase,
    pub store: PgEventStore,
    pub topic: String,
    pub progress_topic: String,
    pub brokers: String,
    pub name: String,
}

impl RelayFixture {
    pub async fn new(name: &str) -> Self {
        Self::with_brokers(name, kafka_brokers()).await
    }

    pub async fn with_brokers(name: &str, brokers: String) -> Self {
        let db = TestDatabase::create().await;
        let store = PgEventStore::new(db.pool(16).await);
        store.migrate().await.expect("migrate");
        let suffix = unique_suffix();
        Self {
            topic: format!("orders.events.{suffix}"),
            progress_topic: format!("keel.relay.progress.{suffix}"),
            brokers,
            name: format!("{name}-{suffix}"),
            db,
            store,
        }
    }

    /// Flags for a relay of this fixture's database, plus `extra`.
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--service",
            "orders",
            "--order-database-url",
            &self.db.url,
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
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Runs `keel outbox <args>` on this fixture's database; its stdout (panics on failure).
    pub fn keel_outbox(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(keel_tests::keel_binary())
            .args(["outbox", "--order-database-url", &self.db.url])
            .args(args)
            .args(["--service", "orders"])
            .output()
            .expect("run keel outbox");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "keel outbox {args:?}: {}\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    pub fn spawn_relay(&self, instance: &str, extra: &[&str]) -> KeelProcess {
        KeelProcess::relay(&format!("{}-{instance}", self.name), &self.args(extra))
    }

    pub fn watch(&self) -> TopicWatcher {
        TopicWatcher::start(&self.brokers, &self.topic)
    }

    pub async fn backlog(&self) -> u64 {
        self.store.outbox_backlog().await.expect("backlog").rows
    }

    /// Waits until the outbox is empty.
    pub async fn wait_drained(&self, within: Duration) {
        let what = || "rows still in the outbox".to_owned();
        eventually(within, what, || async {
            (self.backlog().await == 0).then_some(())
        })
        .await
    }
}

/// The ids of every committed event, filled in by writers as their appends commit.
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<HashSet<Uuid>>>);

impl Ledger {
    pub fn add(&self, ids: impl IntoIterator<Item = Uuid>) {
        self.0.lock().expect("ledger").extend(ids);
    }

    pub fn ids(&self) -> HashSet<Uuid> {
        self.0.lock().expect("ledger").clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().expect("ledger").len()
    }
}

/// Appends `appends` batches of `per_append` events to `streams` streams of its own (round
/// robin), pausing `pause` between appends; records what committed.
pub async fn write(
    store: PgEventStore,
    ledger: Ledger,
    streams: usize,
    appends: usize,
    per_append: u64,
    pause: Duration,
) {
    let names: Vec<String> = (0..streams)
        .map(|_| format!("order-{}", Uuid::new_v4()))
        .collect();
    for n in 0..appends {
        let events: Vec<_> = (0..per_append).map(|i| event(n as u64 * 100 + i)).collect();
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let request =
            AppendRequest::new(&names[n % streams], "order", ExpectedVersion::Any, events);
        store.append(request).await.expect("append");
        ledger.add(ids);
        if !pause.is_zero() {
            // Pacing the load, not synchronising.
            tokio::time::sleep(pause).await;
        }
    }
}
