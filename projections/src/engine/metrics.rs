//! The runner's Prometheus metrics (prefix `keel_projector`, label `projector`), in a
//! registry of its own per runner (tests run several in one process). The projector adds
//! its own metrics to the same registry.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProjectorLabels {
    projector: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ErrorLabels {
    projector: String,
    /// `transient` (a batch retried), `poison` (events dead-lettered), `dead_letter` (a
    /// dead-letter send retried), `commit` (an offset commit failed), `kafka` (consumer).
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PartitionLabels {
    projector: String,
    topic: String,
    partition: String,
}

/// What the runner counts; cheap to clone.
#[derive(Clone)]
pub struct EngineMetrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    projector: ProjectorLabels,
    applied: Counter,
    batch_seconds: Histogram,
    errors: Family<ErrorLabels, Counter>,
    dead_letters: Counter,
    lag: Family<PartitionLabels, Gauge>,
}

impl EngineMetrics {
    /// A registry for `projector`, with the projector's own metrics added by `register`.
    pub fn new(projector: &str, register: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_prefix("keel_projector");
        let labels = ProjectorLabels {
            projector: projector.to_owned(),
        };
        let applied = Family::<ProjectorLabels, Counter>::default();
        let batch_seconds =
            Family::<ProjectorLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                // 1 ms .. ~65 s
                || Histogram::new(exponential_buckets(0.001, 2.0, 17)),
            );
        let dead_letters = Family::<ProjectorLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "events_applied",
            "Events applied to the read model (rate() gives events/s)",
            applied.clone(),
        );
        registry.register(
            "batch_seconds",
            "From a batch's first event received to its offsets committed",
            batch_seconds.clone(),
        );
        registry.register(
            "errors",
            "Failures by kind: transient (batch retried), poison, dead_letter, commit, kafka",
            errors.clone(),
        );
        registry.register(
            "dead_letters",
            "Events sent to the dead-letter topic",
            dead_letters.clone(),
        );
        registry.register(
            "consumer_lag",
            "Messages behind the partition's end, by the group's committed offset (a \
             transactional topic's commit marker counts as one)",
            lag.clone(),
        );
        register(&mut registry);
        let inner = Inner {
            applied: applied.get_or_create(&labels).clone(),
            batch_seconds: batch_seconds.get_or_create(&labels).clone(),
            dead_letters: dead_letters.get_or_create(&labels).clone(),
            errors,
            lag,
            projector: labels,
            registry,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn applied(&self, events: usize) {
        self.inner
            .applied
            .inc_by(u64::try_from(events).unwrap_or(u64::MAX));
    }

    pub fn applied_total(&self) -> u64 {
        self.inner.applied.get()
    }

    pub fn batch_seconds(&self, seconds: f64) {
        self.inner.batch_seconds.observe(seconds);
    }

    pub fn error(&self, kind: &str) {
        let labels = ErrorLabels {
            projector: self.inner.projector.projector.clone(),
            kind: kind.to_owned(),
        };
        self.inner.errors.get_or_create(&labels).inc();
    }

    pub fn dead_lettered(&self, events: usize) {
        self.inner
            .dead_letters
            .inc_by(u64::try_from(events).unwrap_or(u64::MAX));
    }

    fn partition(&self, topic: &str, partition: i32) -> PartitionLabels {
        PartitionLabels {
            projector: self.inner.projector.projector.clone(),
            topic: topic.to_owned(),
            partition: partition.to_string(),
        }
    }

    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        self.inner
            .lag
            .get_or_create(&self.partition(topic, partition))
            .set(lag);
    }

    /// A partition this instance no longer owns reports no lag of its own.
    pub fn forget_partition(&self, topic: &str, partition: i32) {
        self.inner.lag.remove(&self.partition(topic, partition));
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_labelled_by_projector() {
        let metrics = EngineMetrics::new("search", |_| {});
        metrics.applied(3);
        metrics.error("transient");
        metrics.dead_lettered(2);
        metrics.lag("orders.events", 4, 17);
        metrics.batch_seconds(0.01);
        let text = metrics.encode().unwrap();
        assert!(text.contains("keel_projector_events_applied_total{projector=\"search\"} 3"));
        assert!(
            text.contains("keel_projector_errors_total{projector=\"search\",kind=\"transient\"} 1")
        );
        assert!(text.contains("keel_projector_dead_letters_total{projector=\"search\"} 2"));
        assert!(text.contains(
            "keel_projector_consumer_lag{projector=\"search\",topic=\"orders.events\",partition=\"4\"} 17"
        ));
        metrics.forget_partition("orders.events", 4);
        assert!(!metrics.encode().unwrap().contains("partition=\"4\""));
        assert_eq!(metrics.applied_total(), 3);
    }
}
