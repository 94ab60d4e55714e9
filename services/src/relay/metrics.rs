//! The relay's Prometheus metrics, per relayed database (label `database`).

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Labels {
    database: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Default)]
pub struct RelayMetrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    backlog: Family<Labels, Gauge>,
    oldest_age: Family<Labels, FloatGauge>,
    published: Family<Labels, Counter>,
    rate: Family<Labels, FloatGauge>,
    committed: Family<Labels, Counter>,
    aborted: Family<Labels, Counter>,
    leader: Family<Labels, Gauge>,
    dead_letters: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~65 s
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

impl Default for Inner {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("keel_relay");
        let inner = Inner {
            registry: Registry::default(),
            backlog: Family::default(),
            oldest_age: Family::default(),
            published: Family::default(),
            rate: Family::default(),
            committed: Family::default(),
            aborted: Family::default(),
            leader: Family::default(),
            dead_letters: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "outbox_backlog_rows",
            "Outbox rows not yet published",
            inner.backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when empty)",
            inner.oldest_age.clone(),
        );
        registry.register(
            "events_published",
            "Events published in committed Kafka transactions",
            inner.published.clone(),
        );
        registry.register(
            "events_per_second",
            "Events published per second over the last sampling interval",
            inner.rate.clone(),
        );
        registry.register(
            "transactions_committed",
            "Kafka transactions committed",
            inner.committed.clone(),
        );
        registry.register(
            "transactions_aborted",
            "Kafka transactions aborted or failed",
            inner.aborted.clone(),
        );
        registry.register(
            "leader",
            "1 while this instance publishes the database's outbox, 0 on standby",
            inner.leader.clone(),
        );
        registry.register(
            "dead_letters",
            "Outbox rows parked as dead letters",
            inner.dead_letters.clone(),
        );
        registry.register(
            "commit_to_publish_seconds",
            "From the event's recording to the commit of the Kafka transaction holding it",
            inner.latency.clone(),
        );
        Inner { registry, ..inner }
    }
}

fn labels(database: &str) -> Labels {
    Labels {
        database: database.to_owned(),
    }
}

impl RelayMetrics {
    pub fn backlog(&self, database: &str, rows: u64, oldest_age_seconds: f64) {
        let l = labels(database);
        self.inner
            .backlog
            .get_or_create(&l)
            .set(i64::try_from(rows).unwrap_or(i64::MAX));
        self.inner
            .oldest_age
            .get_or_create(&l)
            .set(oldest_age_seconds);
    }

    pub fn published(&self, database: &str, latencies: impl Iterator<Item = f64>) {
        let l = labels(database);
        let histogram = self.inner.latency.get_or_create(&l);
        let mut n = 0;
        for seconds in latencies {
            histogram.observe(seconds);
            n += 1;
        }
        self.inner.published.get_or_create(&l).inc_by(n);
        self.inner.committed.get_or_create(&l).inc();
    }

    pub fn published_total(&self, database: &str) -> u64 {
        self.inner.published.get_or_create(&labels(database)).get()
    }

    pub fn rate(&self, database: &str, per_second: f64) {
        self.inner
            .rate
            .get_or_create(&labels(database))
            .set(per_second);
    }

    pub fn aborted(&self, database: &str) {
        self.inner.aborted.get_or_create(&labels(database)).inc();
    }

    pub fn leader(&self, database: &str, leads: bool) {
        self.inner
            .leader
            .get_or_create(&labels(database))
            .set(i64::from(leads));
    }

    pub fn parked(&self, database: &str, rows: usize) {
        self.inner
            .dead_letters
            .get_or_create(&labels(database))
            .inc_by(u64::try_from(rows).unwrap_or(u64::MAX));
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }
}
