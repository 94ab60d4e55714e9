//! The runner's settings; every field has a default that matches `scripts/stack env`.

use std::time::Duration;

use super::Backoff;

/// Events per batch, at most.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;
/// How long a batch waits for more events after its first one.
pub const DEFAULT_BATCH_TIMEOUT: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub brokers: String,
    /// The consumer group; `keel-projector-<name>` when `None`. Instances with the same
    /// group share the partitions.
    pub group_id: Option<String>,
    /// Where poison events go; `keel.dead-letters.<name>` when `None`.
    pub dead_letter_topic: Option<String>,
    pub batch_size: usize,
    pub batch_timeout: Duration,
    /// Between tries of a batch that failed transiently (and of dead-letter sends).
    pub backoff: Backoff,
    /// The longest one Kafka admin or metadata call may take.
    pub kafka_timeout: Duration,
    /// Partitions and replication of topics the runner creates when they are missing (its
    /// source topics, like the relay, and its dead-letter topic).
    pub topic_partitions: i32,
    pub topic_replication: i32,
    /// How often librdkafka reports consumer lag (the `consumer_lag` gauge).
    pub statistics_interval: Duration,
    /// Further librdkafka consumer settings (`session.timeout.ms`, ...), applied last.
    pub consumer_overrides: Vec<(String, String)>,
}

impl RunnerConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            group_id: None,
            dead_letter_topic: None,
            batch_size: DEFAULT_BATCH_SIZE,
            batch_timeout: DEFAULT_BATCH_TIMEOUT,
            backoff: Backoff::default(),
            kafka_timeout: Duration::from_secs(10),
            topic_partitions: 6,
            topic_replication: 1,
            statistics_interval: Duration::from_secs(5),
            consumer_overrides: Vec::new(),
        }
    }

    pub fn group_id_for(&self, projector: &str) -> String {
        self.group_id
            .clone()
            .unwrap_or_else(|| format!("keel-projector-{projector}"))
    }

    pub fn dead_letter_topic_for(&self, projector: &str) -> String {
        self.dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("keel.dead-letters.{projector}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_to_the_projector_and_can_be_overridden() {
        let mut config = RunnerConfig::new("127.0.0.1:9092");
        assert_eq!(config.group_id_for("search"), "keel-projector-search");
        assert_eq!(
            config.dead_letter_topic_for("search"),
            "keel.dead-letters.search"
        );
        config.group_id = Some("g".into());
        config.dead_letter_topic = Some("dl".into());
        assert_eq!(config.group_id_for("search"), "g");
        assert_eq!(config.dead_letter_topic_for("search"), "dl");
    }
}
