use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{EncodedEvent, EventMetadata};

/// A stored event: its identity, place in its stream and in the global log, and payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// UUID v7, chosen by the writer; appending an id that is already stored is a no-op.
    pub event_id: Uuid,
    pub stream_id: String,
    pub stream_type: String,
    /// 1-based, without holes.
    pub stream_version: u64,
    /// Position in the global log (assigned at insert; see the event store for read order).
    pub global_position: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub payload: Value,
    pub metadata: EventMetadata,
}

impl EventEnvelope {
    /// The type, version and payload, ready for [`crate::VersionedEvent::decode`].
    pub fn encoded(&self) -> EncodedEvent {
        EncodedEvent {
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            payload: self.payload.clone(),
        }
    }
}

/// An event to append; the store assigns the stream version, position and time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Value,
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// A new event with a fresh UUID v7 id.
    pub fn new(encoded: EncodedEvent, metadata: EventMetadata) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: encoded.event_type,
            schema_version: encoded.schema_version,
            payload: encoded.payload,
            metadata,
        }
    }
}
