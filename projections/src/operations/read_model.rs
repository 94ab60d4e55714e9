//! What a read model offers its operator, whatever its store: the CLI drives every
//! projector through this trait, so a second one (ClickHouse `analytics`) is one more
//! implementation, not a change to the commands.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{KafkaTarget, OperationError, Progress, RebuildSummary, ReplaySummary, VerifyReport};
use crate::engine::Projector;

#[async_trait]
pub trait ReadModel: Send + Sync {
    /// The projector's name (`search`).
    fn name(&self) -> &str;

    /// Its consumer group, source topics and dead-letter topic.
    fn kafka(&self) -> &KafkaTarget;

    /// Lines about its store for `status`: what the queries read (the index behind the
    /// alias) and how much it holds, and any unfinished rebuild.
    async fn store_status(&self) -> Result<Vec<String>, OperationError>;

    /// Its apply path, on the live read model (dead-letter re-drive).
    async fn projector(&self) -> Result<Arc<dyn Projector>, OperationError>;

    /// Builds a new generation of the read model from the event store beside the live one,
    /// catches it up, and switches the queries to it atomically.
    async fn rebuild(
        &self,
        options: &RebuildOptions,
        progress: &Progress,
    ) -> Result<RebuildSummary, OperationError>;

    /// Re-applies the events from a point of the global log, in place.
    async fn replay(
        &self,
        options: &ReplayOptions,
        progress: &Progress,
    ) -> Result<ReplaySummary, OperationError>;

    /// Compares the read model with the fold of every stream of the event store.
    async fn verify(
        &self,
        options: &VerifyOptions,
        progress: &Progress,
    ) -> Result<VerifyReport, OperationError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildOptions {
    /// Continue an interrupted rebuild.
    pub resume: bool,
    /// Delete an interrupted rebuild's unfinished generation and start over.
    pub discard: bool,
    /// Keep the old generation after the switch.
    pub keep_old: bool,
    /// The size of one write request to the store, about.
    pub batch_bytes: usize,
    /// Write requests in flight at once.
    pub requests_in_flight: usize,
    /// At most this many events per second (to spare a busy cluster); unlimited if `None`.
    pub max_rate: Option<u64>,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            resume: false,
            discard: false,
            keep_old: false,
            batch_bytes: 4 << 20,
            requests_in_flight: 3,
            max_rate: None,
        }
    }
}

/// Where a replay starts: a global position (inclusive), or the first event recorded at
/// or after a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    Position(u64),
    Time(DateTime<Utc>),
}

impl FromStr for ReplayFrom {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if let Ok(position) = raw.parse::<u64>() {
            return Ok(Self::Position(position));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Self::Time(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!(
                    "`{raw}` is neither a global position (a whole number) nor an RFC 3339 time \
                     (2025-01-02T03:04:05Z)"
                )
            })
    }
}

impl std::fmt::Display for ReplayFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Position(p) => write!(f, "global position {p}"),
            Self::Time(t) => write!(f, "{}", t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    pub from: ReplayFrom,
    /// Fold every affected stream again from its first event and overwrite its document at
    /// the same version (after a fix of the fold), instead of applying only what is missing.
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Differences printed in full; all are counted.
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_starts_at_a_position_or_a_time() {
        assert_eq!("42".parse(), Ok(ReplayFrom::Position(42)));
        let at: ReplayFrom = "2025-01-02T03:04:05+01:00".parse().unwrap();
        assert_eq!(
            at,
            ReplayFrom::Time("2025-01-02T02:04:05Z".parse().unwrap())
        );
        let e = "yesterday".parse::<ReplayFrom>().unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!("-1".parse::<ReplayFrom>().is_err());
    }
}
