//! A Kafka message as a projector sees it: the relay's envelope JSON (what
//! `GET /orders/{id}/events` shows for one event) turned back into an [`EventEnvelope`],
//! with where it was read.

use chrono::{DateTime, Utc};
use keel_schemas::{EventEnvelope, EventMetadata};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a message was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Source {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One event of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub event: EventEnvelope,
    pub source: Source,
}

/// The relay's message value (`EventView` of the services). Unknown fields are ignored, so
/// the relay can add one without turning every message into poison.
#[derive(Deserialize)]
struct Wire {
    event_id: Uuid,
    stream_id: String,
    version: u64,
    global_position: u64,
    event_type: String,
    schema_version: u32,
    recorded_at: DateTime<Utc>,
    payload: serde_json::Value,
    #[serde(default)]
    metadata: EventMetadata,
}

/// Decodes a message; an `Err` says why it is not an event envelope (a poison message).
pub fn decode_envelope(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<EventEnvelope, String> {
    let value = value.ok_or("the message has no value")?;
    let wire: Wire = serde_json::from_slice(value)
        .map_err(|e| format!("the value is not an event envelope: {e}"))?;
    let stream_type = wire
        .stream_id
        .split_once('-')
        .map(|(prefix, _)| prefix)
        .filter(|prefix| !prefix.is_empty())
        .ok_or_else(|| format!("stream id `{}` is not <stream type>-<id>", wire.stream_id))?
        .to_owned();
    if let Some(key) = key {
        if key != wire.stream_id.as_bytes() {
            return Err(format!(
                "the message key `{}` is not the stream id `{}`",
                String::from_utf8_lossy(key),
                wire.stream_id
            ));
        }
    }
    if wire.version == 0 {
        return Err("stream version 0: versions start at 1".into());
    }
    if !wire.payload.is_object() {
        return Err("the payload is not a JSON object".into());
    }
    Ok(EventEnvelope {
        event_id: wire.event_id,
        stream_id: wire.stream_id,
        stream_type,
        stream_version: wire.version,
        global_position: wire.global_position,
        event_type: wire.event_type,
        schema_version: wire.schema_version,
        recorded_at: wire.recorded_at,
        payload: wire.payload,
        metadata: wire.metadata,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value() -> serde_json::Value {
        json!({
            "event_id": "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a",
            "stream_id": "order-0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59",
            "version": 3,
            "global_position": 17,
            "event_type": "OrderConfirmed",
            "schema_version": 1,
            "recorded_at": "2025-01-02T03:04:05.123456Z",
            "payload": {},
            "metadata": {
                "correlation_id": null,
                "causation_id": "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6b",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "actor": null,
                "idempotency_key": null
            }
        })
    }

    #[test]
    fn the_relays_json_decodes_to_the_stored_envelope() {
        let bytes = serde_json::to_vec(&value()).unwrap();
        let key = b"order-0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59";
        let event = decode_envelope(Some(key), Some(&bytes)).unwrap();
        assert_eq!(event.stream_type, "order");
        assert_eq!(event.stream_version, 3);
        assert_eq!(event.global_position, 17);
        assert_eq!(event.event_type, "OrderConfirmed");
        assert!(event.metadata.causation_id.is_some());
        assert!(event.metadata.correlation_id.is_none());
        assert_eq!(
            event.metadata.traceparent.as_deref(),
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        );
    }

    #[test]
    fn anything_else_is_poison_with_a_reason() {
        let reason = |key: Option<&[u8]>, v: serde_json::Value| {
            decode_envelope(key, Some(&serde_json::to_vec(&v).unwrap())).unwrap_err()
        };
        assert!(decode_envelope(None, Some(b"not json"))
            .unwrap_err()
            .contains("not an event envelope"));
        assert!(decode_envelope(None, None)
            .unwrap_err()
            .contains("no value"));
        let mut v = value();
        v["stream_id"] = json!("nodash");
        assert!(reason(None, v).contains("<stream type>-<id>"));
        assert!(reason(Some(b"order-other"), value()).contains("key"));
        let mut v = value();
        v["version"] = json!(0);
        assert!(reason(None, v).contains("version 0"));
        let mut v = value();
        v["payload"] = json!([1]);
        assert!(reason(None, v).contains("payload"));
        let mut v = value();
        v["event_id"] = json!("not a uuid");
        assert!(reason(None, v).contains("not an event envelope"));
        let mut v = value();
        v["added_later"] = json!(1);
        let bytes = serde_json::to_vec(&v).unwrap();
        assert!(
            decode_envelope(None, Some(&bytes)).is_ok(),
            "a tolerant reader"
        );
    }
}
