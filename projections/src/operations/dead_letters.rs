//! A projector's dead-letter topic: listing its records, counting them, and re-driving
//! them through the projector's apply path once the operator fixed the cause.
//!
//! Kafka cannot delete single records, so re-driven letters are marked by a consumer group
//! of their own (`<group>-redrive`) whose committed offsets say how far the topic has been
//! re-driven: the letters after them are *pending*. A re-drive applies the pending letters;
//! those that still fail are published again (with the new error) after the others, then
//! the offsets are committed past everything it read. A crash in between re-drives some
//! letters twice, which the projector's idempotence makes harmless; listings dedupe copies
//! of one letter by the message it names (topic, partition, offset), as the engine asks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;

use super::catch_up::apply_batch;
use super::{KafkaTarget, OperationError};
use crate::engine::{decode_envelope, DeadLetter, DeadLetterProducer, Envelope, Projector, Source};

/// Letters applied per batch when re-driving.
const REDRIVE_BATCH: usize = 500;

/// One record of the dead-letter topic.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedLetter {
    /// Where it sits in the dead-letter topic.
    pub partition: i32,
    pub offset: i64,
    /// The letter, or the record's text when it is not one.
    pub letter: Result<DeadLetter, String>,
}

impl ListedLetter {
    fn event_field(&self, field: &str) -> Option<&Value> {
        self.letter.as_ref().ok()?.event.get(field)
    }

    pub fn event_id(&self) -> Option<&str> {
        self.event_field("event_id")?.as_str()
    }

    /// The stream: the event's, else the message key.
    pub fn stream_id(&self) -> Option<&str> {
        self.event_field("stream_id")
            .and_then(Value::as_str)
            .or_else(|| self.letter.as_ref().ok()?.key.as_deref())
    }

    pub fn version(&self) -> Option<u64> {
        self.event_field("version")?.as_u64()
    }

    pub fn error(&self) -> &str {
        match &self.letter {
            Ok(letter) => &letter.error,
            Err(_) => "not a dead letter record",
        }
    }

    pub fn dead_lettered_at(&self) -> Option<DateTime<Utc>> {
        self.letter.as_ref().ok().map(|l| l.dead_lettered_at)
    }

    /// The message the letter names (topic/partition/offset), the identity of its copies.
    fn identity(&self) -> Option<(String, i32, i64)> {
        let letter = self.letter.as_ref().ok()?;
        Some((letter.topic.clone(), letter.partition, letter.offset))
    }
}

/// Records in the dead-letter topic, and those not re-driven yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetterCounts {
    pub total: u64,
    pub pending: u64,
}

/// Letters read, and the end of each partition the read went up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub letters: Vec<ListedLetter>,
    ends: Vec<(i32, i64)>,
}

/// What a re-drive did.
#[derive(Debug, Clone, PartialEq)]
pub struct Redriven {
    pub letters: usize,
    pub applied: usize,
    /// The letters that failed again, with the new error (published again as pending).
    pub still_failing: Vec<(ListedLetter, String)>,
}

/// How many records the topic holds, and how many come after the re-drive offsets.
pub async fn counts(target: &KafkaTarget) -> Result<DeadLetterCounts, OperationError> {
    let target = target.clone();
    blocking(move || {
        let client = target.group_client(&target.redrive_group())?;
        let topic = &target.dead_letter_topic;
        let partitions = target.partitions(&client, topic)?;
        let committed = target.committed(&client, topic, &partitions)?;
        let mut counts = DeadLetterCounts {
            total: 0,
            pending: 0,
        };
        for p in partitions {
            let (low, high) = client
                .fetch_watermarks(topic, p, target.timeout)
                .map_err(|e| target.error(e))?;
            let from = committed.get(&p).copied().unwrap_or(low).max(low);
            counts.total += (high - low).max(0) as u64;
            counts.pending += (high - from).max(0) as u64;
        }
        Ok(counts)
    })
    .await
}

/// The pending letters (or `all` of them), copies of one letter shown once (the latest).
pub async fn list(target: &KafkaTarget, all: bool) -> Result<Listing, OperationError> {
    let target = target.clone();
    blocking(move || list_blocking(&target, all)).await
}

