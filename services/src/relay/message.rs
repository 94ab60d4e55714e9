//! An outbox event as a Kafka message: key = stream id, value = the envelope as JSON (what
//! `GET /orders/{id}/events` shows for one event), headers for routing without parsing.

use keel_schemas::EventEnvelope;
use rdkafka::message::{Header, OwnedHeaders};

use crate::http::response::EventView;

pub struct OutgoingMessage {
    pub key: String,
    pub value: Vec<u8>,
    pub headers: OwnedHeaders,
    /// When the event was recorded, for the commit-to-publish latency.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// Header overhead librdkafka adds per message (record framing); a safe upper bound.
const FRAMING_BYTES: usize = 128;

/// The message for `event`, or why it cannot be published.
pub fn encode(event: EventEnvelope, max_bytes: usize) -> Result<OutgoingMessage, String> {
    let recorded_at = event.recorded_at;
    let key = event.stream_id.clone();
    let event_id = event.event_id.to_string();
    let event_type = event.event_type.clone();
    let schema_version = event.schema_version.to_string();
    let stream_version = event.stream_version.to_string();
    let traceparent = event.metadata.traceparent.clone();
    let value = serde_json::to_vec(&EventView::from(event))
        .map_err(|e| format!("cannot encode the envelope as JSON: {e}"))?;
    let mut headers = OwnedHeaders::new()
        .insert(Header {
            key: "event-id",
            value: Some(event_id.as_bytes()),
        })
        .insert(Header {
            key: "event-type",
            value: Some(event_type.as_bytes()),
        })
        .insert(Header {
            key: "schema-version",
            value: Some(schema_version.as_bytes()),
        })
        .insert(Header {
            key: "stream-version",
            value: Some(stream_version.as_bytes()),
        });
    if let Some(traceparent) = &traceparent {
        headers = headers.insert(Header {
            key: "traceparent",
            value: Some(traceparent.as_bytes()),
        });
    }
    let size = key.len()
        + value.len()
        + event_id.len()
        + event_type.len()
        + schema_version.len()
        + stream_version.len()
        + traceparent.as_ref().map_or(0, String::len)
        + FRAMING_BYTES;
    if size > max_bytes {
        return Err(format!(
            "message of {size} bytes is over the limit of {max_bytes} bytes"
        ));
    }
    Ok(OutgoingMessage {
        key,
        value,
        headers,
        recorded_at,
    })
}

#[cfg(test)]
mod tests {
    use keel_schemas::EventMetadata;
    use rdkafka::message::Headers;

    use super::*;

    fn envelope(payload: serde_json::Value) -> EventEnvelope {
        EventEnvelope {
            event_id: uuid::Uuid::now_v7(),
            stream_id: "order-1".into(),
            stream_type: "order".into(),
            stream_version: 7,
            global_position: 42,
            event_type: "OrderPlaced".into(),
            schema_version: 3,
            recorded_at: chrono::Utc::now(),
            payload,
            metadata: EventMetadata {
                traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
                ..EventMetadata::default()
            },
        }
    }

    #[test]
    fn a_message_carries_the_envelope_and_its_headers() {
        let event = envelope(serde_json::json!({ "n": 1 }));
        let id = event.event_id.to_string();
        let message = encode(event, 10_000).expect("encodes");
        assert_eq!(message.key, "order-1");
        let value: serde_json::Value = serde_json::from_slice(&message.value).expect("JSON");
        assert_eq!(value["version"], 7);
        assert_eq!(value["global_position"], 42);
        let headers: Vec<(String, String)> = message
            .headers
            .iter()
            .map(|h| {
                let v = String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned();
                (h.key.to_owned(), v)
            })
            .collect();
        let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "event-id",
                "event-type",
                "schema-version",
                "stream-version",
                "traceparent"
            ]
        );
        assert_eq!(headers[0].1, id);
        assert_eq!(headers[3].1, "7");
    }

    #[test]
    fn a_message_over_the_limit_is_refused_with_its_size() {
        let event = envelope(serde_json::json!({ "blob": "x".repeat(5_000) }));
        let reason = encode(event, 4_000).err().expect("too large");
        assert!(reason.contains("over the limit of 4000 bytes"), "{reason}");
    }
}
