use keel_schemas::SchemaError;
use thiserror::Error;

use crate::StoreError;

/// Why a command was not executed, split by who is at fault.
#[derive(Debug, Error)]
pub enum RepositoryError<E: std::error::Error + 'static> {
    /// A domain rule refused the command (the client's fault).
    #[error(transparent)]
    Rejected(E),
    /// The stream is not at the version the client expected, or stayed contended.
    #[error("stream is at version {actual}, expected {expected}")]
    Conflict { expected: u64, actual: u64 },
    /// A stored event cannot be read as any known schema version.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
