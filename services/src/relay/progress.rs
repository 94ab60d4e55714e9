//! The progress record: which outbox rows the last committed Kafka transaction published.
//!
//! It is written in the same Kafka transaction as the batch, to a compacted topic keyed by
//! the relayed database, so it is committed if and only if the batch is. On start (and after
//! any failure) the relay reads the newest one with `read_committed` and deletes those rows
//! from the outbox before it publishes anything: they are the only rows that can be
//! published and still in the outbox.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::error::RelayError;

/// Outbox ids as inclusive ranges: a batch is mostly consecutive ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRecord {
    pub target: String,
    pub ranges: Vec<(u64, u64)>,
    pub events: usize,
}

impl ProgressRecord {
    /// `ids` sorted ascending.
    pub fn of(target: &str, ids: &[u64]) -> Self {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for &id in ids {
            match ranges.last_mut() {
                Some((_, end)) if *end + 1 == id => *end = id,
                _ => ranges.push((id, id)),
            }
        }
        Self {
            target: target.to_owned(),
            ranges,
            events: ids.len(),
        }
    }

    pub fn ids(&self) -> Vec<u64> {
        self.ranges.iter().flat_map(|&(a, b)| a..=b).collect()
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain integers and a string cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The end of the partition is this reader's goal, not an error worth logging.
struct QuietEof;

impl ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        let eof = matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF);
        if !eof {
            tracing::error!(%error, reason, "Kafka client error (progress reader)");
        }
    }
}

impl ConsumerContext for QuietEof {}

/// How far back from the end a first look goes before reading the whole partition.
const TAIL_WINDOW: i64 = 5_000;

/// The newest committed record for `key` (blocking: run it on a blocking thread).
pub fn read_last(
    brokers: &str,
    topic: &str,
    key: &str,
    timeout: Duration,
) -> Result<Option<ProgressRecord>, RelayError> {
    let consumer: BaseConsumer<QuietEof> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("keel-relay-progress-{}", uuid::Uuid::new_v4()),
        )
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .create_with_context(QuietEof)?;
    let (low, high) = consumer.fetch_watermarks(topic, 0, timeout)?;
    let tail_start = (high - TAIL_WINDOW).max(low);
    if let Some(found) = scan(&consumer, topic, key, tail_start, timeout)? {
        return Ok(Some(found));
    }
    if tail_start > low {
        return scan(&consumer, topic, key, low, timeout);
    }
    Ok(None)
}

/// Reads partition 0 from `from` to its end (the last stable offset, for read_committed).
fn scan(
    consumer: &BaseConsumer<QuietEof>,
    topic: &str,
    key: &str,
    from: i64,
    timeout: Duration,
) -> Result<Option<ProgressRecord>, RelayError> {
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Offset(from))?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RelayError::KafkaTimeout(timeout));
        }
        match consumer.poll(left.min(Duration::from_millis(200))) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(_))) => return Ok(last),
            Some(Err(e)) => return Err(RelayError::Kafka(e)),
            Some(Ok(message)) => {
                if message.key() != Some(key.as_bytes()) {
                    continue;
                }
                let Some(payload) = message.payload() else {
                    continue;
                };
                let record: ProgressRecord = serde_json::from_slice(payload).map_err(|e| {
                    RelayError::Progress(format!("offset {}: {e}", message.offset()))
                })?;
                last = Some(record);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_ranges() {
        let ids = [3, 4, 5, 9, 11, 12];
        let record = ProgressRecord::of("db", &ids);
        assert_eq!(record.ranges, vec![(3, 5), (9, 9), (11, 12)]);
        assert_eq!(record.ids(), ids);
        let decoded: ProgressRecord = serde_json::from_slice(&record.encode()).expect("decodes");
        assert_eq!(decoded, record);
    }
}
