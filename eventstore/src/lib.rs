//! The event store: an [`EventStore`] trait with a PostgreSQL implementation
//! ([`PgEventStore`]) and an in-memory one ([`InMemoryStore`]) that pass the same
//! [`contract`] suite, plus the aggregate [`Repository`] with snapshots.
//!
//! Guarantees every implementation gives:
//! - a stream's versions start at 1 and have no holes; an append with a wrong expected
//!   version appends nothing and reports the actual version;
//! - appending an event id that is already stored is a no-op that succeeds;
//! - an idempotency key is stored in the same transaction as its events;
//! - outbox rows are written in the same transaction as the events they announce;
//! - [`EventStore::read_all`] never skips a committed event, however transactions interleave.

mod append;
#[cfg(feature = "contract")]
pub mod contract;
mod error;
mod global;
mod memory;
mod outbox;
mod postgres;
mod repository;
mod snapshot;
mod store;

pub use append::{AppendRequest, Committed, ExpectedVersion, IdempotencyKey, IdempotencyRecord};
pub use error::{ErrorClass, InvalidInput, StoreError};
pub use global::GlobalCheckpoint;
pub use memory::InMemoryStore;
pub use outbox::{DeadLetter, OutboxBacklog, OutboxEntry, PendingRow};
pub use postgres::{GroupCommit, PgEventStore, SessionTimeouts};
pub use repository::{
    CommandContext, CommandOutcome, Loaded, Repository, RepositoryError, SnapshotPolicy,
};
pub use snapshot::Snapshot;
pub use store::{EventStore, GlobalBatch, GlobalEvent};

/// The longest stream id accepted; longer ids are refused before anything is written.
pub const MAX_STREAM_ID_LEN: usize = 200;
