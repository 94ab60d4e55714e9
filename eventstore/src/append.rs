use std::collections::HashSet;
use std::fmt;

use keel_schemas::NewEvent;

use crate::{InvalidInput, MAX_STREAM_ID_LEN};

/// The version a writer believes a stream is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (0 is the same as `NoStream`).
    Exact(u64),
}

impl ExpectedVersion {
    /// The version the stream must be at, if any.
    pub fn required(self) -> Option<u64> {
        match self {
            ExpectedVersion::Any => None,
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(v) => Some(v),
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// A command's idempotency key and a hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// What the first request with an idempotency key committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: String,
    pub stream_id: String,
    pub stream_version: u64,
}

/// Events to append to one stream, atomically, with their outbox rows.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_id: String,
    pub stream_type: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub idempotency: Option<IdempotencyKey>,
}

impl AppendRequest {
    pub fn new(
        stream_id: impl Into<String>,
        stream_type: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        Self {
            stream_id: stream_id.into(),
            stream_type: stream_type.into(),
            expected,
            events,
            idempotency: None,
        }
    }

    pub fn with_idempotency(mut self, key: IdempotencyKey) -> Self {
        self.idempotency = Some(key);
        self
    }

    /// Refuses what no store may write; every implementation calls this first.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        validate_stream_id(&self.stream_id)?;
        if self.stream_type.is_empty() {
            return Err(InvalidInput::EmptyStreamType);
        }
        if self.events.is_empty() {
            return Err(InvalidInput::EmptyAppend);
        }
        let mut ids = HashSet::with_capacity(self.events.len());
        for (index, event) in self.events.iter().enumerate() {
            if event.event_type.is_empty() {
                return Err(InvalidInput::EmptyEventType { index });
            }
            if event.schema_version == 0 {
                return Err(InvalidInput::ZeroSchemaVersion { index });
            }
            if !event.payload.is_object() {
                return Err(InvalidInput::PayloadNotObject {
                    index,
                    event_type: event.event_type.clone(),
                });
            }
            if !ids.insert(event.event_id) {
                return Err(InvalidInput::DuplicateEventId);
            }
        }
        Ok(())
    }
}

pub(crate) fn validate_stream_id(stream_id: &str) -> Result<(), InvalidInput> {
    if stream_id.is_empty() {
        return Err(InvalidInput::EmptyStreamId);
    }
    let len = stream_id.chars().count();
    if len > MAX_STREAM_ID_LEN {
        return Err(InvalidInput::StreamIdTooLong {
            len,
            max: MAX_STREAM_ID_LEN,
        });
    }
    Ok(())
}

/// The result of a successful append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub stream_id: String,
    /// The stream's version after the append.
    pub stream_version: u64,
    /// Global positions of the appended events, in stream order; empty on a replay.
    pub positions: Vec<u64>,
    /// True when nothing was written because the events (by event id) or the idempotency
    /// key were already stored; the fields then describe the original append.
    pub deduplicated: bool,
}
