//! The consumer's view of its assignment, kept current by librdkafka's rebalance callbacks.
//!
//! The callbacks run inside `recv()` on the runner's own task (librdkafka serves them when
//! the consumer is polled), never while a batch is being applied. So between collecting a
//! batch and committing it the assignment cannot change, and a batch only has to drop the
//! messages whose partition was revoked while it was being collected: each message carries
//! its partition's *epoch* (bumped on every revoke), and a message of an older epoch is
//! stale. The next owner reads it again from the committed offset.
//!
//! On revoke, the offsets applied but perhaps not yet committed (commits are asynchronous)
//! are committed synchronously, so the next owner starts after them, unless the assignment
//! was *lost* (this member was evicted): then another member owns the partitions already
//! and a commit must not overwrite its progress.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::EngineMetrics;

/// A topic and partition.
pub type PartitionKey = (String, i32);

pub struct RunnerContext {
    projector: String,
    metrics: EngineMetrics,
    assignment: Mutex<Assignment>,
}

#[derive(Default)]
struct Assignment {
    owned: HashSet<PartitionKey>,
    /// Bumped each time the partition is revoked.
    epochs: HashMap<PartitionKey, u64>,
    /// The next offset to commit per owned partition (everything before it is applied).
    applied: HashMap<PartitionKey, i64>,
}

