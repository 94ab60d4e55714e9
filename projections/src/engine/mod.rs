//! The projector engine: a Kafka consumer loop that feeds batches of events to a
//! [`Projector`] and knows nothing of the sink behind it.
//!
//! The delivery contract, and where each promise is kept:
//!
//! 1. **At least once, offsets after the sink.** A batch's offsets are committed only after
//!    [`Projector::apply`] returned and its dead letters were acknowledged by Kafka
//!    (`runner`). A crash before that redelivers the batch, so projectors must be
//!    idempotent (the search projector dedupes by stream version).
//! 2. **Batches bounded by size and time** (1,000 events, 50 ms by default; [`config`]).
//! 3. **Transient failures block, poison events do not.** [`ApplyError::Transient`] retries
//!    the whole batch with exponential backoff and jitter, for ever (`backoff`);
//!    [`ApplyError::Poison`] names the events that fail deterministically: they go to the
//!    dead-letter topic `keel.dead-letters.<projector>` and the rest of the batch counts as
//!    applied (`dead_letter`). A message that is not an event envelope is poison too
//!    (`envelope`).
//! 4. **Rebalance-safe.** Several instances share a topic's partitions through one consumer
//!    group. When a partition is revoked, its applied offsets are committed synchronously
//!    before it leaves, and messages of it still waiting in an unapplied batch are dropped
//!    (the next owner reads them again from the committed offset); offsets of partitions
//!    that were lost are never committed (`context`).
//! 5. **Graceful shutdown.** A stop request abandons a batch still being collected or
//!    retried (uncommitted, so it is read again), commits what was applied, and leaves the
//!    group.
//!
//! Metrics (`metrics`) and `/health/*` (`health`) are served by the process that runs
//! the [`Runner`].

mod backoff;
mod batch;
mod config;
mod context;
mod dead_letter;
mod envelope;
mod error;
pub mod health;
mod metrics;
mod projector;
mod runner;
mod topics;

pub use backoff::Backoff;
pub use config::{RunnerConfig, DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TIMEOUT};
pub use dead_letter::{DeadLetter, DeadLetterProducer};
pub use envelope::{decode_envelope, Envelope, Source};
pub use error::{ApplyError, EngineError, Rejected};
pub use metrics::EngineMetrics;
pub use projector::Projector;
pub use runner::Runner;
