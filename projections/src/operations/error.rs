//! Why an operator command failed. Every variant says which dependency or which decision
//! it is about, so the CLI can print it as it is.

use keel_eventstore::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OperationError {
    #[error("the event store: {0}")]
    EventStore(String),
    /// The read model's store (Elasticsearch, ClickHouse) refused or did not answer.
    #[error("{0}")]
    Sink(String),
    #[error("kafka at {brokers}: {reason}")]
    Kafka { brokers: String, reason: String },
    /// Events could not be applied through the projector, even after retries.
    #[error("applying events through the {projector} projector: {reason}")]
    Apply { projector: String, reason: String },
    /// The operator has to decide (an interrupted rebuild: resume or discard it).
    #[error("{0}")]
    Decision(String),
    /// The command does not fit the state it found (nothing to resume, a bad --from).
    #[error("{0}")]
    Usage(String),
}

impl From<StoreError> for OperationError {
    fn from(e: StoreError) -> Self {
        Self::EventStore(e.to_string())
    }
}

impl From<sqlx::Error> for OperationError {
    fn from(e: sqlx::Error) -> Self {
        Self::EventStore(e.to_string())
    }
}