impl RunnerContext {
    pub fn new(projector: &str, metrics: EngineMetrics) -> Self {
        Self {
            projector: projector.to_owned(),
            metrics,
            assignment: Mutex::new(Assignment::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Assignment> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep going.
        self.assignment
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current epoch of a partition (stamped on each message as it is received).
    pub fn epoch(&self, topic: &str, partition: i32) -> u64 {
        let key = (topic.to_owned(), partition);
        self.lock().epochs.get(&key).copied().unwrap_or(0)
    }

    /// Whether a message stamped with `epoch` still belongs to this instance.
    pub fn is_current(&self, key: &PartitionKey, epoch: u64) -> bool {
        let assignment = self.lock();
        assignment.owned.contains(key) && assignment.epochs.get(key).copied().unwrap_or(0) == epoch
    }

    /// Records a batch as applied; returns the offsets to commit: every owned partition's,
    /// so that a commit that failed (a rebalance moved the group to a new generation) is
    /// made good by the next one even when its partition receives nothing more.
    pub fn applied(&self, next_offsets: &HashMap<PartitionKey, i64>) -> TopicPartitionList {
        {
            let mut assignment = self.lock();
            for (key, &next) in next_offsets {
                if !assignment.owned.contains(key) {
                    continue;
                }
                let entry = assignment.applied.entry(key.clone()).or_insert(next);
                *entry = (*entry).max(next);
            }
        }
        self.applied_offsets()
    }

    /// The applied offsets of the partitions still owned.
    pub fn applied_offsets(&self) -> TopicPartitionList {
        let assignment = self.lock();
        let mut list = TopicPartitionList::new();
        for ((topic, partition), &next) in &assignment.applied {
            let _ = list.add_partition_offset(topic, *partition, Offset::Offset(next));
        }
        list
    }

    /// Forgets revoked partitions (bumping their epochs); returns their applied offsets.
    fn release(&self, revoked: &TopicPartitionList) -> (TopicPartitionList, Vec<String>) {
        let mut commit = TopicPartitionList::new();
        let mut names = Vec::new();
        let mut assignment = self.lock();
        for element in revoked.elements() {
            let key = (element.topic().to_owned(), element.partition());
            assignment.owned.remove(&key);
            *assignment.epochs.entry(key.clone()).or_insert(0) += 1;
            if let Some(next) = assignment.applied.remove(&key) {
                let _ = commit.add_partition_offset(&key.0, key.1, Offset::Offset(next));
            }
            self.metrics.forget_partition(&key.0, key.1);
            names.push(format!("{}/{}", key.0, key.1));
        }
        (commit, names)
    }

    fn revoke(&self, consumer: &BaseConsumer<Self>, revoked: &TopicPartitionList) {
        let lost = consumer.assignment_lost();
        let (commit, names) = self.release(revoked);
        tracing::info!(
            projector = %self.projector,
            partitions = %names.join(","),
            lost,
            "partitions revoked"
        );
        if lost || commit.count() == 0 {
            return;
        }
        if let Err(e) = consumer.commit(&commit, CommitMode::Sync) {
            self.metrics.error("commit");
            tracing::warn!(
                projector = %self.projector,
                error = %e,
                "committing revoked partitions failed; their next owner may apply some events again"
            );
        }
    }

    fn assign(&self, assigned: &TopicPartitionList) {
        let mut names = Vec::new();
        let mut assignment = self.lock();
        for element in assigned.elements() {
            let key = (element.topic().to_owned(), element.partition());
            names.push(format!("{}/{}", key.0, key.1));
            assignment.owned.insert(key);
        }
        if names.is_empty() {
            // A cooperative rebalance round that moved nothing here.
            tracing::debug!(projector = %self.projector, "rebalance round, no partition assigned");
        } else {
            tracing::info!(projector = %self.projector, partitions = %names.join(","), "partitions assigned");
        }
    }
}

impl ClientContext for RunnerContext {
    fn stats(&self, statistics: Statistics) {
        let assignment = self.lock();
        for (topic, t) in &statistics.topics {
            for (&partition, p) in &t.partitions {
                // -1 is librdkafka's internal "unassigned" partition.
                if partition < 0 || !assignment.owned.contains(&(topic.clone(), partition)) {
                    continue;
                }
                // librdkafka's lag needs a committed offset; before the group's first
                // commit the group would start from the oldest message, so the lag is all
                // of them (the last stable offset bounds what read_committed can see).
                let lag = if p.consumer_lag >= 0 {
                    p.consumer_lag
                } else if p.ls_offset >= 0 && p.lo_offset >= 0 {
                    p.ls_offset - p.lo_offset
                } else {
                    continue;
                };
                self.metrics.lag(topic, partition, lag);
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.metrics.error("kafka");
        tracing::warn!(projector = %self.projector, error = %error, reason, "kafka client error");
    }
}

impl ConsumerContext for RunnerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            self.revoke(consumer, revoked);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => self.assign(assigned),
            Rebalance::Error(e) => {
                self.metrics.error("kafka");
                tracing::warn!(projector = %self.projector, error = %e, "rebalance failed");
            }
            Rebalance::Revoke(_) => {}
        }
    }

    fn commit_callback(&self, result: Result<(), KafkaError>, offsets: &TopicPartitionList) {
        // A commit can fail as a whole or partition by partition.
        let failed = result.err().map(|e| e.to_string()).or_else(|| {
            offsets
                .elements()
                .iter()
                .find_map(|e| e.error().err())
                .map(|e| e.to_string())
        });
        if let Some(error) = failed {
            self.metrics.error("commit");
            tracing::warn!(
                projector = %self.projector,
                %error,
                "offset commit failed; the next commit carries the same offsets"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: i32) -> PartitionKey {
        ("t".to_owned(), p)
    }

    #[test]
    fn only_owned_partitions_of_the_current_epoch_are_current_and_committed() {
        let context = RunnerContext::new("search", EngineMetrics::new("search", |_| {}));
        let mut assigned = TopicPartitionList::new();
        assigned.add_partition("t", 0);
        assigned.add_partition("t", 1);
        context.assign(&assigned);
        let epoch = context.epoch("t", 0);
        assert!(context.is_current(&key(0), epoch));
        assert!(!context.is_current(&key(2), 0), "never assigned");

        let offsets = HashMap::from([(key(0), 10), (key(1), 5), (key(2), 7)]);
        let commit = context.applied(&offsets);
        assert_eq!(commit.count(), 2, "partition 2 is not ours");
        // Every owned partition's offset is committed again, even one not in the batch.
        assert_eq!(context.applied(&HashMap::new()).count(), 2);
        // An older batch cannot move an offset back.
        let commit = context.applied(&HashMap::from([(key(0), 3)]));
        let offset = commit.find_partition("t", 0).map(|e| e.offset());
        assert_eq!(offset, Some(Offset::Offset(10)));

        // A revoke bumps the epoch: messages received before it are stale, even when the
        // partition comes back.
        let mut revoked = TopicPartitionList::new();
        revoked.add_partition("t", 0);
        let (commit, _) = context.release(&revoked);
        assert_eq!(commit.elements()[0].offset(), Offset::Offset(10));
        assert!(!context.is_current(&key(0), epoch));
        let mut again = TopicPartitionList::new();
        again.add_partition("t", 0);
        context.assign(&again);
        assert!(!context.is_current(&key(0), epoch));
        assert!(context.is_current(&key(0), context.epoch("t", 0)));
        assert_eq!(context.applied_offsets().count(), 1);
    }
}
