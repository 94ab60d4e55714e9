use std::time::Duration;

use thiserror::Error;

use crate::ExpectedVersion;

/// What an event store operation can fail with, in four classes (see [`ErrorClass`]).
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
    /// The database refused this request's values (a check or a value it cannot store).
    #[error("the event store refused the request: {0}")]
    Refused(String),
    /// Worth retrying as it is: a deadlock, a serialization failure, a connection lost
    /// before the commit, a transaction that must start again. Already retried inside the
    /// store where that was safe.
    #[error("transient event store failure: {0}")]
    Transient(String),
    /// The request ran out of time: its deadline, a lock wait or a statement timeout.
    /// Nothing was appended unless the store says otherwise.
    #[error("the event store timed out: {0}")]
    Timeout(String),
    /// Too many appends are queued; try again shortly.
    #[error("the event store is overloaded: {queued} appends are queued")]
    Overloaded { queued: usize },
    /// The database cannot be reached, or its pool has no connection to give.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Anything else: a bug, in this crate or in how it is used.
    #[error("event store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Who must act on a [`StoreError`], and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request itself is wrong: only it fails, and sending it again fails again.
    Request,
    /// The stream moved, or the key was used: the caller decides again.
    Conflict,
    /// Try again later (with the same idempotency key): it may well work.
    Retry,
    /// A bug or corrupt data.
    Bug,
}

impl StoreError {
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::InvalidInput(_) | StoreError::Refused(_) => ErrorClass::Request,
            StoreError::WrongExpectedVersion { .. } | StoreError::IdempotencyKeyReused { .. } => {
                ErrorClass::Conflict
            }
            StoreError::Transient(_)
            | StoreError::Timeout(_)
            | StoreError::Overloaded { .. }
            | StoreError::Unavailable(_) => ErrorClass::Retry,
            StoreError::Corrupt(_) | StoreError::Backend(_) => ErrorClass::Bug,
        }
    }

    /// The same error for another caller (a backend error keeps only its message).
    pub(crate) fn clone_lossy(&self) -> StoreError {
        match self {
            StoreError::WrongExpectedVersion {
                stream_id,
                expected,
                actual,
            } => StoreError::WrongExpectedVersion {
                stream_id: stream_id.clone(),
                expected: *expected,
                actual: *actual,
            },
            StoreError::IdempotencyKeyReused { key } => {
                StoreError::IdempotencyKeyReused { key: key.clone() }
            }
            StoreError::InvalidInput(e) => StoreError::InvalidInput(e.clone()),
            StoreError::Refused(m) => StoreError::Refused(m.clone()),
            StoreError::Transient(m) => StoreError::Transient(m.clone()),
            StoreError::Timeout(m) => StoreError::Timeout(m.clone()),
            StoreError::Overloaded { queued } => StoreError::Overloaded { queued: *queued },
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
            StoreError::Backend(e) => StoreError::Backend(e.to_string().into()),
        }
    }

    /// A sensible wait before a retry of a [`ErrorClass::Retry`] error.
    pub fn retry_after(&self) -> Duration {
        match self {
            StoreError::Unavailable(_) => Duration::from_secs(5),
            _ => Duration::from_secs(1),
        }
    }
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
    /// PostgreSQL's jsonb (and text) cannot hold U+0000.
    #[error("event {index}: `{path}` holds a NUL character (U+0000), which cannot be stored")]
    NulCharacter { index: usize, path: String },
    #[error("the {what} holds a NUL character (U+0000), which cannot be stored")]
    NulInName { what: &'static str },
    /// Some of the request's event ids are stored, but not as this request's events.
    #[error("event id {event_id} is already stored as another append's event")]
    EventIdTaken { event_id: uuid::Uuid },
}

/// PostgreSQL error codes (SQLSTATE) the store tells apart.
mod sqlstate {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    pub const LOCK_NOT_AVAILABLE: &str = "55P03";
    pub const QUERY_CANCELED: &str = "57014";
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const CRASH_SHUTDOWN: &str = "57P02";
    pub const CANNOT_CONNECT_NOW: &str = "57P03";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
}

/// How the store treats a failed statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A unique constraint: a retried event id or key, or a concurrent writer.
    Unique,
    /// The values of some request in the statement (class 22 data exceptions, class 23
    /// checks other than unique): only that request can be at fault.
    Data,
    /// Retry the statement: nothing was committed, or it was and event ids make a retry
    /// harmless.
    Transient,
    /// A lock wait or statement timeout.
    Timeout,
    /// No connection to be had.
    Unavailable,
    Other,
}

pub(crate) fn failure_of(error: &sqlx::Error) -> Failure {
    use sqlstate::*;
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some(UNIQUE_VIOLATION) => Failure::Unique,
            Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED) => Failure::Transient,
            Some(ADMIN_SHUTDOWN | CRASH_SHUTDOWN) => Failure::Transient,
            Some(CANNOT_CONNECT_NOW | TOO_MANY_CONNECTIONS) => Failure::Unavailable,
            Some(LOCK_NOT_AVAILABLE | QUERY_CANCELED) => Failure::Timeout,
            Some(code) if code.starts_with("22") || code.starts_with("23") => Failure::Data,
            _ => Failure::Other,
        },
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            Failure::Transient
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            Failure::Unavailable
        }
        _ => Failure::Other,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let message = error.to_string();
        match failure_of(&error) {
            Failure::Data => StoreError::Refused(message),
            Failure::Transient => StoreError::Transient(message),
            Failure::Timeout => StoreError::Timeout(message),
            Failure::Unavailable => StoreError::Unavailable(message),
            Failure::Unique | Failure::Other => StoreError::Backend(Box::new(error)),
        }
    }
}
