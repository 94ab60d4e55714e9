use std::collections::HashSet;
use std::fmt;

use keel_schemas::NewEvent;

use uuid::Uuid;

use crate::{InvalidInput, StoreError, MAX_STREAM_ID_LEN};

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

/// What the first request with an idempotency key was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: String,
    pub stream_id: String,
    /// The stream's version after the request: the answer is the state at this version,
    /// unless `answer` holds another one.
    pub stream_version: u64,
    /// An answer recorded without an append (e.g. a refusal), opaque to the store.
    pub answer: Option<serde_json::Value>,
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
        if self.stream_type.contains('\0') {
            return Err(InvalidInput::NulInName {
                what: "stream type",
            });
        }
        if self.events.is_empty() {
            return Err(InvalidInput::EmptyAppend);
        }
        let mut ids = HashSet::with_capacity(self.events.len());
        for (index, event) in self.events.iter().enumerate() {
            if event.event_type.is_empty() {
                return Err(InvalidInput::EmptyEventType { index });
            }
            if event.event_type.contains('\0') {
                return Err(InvalidInput::NulInName { what: "event type" });
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
            if let Some(path) = nul_in(&event.payload, "payload") {
                return Err(InvalidInput::NulCharacter { index, path });
            }
            let metadata = [
                ("metadata.traceparent", &event.metadata.traceparent),
                ("metadata.actor", &event.metadata.actor),
                ("metadata.idempotency_key", &event.metadata.idempotency_key),
            ];
            for (path, value) in metadata {
                if value.as_deref().is_some_and(|v| v.contains('\0')) {
                    let path = path.to_owned();
                    return Err(InvalidInput::NulCharacter { index, path });
                }
            }
        }
        Ok(())
    }
}

/// The path of the first string (key or value) in `value` that holds U+0000.
fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = format!("{path}.{}", key.replace('\0', "\\u0000"));
            if key.contains('\0') {
                return Some(here);
            }
            nul_in(item, &here)
        }),
        _ => None,
    }
}

pub(crate) fn validate_stream_id(stream_id: &str) -> Result<(), InvalidInput> {
    if stream_id.is_empty() {
        return Err(InvalidInput::EmptyStreamId);
    }
    if stream_id.contains('\0') {
        return Err(InvalidInput::NulInName { what: "stream id" });
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

/// Decides whether the stored rows of a request's event ids are that very request,
/// appended before.
pub(crate) fn repeated_append(
    request: &AppendRequest,
    ids: &[Uuid],
    mut stored: Vec<(Uuid, String, u64, u64)>,
) -> Result<Option<Committed>, StoreError> {
    if stored.is_empty() {
        return Ok(None);
    }
    stored.sort_by_key(|(_, _, version, _)| *version);
    let first = stored[0].2;
    let whole = stored.len() == ids.len()
        && stored.iter().zip(ids).enumerate().all(|(i, (row, id))| {
            row.0 == *id && row.1 == request.stream_id && row.2 == first + i as u64
        });
    if !whole {
        let event_id = stored[0].0;
        return Err(InvalidInput::EventIdTaken { event_id }.into());
    }
    Ok(Some(Committed {
        stream_id: request.stream_id.clone(),
        stream_version: first + ids.len() as u64 - 1,
        positions: stored.iter().map(|row| row.3).collect(),
        deduplicated: true,
    }))
}
