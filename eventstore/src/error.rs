use thiserror::Error;

use crate::ExpectedVersion;

/// What an event store operation can fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("stream `{stream_id}` is at version {actual}, expected {expected}")]
    WrongExpectedVersion {
        stream_id: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("idempotency key `{key}` was already used for a different request")]
    IdempotencyKeyReused { key: String },
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("event store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A request the store refuses before writing anything.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InvalidInput {
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("stream id must not be empty")]
    EmptyStreamId,
    #[error("stream id is {len} characters long, the limit is {max}")]
    StreamIdTooLong { len: usize, max: usize },
    #[error("stream type must not be empty")]
    EmptyStreamType,
    #[error("event {index} (`{event_type}`): payload must be a JSON object")]
    PayloadNotObject { index: usize, event_type: String },
    #[error("event {index}: event type must not be empty")]
    EmptyEventType { index: usize },
    #[error("event {index}: schema version must be at least 1")]
    ZeroSchemaVersion { index: usize },
    #[error("the same event id appears twice in one append")]
    DuplicateEventId,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Backend(Box::new(error))
    }
}
