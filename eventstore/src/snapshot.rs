use serde_json::Value;

/// An aggregate's serialised state at a stream version.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub stream_id: String,
    pub stream_type: String,
    pub stream_version: u64,
    /// The aggregate's snapshot schema version when it was taken; a mismatch means replay.
    pub snapshot_version: u32,
    pub state: Value,
}
