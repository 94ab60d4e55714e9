use async_trait::async_trait;
use keel_schemas::EventEnvelope;

use crate::{
    AppendRequest, Committed, GlobalCheckpoint, IdempotencyRecord, OutboxEntry, Snapshot,
    StoreError,
};

/// An event read from the global log, with its own place in it: a consumer that applied
/// some of a batch checkpoints the cursor of the last event it applied.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalEvent {
    pub cursor: GlobalCheckpoint,
    pub event: EventEnvelope,
}

/// Events read from the global log and the checkpoint to continue from.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalBatch {
    pub events: Vec<GlobalEvent>,
    /// Where the next read starts (the last event's cursor); unchanged when empty.
    pub checkpoint: GlobalCheckpoint,
}

/// Append-only storage of event streams, with snapshots and a transactional outbox.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends events to one stream atomically, with their outbox rows and the idempotency
    /// key. Fails with [`StoreError::WrongExpectedVersion`] (nothing written) when the
    /// stream is not at the expected version; succeeds without writing when the idempotency
    /// key (same request hash) is stored, or every event id of the request is stored as
    /// this request's events (some of them stored otherwise is
    /// [`crate::InvalidInput::EventIdTaken`]).
    async fn append(&self, request: AppendRequest) -> Result<Committed, StoreError>;

    /// The stream's events with `from_version <= version <= to_version`, in order.
    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        to_version: Option<u64>,
    ) -> Result<Vec<EventEnvelope>, StoreError>;

    /// The stream's current version, 0 when it does not exist.
    async fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError>;

    /// Up to `limit` committed events after `after`, in a gap-free global order.
    async fn read_all(
        &self,
        after: GlobalCheckpoint,
        limit: usize,
    ) -> Result<GlobalBatch, StoreError>;

    /// Stores a snapshot unless a newer one of the same snapshot version is stored.
    /// Snapshots of other snapshot versions are kept beside it.
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError>;

    /// The stream's snapshot taken with `snapshot_version`.
    async fn load_snapshot(
        &self,
        stream_id: &str,
        snapshot_version: u32,
    ) -> Result<Option<Snapshot>, StoreError>;

    /// The newest snapshot taken with `snapshot_version` (if any) and the events after it
    /// (all events when there is none): what loading an aggregate needs. Stores that can
    /// should answer in one round trip.
    async fn load_snapshot_and_tail(
        &self,
        stream_id: &str,
        snapshot_version: u32,
    ) -> Result<(Option<Snapshot>, Vec<EventEnvelope>), StoreError> {
        let snapshot = self.load_snapshot(stream_id, snapshot_version).await?;
        let from = snapshot.as_ref().map_or(1, |s| s.stream_version + 1);
        Ok((snapshot, self.read_stream(stream_id, from, None).await?))
    }

    /// What the first request with this idempotency key was answered.
    async fn find_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Records the answer to a request that appended nothing (a refusal, a command that
    /// changed nothing) under its key, unless the key is taken: returns the record that
    /// holds the key, this one or the one that was there first.
    async fn record_answer(
        &self,
        record: IdempotencyRecord,
    ) -> Result<IdempotencyRecord, StoreError>;

    /// The oldest `limit` unpublished outbox entries.
    async fn outbox_peek(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Removes published entries; returns how many were removed.
    async fn outbox_remove(&self, ids: &[u64]) -> Result<u64, StoreError>;
}
