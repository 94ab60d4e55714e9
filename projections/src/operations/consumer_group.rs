//! Where a projector's consumer group stands, asked from outside the group (nothing joins
//! it, so the running instances are not rebalanced): per partition the committed offset,
//! the end, the lag in messages and in seconds, and the last event it applied.
//!
//! Lag in seconds is the age of the oldest message not yet consumed (0 when there is none);
//! the last applied message's time says how long the group has had nothing new. The relay
//! writes in transactions, so a partition's end is one past a commit marker that is never
//! delivered: a caught-up group shows a lag of 1 message and 0 seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::OperationError;
use crate::engine::RunnerConfig;

/// Messages read before the committed offset to find the last applied one (commit markers
/// of transactions sit between them).
const LOOK_BACK: i64 = 4;

/// A projector's Kafka side: brokers, consumer group, source topics, dead-letter topic.
#[derive(Debug, Clone)]
pub struct KafkaTarget {
    pub brokers: String,
    pub group: String,
    pub topics: Vec<String>,
    pub dead_letter_topic: String,
    /// The longest one Kafka call may take.
    pub timeout: Duration,
}

impl KafkaTarget {
    /// The names a runner with `config` uses for the projector `name`.
    pub fn new(config: &RunnerConfig, name: &str, topics: Vec<String>) -> Self {
        Self {
            brokers: config.brokers.clone(),
            group: config.group_id_for(name),
            topics,
            dead_letter_topic: config.dead_letter_topic_for(name),
            timeout: config.kafka_timeout,
        }
    }

    /// The consumer group whose committed offsets mark the dead letters already re-driven.
    pub fn redrive_group(&self) -> String {
        format!("{}-redrive", self.group)
    }

    pub(crate) fn error(&self, e: impl std::fmt::Display) -> OperationError {
        OperationError::Kafka {
            brokers: self.brokers.clone(),
            reason: e.to_string(),
        }
    }

