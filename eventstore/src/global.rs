use serde::{Deserialize, Serialize};

/// A reader's place in the global log: the last (transaction id, position) it has seen.
///
/// Rows are read in (transaction id, position) order and only below the oldest
/// transaction still running, so a row that commits late can never fall behind a
/// checkpoint (see DESIGN.md, "Global order hazard").
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct GlobalCheckpoint {
    pub transaction_id: u64,
    pub position: u64,
}

impl GlobalCheckpoint {
    /// Before the first event.
    pub const START: GlobalCheckpoint = GlobalCheckpoint {
        transaction_id: 0,
        position: 0,
    };
}
