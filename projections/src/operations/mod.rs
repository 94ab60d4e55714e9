//! Operator work on projections, whatever their store: consumer-group status and lag,
//! dead-letter listing and re-drive, reading the event store for rebuilds, replays and
//! verification, catching up from the global log, progress and summaries.
//!
//! A read model plugs in by implementing [`ReadModel`] (the search model does in
//! `crate::search`); the CLI drives every projector through it. Nothing here knows
//! Elasticsearch or ClickHouse, and nothing changes the engine: events read from the event
//! store go through the projector's own [`crate::engine::Projector::apply`].
//!
//! Files: `event_source` (keyset pages of whole streams, positions, the transaction
//! horizon) and `event_rows` (its row decoding), `catch_up` (applying through a projector,
//! following the global log), `consumer_group` (lag per partition), `dead_letters`,
//! `status`, `read_model` (the trait and the commands' options), `report` (summaries),
//! `progress`, `error`.

mod catch_up;
mod consumer_group;
mod dead_letters;
mod error;
mod event_rows;
mod event_source;
mod progress;
mod read_model;
mod report;
mod status;

pub use catch_up::{apply, apply_batch, catch_up, envelope, Applied, CaughtUp, EVENT_STORE_SOURCE};
pub use consumer_group::{group_status, GroupStatus, KafkaTarget, PartitionStatus};
pub use dead_letters::{counts, list, redrive, DeadLetterCounts, ListedLetter, Listing, Redriven};
pub use error::OperationError;
pub use event_source::{EventSource, Horizon, StreamReader, PAGE_ROWS};
pub use progress::{short_duration, thousands, Progress};
pub use read_model::{ReadModel, RebuildOptions, ReplayFrom, ReplayOptions, VerifyOptions};
pub use report::{
    Difference, DifferenceKind, OldGeneration, RebuildSummary, ReplaySummary, VerifyReport,
};
pub use status::{status, ProjectorStatus};