fn list_blocking(target: &KafkaTarget, all: bool) -> Result<Listing, OperationError> {
    let topic = &target.dead_letter_topic;
    let client = target.group_client(&target.redrive_group())?;
    let partitions = target.partitions(&client, topic)?;
    let committed = if all {
        HashMap::new()
    } else {
        target.committed(&client, topic, &partitions)?
    };
    let mut assignment = TopicPartitionList::new();
    let mut ends = Vec::new();
    let mut pending: HashMap<i32, i64> = HashMap::new();
    for p in partitions {
        let (low, high) = client
            .fetch_watermarks(topic, p, target.timeout)
            .map_err(|e| target.error(e))?;
        ends.push((p, high));
        let start = committed.get(&p).copied().unwrap_or(low).max(low);
        if start < high {
            assignment
                .add_partition_offset(topic, p, Offset::Offset(start))
                .map_err(|e| target.error(e))?;
            pending.insert(p, high);
        }
    }
    let mut letters: Vec<ListedLetter> = Vec::new();
    if !pending.is_empty() {
        let reader = target.reader()?;
        reader.assign(&assignment).map_err(|e| target.error(e))?;
        let deadline = Instant::now() + target.timeout * 3;
        while !pending.is_empty() {
            if Instant::now() > deadline {
                return Err(target.error(format!(
                    "reading {topic} did not reach its end within {}s",
                    (target.timeout * 3).as_secs()
                )));
            }
            match reader.poll(Duration::from_millis(100)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    pending.remove(&p);
                }
                Some(Err(e)) => return Err(target.error(e)),
                Some(Ok(message)) => {
                    let (p, offset) = (message.partition(), message.offset());
                    if pending.get(&p).is_some_and(|end| offset >= *end) {
                        // Written after the listing began: the next one shows it.
                        pending.remove(&p);
                        continue;
                    }
                    let bytes = message.payload().unwrap_or_default();
                    let letter = serde_json::from_slice::<DeadLetter>(bytes)
                        .map_err(|_| String::from_utf8_lossy(bytes).into_owned());
                    letters.push(ListedLetter {
                        partition: p,
                        offset,
                        letter,
                    });
                    if pending.get(&p).is_some_and(|end| offset + 1 >= *end) {
                        pending.remove(&p);
                    }
                }
            }
        }
    }
    Ok(Listing {
        letters: dedupe(letters),
        ends,
    })
}

/// One entry per letter identity, where its first copy was, holding its latest copy.
fn dedupe(letters: Vec<ListedLetter>) -> Vec<ListedLetter> {
    let mut seen: HashMap<(String, i32, i64), usize> = HashMap::new();
    let mut out: Vec<ListedLetter> = Vec::with_capacity(letters.len());
    for letter in letters {
        match letter.identity() {
            Some(identity) => match seen.get(&identity) {
                Some(&i) => {
                    if letter.dead_lettered_at() >= out[i].dead_lettered_at() {
                        out[i] = letter;
                    }
                }
                None => {
                    seen.insert(identity, out.len());
                    out.push(letter);
                }
            },
            None => out.push(letter),
        }
    }
    out
}

/// The message a letter carries, as the consumer read it.
fn original_value(event: &Value) -> Option<Vec<u8>> {
    match event {
        Value::Null => None,
        // Not JSON when it was dead-lettered: the letter kept its text.
        Value::String(text) => Some(text.as_bytes().to_vec()),
        other => serde_json::to_vec(other).ok(),
    }
}

