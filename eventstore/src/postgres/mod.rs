//! The PostgreSQL event store (sqlx), with embedded migrations.

mod append;
mod batch;
mod outbox;
mod read;
mod retry;
mod row;
mod snapshot;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keel_schemas::EventEnvelope;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::PgConnection;

pub use batch::GroupCommit;

use crate::{
    AppendRequest, Committed, EventStore, GlobalBatch, GlobalCheckpoint, IdempotencyRecord,
    OutboxEntry, Snapshot, StoreError,
};

/// Time bounds of the store's database sessions: no statement runs, and no lock is
/// waited for, longer than this (a batch stuck behind an open transaction fails instead of
/// stalling its callers).
#[derive(Debug, Clone, Copy)]
pub struct SessionTimeouts {
    pub statement: Duration,
    pub lock: Duration,
}

impl Default for SessionTimeouts {
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(5),
            lock: Duration::from_secs(2),
        }
    }
}

impl SessionTimeouts {
    /// `options` with these timeouts set on every connection.
    pub fn apply(self, options: PgConnectOptions) -> PgConnectOptions {
        options.options([
            (
                "statement_timeout",
                format!("{}ms", self.statement.as_millis()),
            ),
            ("lock_timeout", format!("{}ms", self.lock.as_millis())),
        ])
    }
}

/// An [`EventStore`] in one PostgreSQL database (13 or newer, for `xid8`).
#[derive(Debug, Clone)]
pub struct PgEventStore {
    pool: PgPool,
    /// `None`: every append on its own statement. Its workers start on first use, on the
    /// runtime of the append that needs them.
    batcher: Option<Arc<batch::Batcher>>,
}

impl PgEventStore {
    /// Wraps a pool, with group commit on; call [`PgEventStore::migrate`] once before use.
    /// Give the pool [`SessionTimeouts`] so that no append can wait for ever.
    pub fn new(pool: PgPool) -> Self {
        Self::with_group_commit(pool, GroupCommit::default())
    }

    pub fn with_group_commit(pool: PgPool, settings: GroupCommit) -> Self {
        Self {
            batcher: Some(Arc::new(batch::Batcher::new(pool.clone(), settings))),
            pool,
        }
    }

    /// Every append on a statement of its own, without group commit: lower latency for a
    /// single writer that never has company, and the baseline the benchmark compares with.
    pub fn without_group_commit(mut self) -> Self {
        self.batcher = None;
        self
    }

    /// Connects with a pool of `max_connections` and default [`SessionTimeouts`], and runs
    /// the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Unavailable(format!("bad URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(SessionTimeouts::default().apply(options))
            .await?;
        let store = Self::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Group-commit workers alive (0 before the first batched append); they are restarted
    /// on the next append when one died.
    pub fn append_workers_alive(&self) -> Option<usize> {
        self.batcher.as_ref().map(|b| b.workers_alive())
    }

    /// Deletes idempotency keys older than `older_than`, `batch` at a time; returns how
    /// many were deleted.
    pub async fn purge_idempotency_keys(
        &self,
        older_than: Duration,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let done = append::purge_idempotency(&self.pool, older_than, i64::from(batch)).await?;
            total += done;
            if done < u64::from(batch) {
                return Ok(total);
            }
        }
    }

    /// Brings the schema up to date; safe to run concurrently and repeatedly.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends inside the caller's transaction, so other writes (saga state, a read
    /// model) commit or roll back with the events. Not retried; on an error the
    /// transaction is aborted and must be rolled back.
    pub async fn append_in(
        &self,
        tx: &mut PgConnection,
        request: AppendRequest,
    ) -> Result<Committed, StoreError> {
        append::append_in(&self.pool, tx, request).await
    }
}

#[async_trait]
impl EventStore for PgEventStore {
    async fn append(&self, request: AppendRequest) -> Result<Committed, StoreError> {
        match &self.batcher {
            Some(batcher) => batcher.append(request).await,
            None => {
                let columns = append::Columns::of(&request)?;
                append::append_one(&self.pool, request, &columns, false).await
            }
        }
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        to_version: Option<u64>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        read::read_stream(&self.pool, stream_id, from_version, to_version).await
    }

    async fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        read::stream_version(&self.pool, stream_id).await
    }

    async fn read_all(
        &self,
        after: GlobalCheckpoint,
        limit: usize,
    ) -> Result<GlobalBatch, StoreError> {
        read::read_all(&self.pool, after, limit).await
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        snapshot::save(&self.pool, snapshot).await
    }

    async fn load_snapshot(
        &self,
        stream_id: &str,
        snapshot_version: u32,
    ) -> Result<Option<Snapshot>, StoreError> {
        snapshot::load(&self.pool, stream_id, snapshot_version).await
    }

    async fn load_snapshot_and_tail(
        &self,
        stream_id: &str,
        snapshot_version: u32,
    ) -> Result<(Option<Snapshot>, Vec<EventEnvelope>), StoreError> {
        snapshot::load_with_tail(&self.pool, stream_id, snapshot_version).await
    }

    async fn find_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        append::find_idempotency(&self.pool, key).await
    }

    async fn record_answer(
        &self,
        record: IdempotencyRecord,
    ) -> Result<IdempotencyRecord, StoreError> {
        append::record_answer(&self.pool, record).await
    }

    async fn outbox_peek(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        outbox::peek(&self.pool, limit).await
    }

    async fn outbox_remove(&self, ids: &[u64]) -> Result<u64, StoreError> {
        outbox::remove(&self.pool, ids).await
    }
}

/// Converts a non-negative database integer; a negative one means the data is corrupt.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// Converts a Rust count or version for binding; values past i64::MAX cannot be stored.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} out of range: {value}")))
}