    /// A consumer that reads assigned partitions (committed data only) and never joins
    /// nor commits: librdkafka wants a group id even so, a throwaway one.
    pub(crate) fn reader(&self) -> Result<BaseConsumer<Reading>, OperationError> {
        ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set(
                "group.id",
                format!("keel-projections-reader-{}", uuid::Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true")
            .create_with_context(Reading)
            .map_err(|e| self.error(e))
    }

    /// A client of `group` that never subscribes (so never joins it): it reads and commits
    /// the group's offsets only.
    pub(crate) fn group_client(&self, group: &str) -> Result<BaseConsumer, OperationError> {
        ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| self.error(e))
    }

    /// The partitions of `topic`; none when the topic does not exist.
    pub(crate) fn partitions(
        &self,
        client: &BaseConsumer,
        topic: &str,
    ) -> Result<Vec<i32>, OperationError> {
        let metadata = client
            .fetch_metadata(Some(topic), self.timeout)
            .map_err(|e| self.error(e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect())
    }

    /// `group`'s committed offset per partition of `topic` (`None`: never committed).
    pub(crate) fn committed(
        &self,
        client: &BaseConsumer,
        topic: &str,
        partitions: &[i32],
    ) -> Result<HashMap<i32, i64>, OperationError> {
        let mut list = TopicPartitionList::new();
        for &p in partitions {
            list.add_partition(topic, p);
        }
        let committed = client
            .committed_offsets(list, self.timeout)
            .map_err(|e| self.error(e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect())
    }
}

/// The reader's client context: reaching a partition's end is how a reader knows it is
/// done (the poll returns it too), not an error worth a log line.
pub(crate) struct Reading;

impl ClientContext for Reading {
    fn error(&self, error: KafkaError, reason: &str) {
        if error == KafkaError::Global(RDKafkaErrorCode::PartitionEOF) {
            return;
        }
        tracing::warn!(%error, reason, "kafka client error");
    }
}

impl ConsumerContext for Reading {}

#[derive(Debug, Clone, PartialEq)]
pub struct PartitionStatus {
    pub topic: String,
    pub partition: i32,
    /// The next offset the group will read; `None` before its first commit.
    pub committed: Option<i64>,
    pub low: i64,
    pub high: i64,
    /// When the oldest message not yet consumed was written.
    pub oldest_unconsumed: Option<DateTime<Utc>>,
    /// The last message before the committed offset: its offset and when it was written.
    pub last_applied: Option<(i64, DateTime<Utc>)>,
}

impl PartitionStatus {
    /// Messages (commit markers included) between the committed offset and the end.
    pub fn lag(&self) -> i64 {
        let from = self.committed.unwrap_or(self.low).max(self.low);
        (self.high - from).max(0)
    }

    /// The age of the oldest message not yet consumed; 0 when every message is.
    pub fn lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_unconsumed
            .map_or(0.0, |t| seconds_between(t, now))
    }
}

pub fn seconds_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
    ((later - earlier).num_milliseconds().max(0)) as f64 / 1e3
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupStatus {
    pub group: String,
    /// The broker's word for it: `Stable`, `Empty`, `PreparingRebalance`, `Dead`, ...
    pub state: String,
    pub members: usize,
    pub partitions: Vec<PartitionStatus>,
    /// Source topics that do not exist (yet).
    pub missing_topics: Vec<String>,
}

impl GroupStatus {
    pub fn lag(&self) -> i64 {
        self.partitions.iter().map(PartitionStatus::lag).sum()
    }

    pub fn lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.partitions
            .iter()
            .map(|p| p.lag_seconds(now))
            .fold(0.0, f64::max)
    }
}

/// The consumer group's standing on every source topic.
pub async fn group_status(target: &KafkaTarget) -> Result<GroupStatus, OperationError> {
    let target = target.clone();
    tokio::task::spawn_blocking(move || status_blocking(&target))
        .await
        .map_err(|e| OperationError::Kafka {
            brokers: String::new(),
            reason: format!("the status task failed: {e}"),
        })?
}

fn status_blocking(target: &KafkaTarget) -> Result<GroupStatus, OperationError> {
    let client = target.group_client(&target.group)?;
    let mut partitions = Vec::new();
    let mut missing_topics = Vec::new();
    for topic in &target.topics {
        let ids = target.partitions(&client, topic)?;
        if ids.is_empty() {
            missing_topics.push(topic.clone());
            continue;
        }
        let committed = target.committed(&client, topic, &ids)?;
        let mut statuses = Vec::new();
        for &p in &ids {
            let (low, high) = client
                .fetch_watermarks(topic, p, target.timeout)
                .map_err(|e| target.error(e))?;
            statuses.push(PartitionStatus {
                topic: topic.clone(),
                partition: p,
                committed: committed.get(&p).copied(),
                low,
                high,
                oldest_unconsumed: None,
                last_applied: None,
            });
        }
        read_around_committed(target, topic, &mut statuses)?;
        partitions.extend(statuses);
    }
    let (state, members) = match client.fetch_group_list(Some(&target.group), target.timeout) {
        Ok(list) => list
            .groups()
            .iter()
            .find(|g| g.name() == target.group)
            .map_or(
                ("no such group (nothing committed yet)".to_owned(), 0),
                |g| (g.state().to_owned(), g.members().len()),
            ),
        Err(e) => (format!("unknown ({e})"), 0),
    };
    Ok(GroupStatus {
        group: target.group.clone(),
        state,
        members,
        partitions,
        missing_topics,
    })
}

/// Reads a few messages around each partition's committed offset: the last one before it
/// (last applied) and the first one at or after it (oldest unconsumed).
fn read_around_committed(
    target: &KafkaTarget,
    topic: &str,
    statuses: &mut [PartitionStatus],
) -> Result<(), OperationError> {
    let reader = target.reader()?;
    let mut assignment = TopicPartitionList::new();
    let mut pending: HashMap<i32, usize> = HashMap::new();
    for (i, s) in statuses.iter().enumerate() {
        let start = match s.committed {
            Some(c) => (c - LOOK_BACK).max(s.low),
            None => s.low,
        };
        if start >= s.high {
            continue;
        }
        assignment
            .add_partition_offset(topic, s.partition, Offset::Offset(start))
            .map_err(|e| target.error(e))?;
        pending.insert(s.partition, i);
    }
    if pending.is_empty() {
        return Ok(());
    }
    reader.assign(&assignment).map_err(|e| target.error(e))?;
    let deadline = Instant::now() + target.timeout;
    while !pending.is_empty() && Instant::now() < deadline {
        match reader.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                pending.remove(&p);
            }
            Some(Err(e)) => return Err(target.error(e)),
            Some(Ok(message)) => {
                let Some(&i) = pending.get(&message.partition()) else {
                    continue;
                };
                let Some(at) = message
                    .timestamp()
                    .to_millis()
                    .and_then(DateTime::from_timestamp_millis)
                else {
                    continue;
                };
                let status = &mut statuses[i];
                let committed = status.committed.unwrap_or(status.low);
                if message.offset() < committed {
                    status.last_applied = Some((message.offset(), at));
                } else {
                    status.oldest_unconsumed = Some(at);
                    pending.remove(&message.partition());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(committed: Option<i64>, low: i64, high: i64) -> PartitionStatus {
        PartitionStatus {
            topic: "t".into(),
            partition: 0,
            committed,
            low,
            high,
            oldest_unconsumed: None,
            last_applied: None,
        }
    }

    #[test]
    fn lag_counts_from_the_committed_offset_or_the_oldest_message() {
        assert_eq!(partition(Some(90), 0, 100).lag(), 10);
        assert_eq!(partition(None, 20, 100).lag(), 80, "never committed");
        assert_eq!(
            partition(Some(5), 20, 100).lag(),
            80,
            "committed before retention"
        );
        assert_eq!(partition(Some(100), 0, 100).lag(), 0);
        let now = Utc::now();
        let mut p = partition(Some(90), 0, 100);
        assert_eq!(p.lag_seconds(now), 0.0);
        p.oldest_unconsumed = Some(now - chrono::Duration::milliseconds(2_500));
        assert_eq!(p.lag_seconds(now), 2.5);
    }

    #[test]
    fn names_follow_the_runner() {
        let mut config = RunnerConfig::new("b:9092");
        let target = KafkaTarget::new(&config, "search", vec!["orders.events".into()]);
        assert_eq!(target.group, "keel-projector-search");
        assert_eq!(target.dead_letter_topic, "keel.dead-letters.search");
        assert_eq!(target.redrive_group(), "keel-projector-search-redrive");
        config.group_id = Some("g".into());
        assert_eq!(KafkaTarget::new(&config, "search", vec![]).group, "g");
    }
}
