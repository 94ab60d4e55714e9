//! Poison events go to `keel.dead-letters.<projector>`: key = the original key (the
//! stream id), value = JSON naming the projector, the error, where the message was read and
//! the message itself, so an operator can fix the cause and re-drive it. A batch's offsets
//! are committed only after Kafka acknowledged its dead letters: nothing is dropped
//! silently. A retried send may store a dead letter twice; readers dedupe by
//! topic/partition/offset.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

use super::Source;

/// One dead letter, as published (and as `keel projections dead-letters` reads it back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub projector: String,
    pub error: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The message key, when it had one (the stream id).
    pub key: Option<String>,
    /// The message value: its JSON, or the text it holds when it is not JSON (lossy UTF-8),
    /// or null when it had none.
    pub event: serde_json::Value,
    pub dead_lettered_at: DateTime<Utc>,
}

impl DeadLetter {
    pub fn new(
        projector: &str,
        source: &Source,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        error: impl Into<String>,
    ) -> Self {
        let event = match value {
            None => serde_json::Value::Null,
            Some(bytes) => serde_json::from_slice(bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
            }),
        };
        Self {
            projector: projector.to_owned(),
            error: error.into(),
            topic: source.topic.clone(),
            partition: source.partition,
            offset: source.offset,
            key: key.map(|k| String::from_utf8_lossy(k).into_owned()),
            event,
            dead_lettered_at: Utc::now(),
        }
    }
}

pub struct DeadLetterProducer {
    topic: String,
    producer: FutureProducer,
    timeout: Duration,
}

impl DeadLetterProducer {
    pub fn new(brokers: &str, topic: String, timeout: Duration) -> Result<Self, KafkaError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", timeout.as_millis().max(1).to_string())
            .create()?;
        Ok(Self {
            topic,
            producer,
            timeout,
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Publishes every letter and waits for Kafka's acknowledgement of each.
    pub async fn send(&self, letters: &[DeadLetter]) -> Result<(), String> {
        let mut values = Vec::with_capacity(letters.len());
        for letter in letters {
            values.push(
                serde_json::to_vec(letter)
                    .map_err(|e| format!("encoding a dead letter failed: {e}"))?,
            );
        }
        let sends = letters.iter().zip(&values).map(|(letter, value)| {
            let mut record = FutureRecord::<str, [u8]>::to(&self.topic).payload(value.as_slice());
            if let Some(key) = &letter.key {
                record = record.key(key.as_str());
            }
            self.producer.send(record, Timeout::After(self.timeout))
        });
        for outcome in join_all(sends).await {
            outcome.map_err(|(e, _)| format!("publishing to {}: {e}", self.topic))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            topic: "orders.events".into(),
            partition: 2,
            offset: 41,
        }
    }

    #[test]
    fn a_dead_letter_keeps_the_message_and_says_where_it_came_from() {
        let letter = DeadLetter::new(
            "search",
            &source(),
            Some(b"order-1"),
            Some(b"{\"a\":1}"),
            "bad",
        );
        let json = serde_json::to_value(&letter).unwrap();
        assert_eq!(json["projector"], "search");
        assert_eq!(json["error"], "bad");
        assert_eq!(json["topic"], "orders.events");
        assert_eq!(json["partition"], 2);
        assert_eq!(json["offset"], 41);
        assert_eq!(json["key"], "order-1");
        assert_eq!(json["event"]["a"], 1);
        let text = DeadLetter::new("search", &source(), None, Some(b"not json"), "bad");
        assert_eq!(text.event, serde_json::json!("not json"));
        assert_eq!(
            DeadLetter::new("s", &source(), None, None, "e").event,
            serde_json::Value::Null
        );
    }
}
