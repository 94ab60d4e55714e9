//! An in-process [`EventStore`]: the embedded default for unit tests and examples.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::Utc;
use keel_schemas::EventEnvelope;
use uuid::Uuid;

use crate::append::validate_stream_id;
use crate::{
    AppendRequest, Committed, EventStore, GlobalBatch, GlobalCheckpoint, GlobalEvent,
    IdempotencyRecord, OutboxEntry, Snapshot, StoreError,
};

/// Everything behind one lock: an append is atomic and commits in position order, so the
/// global log has no gaps and the checkpoint's transaction id is simply the position.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Index = position - 1.
    events: Vec<EventEnvelope>,
    streams: HashMap<String, Vec<usize>>,
    event_ids: HashMap<Uuid, usize>,
    snapshots: HashMap<(String, u32), Snapshot>,
    idempotency: HashMap<String, IdempotencyRecord>,
    outbox: BTreeMap<u64, usize>,
    next_outbox_id: u64,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Corrupt("in-memory store lock poisoned".into()))
    }
}

impl Inner {
    fn version(&self, stream_id: &str) -> u64 {
        self.streams.get(stream_id).map_or(0, |s| s.len() as u64)
    }

    fn replay_of(&self, request: &AppendRequest) -> Result<Option<Committed>, StoreError> {
        if let Some(key) = &request.idempotency {
            if let Some(record) = self.idempotency.get(&key.key) {
                if record.request_hash != key.request_hash {
                    return Err(StoreError::IdempotencyKeyReused {
                        key: key.key.clone(),
                    });
                }
                return Ok(Some(Committed {
                    stream_id: record.stream_id.clone(),
                    stream_version: record.stream_version,
                    positions: Vec::new(),
                    deduplicated: true,
                }));
            }
        }
        let ids: Vec<Uuid> = request.events.iter().map(|e| e.event_id).collect();
        let stored = ids
            .iter()
            .filter_map(|id| self.event_ids.get(id).map(|&i| &self.events[i]))
            .map(|e| {
                let (id, stream) = (e.event_id, e.stream_id.clone());
                (id, stream, e.stream_version, e.global_position)
            })
            .collect();
        crate::append::repeated_append(request, &ids, stored)
    }
}

#[async_trait]
impl EventStore for InMemoryStore {
    async fn append(&self, request: AppendRequest) -> Result<Committed, StoreError> {
        request.validate()?;
        let mut inner = self.lock()?;
        if let Some(done) = inner.replay_of(&request)? {
            return Ok(done);
        }
        let actual = inner.version(&request.stream_id);
        if request.expected.required().is_some_and(|v| v != actual) {
            return Err(StoreError::WrongExpectedVersion {
                stream_id: request.stream_id,
                expected: request.expected,
                actual,
            });
        }
        let now = Utc::now();
        let mut positions = Vec::with_capacity(request.events.len());
        for (offset, event) in request.events.into_iter().enumerate() {
            let index = inner.events.len();
            let position = index as u64 + 1;
            inner.events.push(EventEnvelope {
                event_id: event.event_id,
                stream_id: request.stream_id.clone(),
                stream_type: request.stream_type.clone(),
                stream_version: actual + offset as u64 + 1,
                global_position: position,
                event_type: event.event_type,
                schema_version: event.schema_version,
                recorded_at: now,
                payload: event.payload,
                metadata: event.metadata,
            });
            inner.event_ids.insert(event.event_id, index);
            inner
                .streams
                .entry(request.stream_id.clone())
                .or_default()
                .push(index);
            inner.next_outbox_id += 1;
            let outbox_id = inner.next_outbox_id;
            inner.outbox.insert(outbox_id, index);
            positions.push(position);
        }
        let stream_version = inner.version(&request.stream_id);
        if let Some(key) = request.idempotency {
            inner.idempotency.insert(
                key.key.clone(),
                IdempotencyRecord {
                    key: key.key,
                    request_hash: key.request_hash,
                    stream_id: request.stream_id.clone(),
                    stream_version,
                    answer: None,
                },
            );
        }
        Ok(Committed {
            stream_id: request.stream_id,
            stream_version,
            positions,
            deduplicated: false,
        })
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        to_version: Option<u64>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        validate_stream_id(stream_id)?;
        let inner = self.lock()?;
        let to = to_version.unwrap_or(u64::MAX);
        Ok(inner
            .streams
            .get(stream_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&i| &inner.events[i])
                    .filter(|e| e.stream_version >= from_version && e.stream_version <= to)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        Ok(self.lock()?.version(stream_id))
    }

    async fn read_all(
        &self,
        after: GlobalCheckpoint,
        limit: usize,
    ) -> Result<GlobalBatch, StoreError> {
        let inner = self.lock()?;
        let start = usize::try_from(after.position).unwrap_or(usize::MAX);
        let events: Vec<GlobalEvent> = inner
            .events
            .iter()
            .skip(start)
            .take(limit)
            .map(|e| GlobalEvent {
                cursor: GlobalCheckpoint {
                    transaction_id: e.global_position,
                    position: e.global_position,
                },
                event: e.clone(),
            })
            .collect();
        let checkpoint = events.last().map_or(after, |e| e.cursor);
        Ok(GlobalBatch { events, checkpoint })
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        validate_stream_id(&snapshot.stream_id)?;
        let mut inner = self.lock()?;
        let slot = (snapshot.stream_id.clone(), snapshot.snapshot_version);
        let keep_old = inner
            .snapshots
            .get(&slot)
            .is_some_and(|old| old.stream_version >= snapshot.stream_version);
        if !keep_old {
            inner.snapshots.insert(slot, snapshot);
        }
        Ok(())
    }

    async fn load_snapshot(
        &self,
        stream_id: &str,
        snapshot_version: u32,
    ) -> Result<Option<Snapshot>, StoreError> {
        validate_stream_id(stream_id)?;
        let slot = (stream_id.to_owned(), snapshot_version);
        Ok(self.lock()?.snapshots.get(&slot).cloned())
    }

    async fn find_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock()?.idempotency.get(key).cloned())
    }

    async fn record_answer(
        &self,
        record: IdempotencyRecord,
    ) -> Result<IdempotencyRecord, StoreError> {
        let mut inner = self.lock()?;
        Ok(inner
            .idempotency
            .entry(record.key.clone())
            .or_insert(record)
            .clone())
    }

    async fn outbox_peek(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .outbox
            .iter()
            .take(limit)
            .map(|(&id, &index)| OutboxEntry {
                id,
                event: inner.events[index].clone(),
            })
            .collect())
    }

    async fn outbox_remove(&self, ids: &[u64]) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        Ok(ids
            .iter()
            .filter(|id| inner.outbox.remove(id).is_some())
            .count() as u64)
    }
}
