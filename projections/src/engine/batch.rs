//! A batch as collected from Kafka, before and after the projector saw it: which messages
//! are still ours, which are events to apply, which are poison, and which offsets to commit.

use std::collections::HashMap;
use std::time::Instant;

use keel_schemas::EventEnvelope;

use super::context::PartitionKey;
use super::{DeadLetter, Envelope, Rejected, Source};

/// One message as received, stamped with its partition's epoch.
pub struct Received {
    pub source: Source,
    pub epoch: u64,
    pub key: Option<Vec<u8>>,
    /// Kept for a dead letter, which carries the message as it was.
    pub value: Option<Vec<u8>>,
    pub decoded: Result<EventEnvelope, String>,
}

impl Received {
    pub fn partition(&self) -> PartitionKey {
        (self.source.topic.clone(), self.source.partition)
    }

    fn dead_letter(&self, projector: &str, error: &str) -> DeadLetter {
        DeadLetter::new(
            projector,
            &self.source,
            self.key.as_deref(),
            self.value.as_deref(),
            error,
        )
    }
}

pub struct Batch {
    pub messages: Vec<Received>,
    /// When its first message arrived (the batch latency runs from here).
    pub started: Instant,
}

/// What the projector is given, and what is poison before it sees anything.
pub struct Split {
    pub envelopes: Vec<Envelope>,
    /// For each envelope, its message's index in the batch.
    origin: Vec<usize>,
    pub letters: Vec<DeadLetter>,
}

impl Batch {
    pub fn new() -> Self {
        Self {
            messages: Vec::new(),
            started: Instant::now(),
        }
    }

    pub fn push(&mut self, message: Received) {
        if self.messages.is_empty() {
            self.started = Instant::now();
        }
        self.messages.push(message);
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Drops the messages of partitions revoked since they were received; returns how many.
    pub fn retain_current(&mut self, is_current: impl Fn(&PartitionKey, u64) -> bool) -> usize {
        let before = self.messages.len();
        self.messages
            .retain(|m| is_current(&m.partition(), m.epoch));
        before - self.messages.len()
    }

    /// The offset to commit per partition: one past the last message.
    pub fn next_offsets(&self) -> HashMap<PartitionKey, i64> {
        let mut next = HashMap::new();
        for m in &self.messages {
            let entry = next.entry(m.partition()).or_insert(m.source.offset + 1);
            *entry = (*entry).max(m.source.offset + 1);
        }
        next
    }

    /// Envelopes of the projector's stream types, in batch order; undecodable messages as
    /// dead letters; other stream types are left out (their offsets are still committed).
    pub fn split(&self, projector: &str, stream_types: &[String]) -> Split {
        let mut split = Split {
            envelopes: Vec::new(),
            origin: Vec::new(),
            letters: Vec::new(),
        };
        for (index, m) in self.messages.iter().enumerate() {
            match &m.decoded {
                Ok(event) if stream_types.contains(&event.stream_type) => {
                    split.envelopes.push(Envelope {
                        event: event.clone(),
                        source: m.source.clone(),
                    });
                    split.origin.push(index);
                }
                Ok(_) => {}
                Err(reason) => split.letters.push(m.dead_letter(projector, reason)),
            }
        }
        split
    }

    /// Dead letters for the events the projector rejected.
    pub fn rejected(
        &self,
        projector: &str,
        split: &Split,
        rejected: &[Rejected],
    ) -> Vec<DeadLetter> {
        rejected
            .iter()
            .filter_map(|r| {
                let Some(&index) = split.origin.get(r.index) else {
                    // A projector bug; said loudly, since the event is committed regardless.
                    tracing::error!(
                        projector,
                        index = r.index,
                        batch = split.origin.len(),
                        reason = %r.reason,
                        "a rejected event's index is outside the batch"
                    );
                    return None;
                };
                Some(self.messages[index].dead_letter(projector, &r.reason))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use keel_schemas::EventMetadata;

    use super::*;

    fn event(stream: &str, version: u64) -> EventEnvelope {
        EventEnvelope {
            event_id: uuid::Uuid::now_v7(),
            stream_id: format!("{stream}-1"),
            stream_type: stream.into(),
            stream_version: version,
            global_position: version,
            event_type: "OrderConfirmed".into(),
            schema_version: 1,
            recorded_at: chrono::Utc::now(),
            payload: serde_json::json!({}),
            metadata: EventMetadata::default(),
        }
    }

    fn received(
        partition: i32,
        offset: i64,
        epoch: u64,
        decoded: Result<EventEnvelope, String>,
    ) -> Received {
        Received {
            source: Source {
                topic: "t".into(),
                partition,
                offset,
            },
            epoch,
            key: Some(b"order-1".to_vec()),
            value: Some(b"raw".to_vec()),
            decoded,
        }
    }

    #[test]
    fn splits_events_from_poison_and_other_stream_types() {
        let mut batch = Batch::new();
        batch.push(received(0, 5, 0, Ok(event("order", 1))));
        batch.push(received(0, 6, 0, Err("not JSON".into())));
        batch.push(received(1, 9, 0, Ok(event("payment", 1))));
        batch.push(received(1, 10, 0, Ok(event("order", 2))));
        let split = batch.split("search", &["order".to_owned()]);
        assert_eq!(split.envelopes.len(), 2);
        assert_eq!(split.envelopes[1].source.offset, 10);
        assert_eq!(split.letters.len(), 1);
        assert_eq!(split.letters[0].offset, 6);
        assert_eq!(split.letters[0].error, "not JSON");
        let rejected = batch.rejected("search", &split, &[Rejected::new(1, "mapping")]);
        assert_eq!(rejected.len(), 1);
        assert_eq!((rejected[0].partition, rejected[0].offset), (1, 10));
        assert_eq!(
            batch.next_offsets(),
            HashMap::from([(("t".to_owned(), 0), 7), (("t".to_owned(), 1), 11)])
        );
    }

    #[test]
    fn messages_of_revoked_partitions_are_dropped() {
        let mut batch = Batch::new();
        batch.push(received(0, 1, 0, Ok(event("order", 1))));
        batch.push(received(1, 1, 3, Ok(event("order", 1))));
        batch.push(received(1, 2, 4, Ok(event("order", 2))));
        let dropped = batch.retain_current(|key, epoch| key.1 == 0 || epoch == 4);
        assert_eq!(dropped, 1);
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.next_offsets()[&("t".to_owned(), 1)], 3);
    }
}
