//! Events as this module reads them with its own queries (keyset pages by stream, pages by
//! position): the event store's row decoding is private to it, so the columns and their
//! checks are repeated here, for the `events` table of `keel-eventstore`'s migrations.

use chrono::{DateTime, Utc};
use keel_schemas::{EventEnvelope, EventMetadata};
use serde_json::Value;
use sqlx::FromRow;
use uuid::Uuid;

use super::OperationError;

/// The select list for [`EventRow`] (table alias `e`).
pub const EVENT_COLUMNS: &str = "e.position, e.event_id, e.stream_id, e.stream_type, \
     e.version, e.event_type, e.schema_version, e.payload, e.metadata, e.recorded_at";

#[derive(FromRow)]
pub struct EventRow {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: String,
    pub stream_type: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

fn corrupt(event: Uuid, what: &str) -> OperationError {
    OperationError::EventStore(format!("event {event}: {what}"))
}

impl EventRow {
    pub fn into_envelope(self) -> Result<EventEnvelope, OperationError> {
        let id = self.event_id;
        let metadata: EventMetadata = serde_json::from_value(self.metadata)
            .map_err(|e| corrupt(id, &format!("metadata: {e}")))?;
        Ok(EventEnvelope {
            event_id: id,
            stream_id: self.stream_id,
            stream_type: self.stream_type,
            stream_version: u64::try_from(self.version)
                .map_err(|_| corrupt(id, "negative version"))?,
            global_position: u64::try_from(self.position)
                .map_err(|_| corrupt(id, "negative position"))?,
            event_type: self.event_type,
            schema_version: u32::try_from(self.schema_version)
                .map_err(|_| corrupt(id, "negative schema version"))?,
            recorded_at: self.recorded_at,
            payload: self.payload,
            metadata,
        })
    }
}