/// Re-applies the pending letters through `projector`; publishes the ones that still fail
/// again, then marks everything read as re-driven.
pub async fn redrive(
    target: &KafkaTarget,
    projector: &dyn Projector,
) -> Result<Redriven, OperationError> {
    let listing = list(target, false).await?;
    let stream_types = projector.stream_types();
    let mut still_failing: Vec<(ListedLetter, String)> = Vec::new();
    let mut candidates: Vec<(ListedLetter, Envelope)> = Vec::new();
    let mut applied = 0;
    for listed in &listing.letters {
        let letter = match &listed.letter {
            Ok(letter) => letter,
            Err(_) => {
                still_failing.push((listed.clone(), "not a dead letter record".into()));
                continue;
            }
        };
        let value = original_value(&letter.event);
        match decode_envelope(letter.key.as_deref().map(str::as_bytes), value.as_deref()) {
            Ok(event) if stream_types.contains(&event.stream_type) => {
                let source = Source {
                    topic: letter.topic.clone(),
                    partition: letter.partition,
                    offset: letter.offset,
                };
                candidates.push((listed.clone(), Envelope { event, source }));
            }
            // The live runner skips other stream types; so does a re-drive.
            Ok(_) => applied += 1,
            Err(reason) => still_failing.push((listed.clone(), reason)),
        }
    }
    for chunk in candidates.chunks(REDRIVE_BATCH) {
        let batch: Vec<Envelope> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let rejected = apply_batch(projector, &batch).await?;
        let mut reasons: HashMap<usize, String> =
            rejected.into_iter().map(|r| (r.index, r.reason)).collect();
        for (i, (listed, _)) in chunk.iter().enumerate() {
            match reasons.remove(&i) {
                Some(reason) => still_failing.push((listed.clone(), reason)),
                None => applied += 1,
            }
        }
    }
    if !still_failing.is_empty() {
        let producer = DeadLetterProducer::new(
            &target.brokers,
            target.dead_letter_topic.clone(),
            target.timeout,
        )
        .map_err(|e| target.error(e))?;
        let again: Vec<DeadLetter> = still_failing
            .iter()
            .map(|(listed, reason)| again(projector.name(), target, listed, reason))
            .collect();
        producer.send(&again).await.map_err(|e| target.error(e))?;
    }
    mark_redriven(target, &listing.ends).await?;
    Ok(Redriven {
        letters: listing.letters.len(),
        applied,
        still_failing,
    })
}

/// A letter that failed again, with the new error and time.
fn again(projector: &str, target: &KafkaTarget, listed: &ListedLetter, reason: &str) -> DeadLetter {
    match &listed.letter {
        Ok(letter) => DeadLetter {
            error: reason.to_owned(),
            dead_lettered_at: Utc::now(),
            ..letter.clone()
        },
        Err(text) => DeadLetter {
            projector: projector.to_owned(),
            error: reason.to_owned(),
            topic: target.dead_letter_topic.clone(),
            partition: listed.partition,
            offset: listed.offset,
            key: None,
            event: Value::String(text.clone()),
            dead_lettered_at: Utc::now(),
        },
    }
}

async fn mark_redriven(target: &KafkaTarget, ends: &[(i32, i64)]) -> Result<(), OperationError> {
    let target = target.clone();
    let ends = ends.to_vec();
    blocking(move || {
        let mut offsets = TopicPartitionList::new();
        for (p, end) in ends {
            offsets
                .add_partition_offset(&target.dead_letter_topic, p, Offset::Offset(end))
                .map_err(|e| target.error(e))?;
        }
        if offsets.count() == 0 {
            return Ok(());
        }
        let client = target.group_client(&target.redrive_group())?;
        client
            .commit(&offsets, CommitMode::Sync)
            .map_err(|e| target.error(format!("marking dead letters re-driven: {e}")))
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, OperationError> + Send + 'static,
) -> Result<T, OperationError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| OperationError::Kafka {
            brokers: String::new(),
            reason: format!("a Kafka task failed: {e}"),
        })?
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn listed(offset: i64, source_offset: i64, error: &str) -> ListedLetter {
        ListedLetter {
            partition: 0,
            offset,
            letter: Ok(DeadLetter {
                projector: "search".into(),
                error: error.into(),
                topic: "orders.events".into(),
                partition: 3,
                offset: source_offset,
                key: Some("order-1".into()),
                event: json!({"event_id": "e1", "stream_id": "order-1", "version": 2}),
                dead_lettered_at: Utc::now(),
            }),
        }
    }

    #[test]
    fn copies_of_a_letter_are_listed_once_with_the_latest_error() {
        let letters = vec![
            listed(0, 10, "first"),
            listed(1, 11, "other"),
            listed(2, 10, "again"),
        ];
        let out = dedupe(letters);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].error(), "again");
        assert_eq!(out[0].offset, 2);
        assert_eq!(out[1].error(), "other");
        assert_eq!(out[0].event_id(), Some("e1"));
        assert_eq!(out[0].stream_id(), Some("order-1"));
        assert_eq!(out[0].version(), Some(2));
    }

    #[test]
    fn the_original_message_is_given_back_as_it_was_read() {
        assert_eq!(original_value(&Value::Null), None);
        assert_eq!(
            original_value(&json!("not json")),
            Some(b"not json".to_vec())
        );
        assert_eq!(
            original_value(&json!({"a": 1})),
            Some(br#"{"a":1}"#.to_vec())
        );
    }
}
