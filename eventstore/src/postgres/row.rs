use chrono::{DateTime, Utc};
use keel_schemas::{EventEnvelope, EventMetadata};
use serde_json::Value;
use sqlx::FromRow;
use uuid::Uuid;

use super::to_u64;
use crate::StoreError;

/// The select list for [`EventRow`], from the events table under `alias`.
/// (`xid8` has no sqlx decoder, so the transaction id travels as text.)
pub(crate) fn event_columns(alias: &str) -> String {
    format!(
        "{a}.position, {a}.transaction_id::text AS transaction_xid, {a}.event_id, {a}.stream_id, \
         {a}.stream_type, {a}.version, {a}.event_type, {a}.schema_version, {a}.payload, \
         {a}.metadata, {a}.recorded_at",
        a = alias
    )
}

#[derive(FromRow)]
pub(crate) struct EventRow {
    pub position: i64,
    pub transaction_xid: String,
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

impl EventRow {
    pub fn transaction_id(&self) -> Result<u64, StoreError> {
        self.transaction_xid
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad xid8 `{}`", self.transaction_xid)))
    }

    pub fn into_envelope(self) -> Result<EventEnvelope, StoreError> {
        let metadata: EventMetadata = serde_json::from_value(self.metadata)
            .map_err(|e| StoreError::Corrupt(format!("event {} metadata: {e}", self.event_id)))?;
        let schema_version = u32::try_from(self.schema_version)
            .map_err(|_| StoreError::Corrupt(format!("event {} schema version", self.event_id)))?;
        Ok(EventEnvelope {
            event_id: self.event_id,
            stream_id: self.stream_id,
            stream_type: self.stream_type,
            stream_version: to_u64(self.version, "stream version")?,
            global_position: to_u64(self.position, "position")?,
            event_type: self.event_type,
            schema_version,
            recorded_at: self.recorded_at,
            payload: self.payload,
            metadata,
        })
    }
}
