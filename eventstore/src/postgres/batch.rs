//! Group commit: concurrent appends share one statement, so one round trip and one WAL
//! flush serve many writers, and each request keeps its own outcome.
//!
//! - One queue for all workers, bounded (a full queue answers `Overloaded` at once), with
//!   the streams and idempotency keys of the batches under way: a stream is in at most one
//!   batch at a time, so batches never wait on each other's rows (no deadlocks), and a
//!   stream's requests run in arrival order.
//! - A request whose deadline passed, or whose caller gave up, is dropped before it runs:
//!   it is never appended late.
//! - A batch that fails on one request's data or a unique constraint is split in halves
//!   until the culprit runs alone (one request's trouble stays its own); a transient
//!   failure (deadlock, lost connection) retries the batch with backoff; event ids make a
//!   retry of a batch that did commit harmless.
//! - Workers that died (a panic, their runtime shut down) are replaced on the next append.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::join_all;
use sqlx::{PgPool, Row};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::append::{append_one, explain_refusal, Columns};
use super::retry::{backoff, TRANSIENT_RETRIES};
use crate::error::{failure_of, Failure};
use crate::{AppendRequest, Committed, StoreError};

const BATCH_SQL: &str = "
WITH req AS (
    SELECT * FROM UNNEST($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
        AS r(idx, stream_id, stream_type, expected, ikey, ihash)
), ok AS (
    SELECT req.*, COALESCE(cur.version, 0) AS v FROM req
    LEFT JOIN LATERAL (
        SELECT version FROM events WHERE events.stream_id = req.stream_id
        ORDER BY version DESC LIMIT 1
    ) cur ON true
    WHERE req.expected IS NULL OR COALESCE(cur.version, 0) = req.expected
), inserted AS (
    INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                        payload, metadata)
    SELECT e.event_id, ok.stream_id, ok.stream_type, ok.v + e.ord, e.event_type,
           e.schema_version, e.payload, e.metadata
    FROM UNNEST($7::int[], $8::int[], $9::uuid[], $10::text[], $11::int[], $12::jsonb[],
                $13::jsonb[]) AS e(idx, ord, event_id, event_type, schema_version, payload, metadata)
    JOIN ok ON ok.idx = e.idx
    ORDER BY e.idx, e.ord
    RETURNING position, stream_id, version
), outboxed AS (
    INSERT INTO outbox (position) SELECT position FROM inserted
), keyed AS (
    INSERT INTO idempotency_keys (key, request_hash, stream_id, stream_version)
    SELECT ok.ikey, ok.ihash, ok.stream_id, MAX(i.version)
    FROM ok JOIN inserted i ON i.stream_id = ok.stream_id
    WHERE ok.ikey IS NOT NULL
    GROUP BY ok.ikey, ok.ihash, ok.stream_id
)
SELECT position, stream_id, version FROM inserted";

/// How the batcher works; see [`crate::PgEventStore::with_group_commit`].
#[derive(Debug, Clone, Copy)]
pub struct GroupCommit {
    /// Batches under way at once.
    pub workers: usize,
    /// Events in one batch at most.
    pub max_batch_events: usize,
    /// Appends waiting at most; more are refused with `Overloaded`.
    pub max_queued: usize,
    /// How long an append may wait for its batch before it is dropped, unappended.
    pub queue_timeout: Duration,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            workers: 2,
            max_batch_events: 1000,
            max_queued: 4096,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

/// An append waiting for a batch.
struct Pending {
    id: u64,
    request: AppendRequest,
    columns: Columns,
    deadline: Instant,
    reply: oneshot::Sender<Result<Committed, StoreError>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Pending>,
    busy_streams: HashSet<String>,
    busy_keys: HashSet<String>,
}

impl Queue {
    fn is_free(&self, request: &AppendRequest) -> bool {
        let key_busy = request
            .idempotency
            .as_ref()
            .is_some_and(|k| self.busy_keys.contains(&k.key));
        !key_busy && !self.busy_streams.contains(&request.stream_id)
    }

    fn occupy(&mut self, request: &AppendRequest) -> Claimed {
        self.busy_streams.insert(request.stream_id.clone());
        let key = request.idempotency.as_ref().map(|k| k.key.clone());
        if let Some(key) = &key {
            self.busy_keys.insert(key.clone());
        }
        Claimed {
            stream: request.stream_id.clone(),
            key,
        }
    }
}

/// A stream (and key) taken by a batch under way.
struct Claimed {
    stream: String,
    key: Option<String>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Notify,
    alive: AtomicUsize,
    /// All workers ran once: fewer from now on means some died.
    started: AtomicBool,
    next_id: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (every change is one
        // collection operation), so a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Releases what a batch (or a lone writer) took, also when its task dies midway.
struct Release<'a> {
    shared: &'a Shared,
    claims: Vec<Claimed>,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let mut queue = self.shared.lock();
        for claim in self.claims.drain(..) {
            queue.busy_streams.remove(&claim.stream);
            if let Some(key) = claim.key {
                queue.busy_keys.remove(&key);
            }
        }
        let more = !queue.waiting.is_empty();
        drop(queue);
        if more {
            self.shared.wake.notify_one();
        }
    }
}

/// Hands appends to a few workers that each take whatever is queued as one batch.
pub(crate) struct Batcher {
    pool: PgPool,
    settings: GroupCommit,
    shared: Arc<Shared>,
    /// Appends under way; a lone writer skips the queue and its hop between tasks.
    in_flight: AtomicUsize,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Batcher {
    pub fn new(pool: PgPool, settings: GroupCommit) -> Self {
        Self {
            pool,
            settings,
            shared: Arc::new(Shared {
                queue: Mutex::default(),
                wake: Notify::new(),
                alive: AtomicUsize::new(0),
                started: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
            }),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Workers alive now (for readiness and tests).
    pub fn workers_alive(&self) -> usize {
        self.shared.alive.load(Ordering::Acquire)
    }

    /// Starts workers on the current runtime until the configured number are alive.
    fn ensure_workers(&self) {
        let wanted = self.settings.workers.max(1);
        loop {
            let alive = self.shared.alive.load(Ordering::Acquire);
            if alive >= wanted {
                self.shared.started.store(true, Ordering::Release);
                return;
            }
            if self
                .shared
                .alive
                .compare_exchange(alive, alive + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                if self.shared.started.load(Ordering::Acquire) {
                    tracing::warn!(alive, wanted, "starting an append worker to replace one");
                }
                let alive = Alive(Arc::clone(&self.shared));
                tokio::spawn(work(
                    self.pool.clone(),
                    alive,
                    self.settings.max_batch_events,
                ));
            }
        }
    }

    pub async fn append(&self, request: AppendRequest) -> Result<Committed, StoreError> {
        let columns = Columns::of(&request)?;
        self.ensure_workers();
        let in_flight = InFlight::enter(&self.in_flight);
        if in_flight.alone {
            let claimed = {
                let mut queue = self.shared.lock();
                (queue.waiting.is_empty() && queue.is_free(&request))
                    .then(|| queue.occupy(&request))
            };
            if let Some(claim) = claimed {
                let _release = Release {
                    shared: &self.shared,
                    claims: vec![claim],
                };
                return append_one(&self.pool, request, &columns, false).await;
            }
        }
        self.enqueue(request, columns).await
    }

    async fn enqueue(
        &self,
        request: AppendRequest,
        columns: Columns,
    ) -> Result<Committed, StoreError> {
        let (reply, answer) = oneshot::channel();
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.settings.queue_timeout;
        {
            let mut queue = self.shared.lock();
            if queue.waiting.len() >= self.settings.max_queued {
                return Err(StoreError::Overloaded {
                    queued: queue.waiting.len(),
                });
            }
            queue.waiting.push_back(Pending {
                id,
                request,
                columns,
                deadline,
                reply,
            });
        }
        self.shared.wake.notify_one();
        let stopped =
            || StoreError::Transient("the append worker stopped; nothing was appended".into());
        tokio::pin!(answer);
        match tokio::time::timeout_at(deadline, &mut answer).await {
            Ok(result) => result.map_err(|_| stopped())?,
            Err(_) => {
                // Still queued: take it out, it will never be appended. Otherwise a batch
                // has it, bounded by the statement and lock timeouts: wait for the outcome.
                let removed = {
                    let mut queue = self.shared.lock();
                    let before = queue.waiting.len();
                    queue.waiting.retain(|p| p.id != id);
                    before != queue.waiting.len()
                };
                if removed {
                    return Err(queue_timeout(self.settings.queue_timeout));
                }
                answer.await.map_err(|_| stopped())?
            }
        }
    }
}

fn queue_timeout(waited: Duration) -> StoreError {
    StoreError::Timeout(format!(
        "the append waited {waited:?} for its turn and was dropped, not appended"
    ))
}

/// Counts an append while it is under way, also when its caller gives up on it midway.
struct InFlight<'a> {
    counter: &'a AtomicUsize,
    alone: bool,
}

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        let alone = counter.fetch_add(1, Ordering::AcqRel) == 0;
        Self { counter, alone }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A worker's place in the count of live workers, given back when its task ends however
/// it ends (a panic, its runtime shutting down).
struct Alive(Arc<Shared>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn work(pool: PgPool, alive: Alive, max_events: usize) {
    let shared = &alive.0;
    loop {
        let (batch, release) = next_batch(shared, max_events).await;
        run_group(&pool, batch, false).await;
        drop(release);
    }
}

/// Waits until some queued request can run, then takes every one that can, in order, up
/// to `max_events`: at most one per stream and idempotency key, none of a stream or key
/// that another batch has.
async fn next_batch(shared: &Shared, max_events: usize) -> (Vec<Pending>, Release<'_>) {
    loop {
        let notified = shared.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let mut taken = Vec::new();
        let mut claims = Vec::new();
        let more = {
            let mut queue = shared.lock();
            let now = Instant::now();
            let mut events = 0;
            let mut kept = VecDeque::with_capacity(queue.waiting.len());
            // A stream with a request left waiting keeps its later ones waiting too.
            let mut behind: HashSet<String> = HashSet::new();
            while let Some(p) = queue.waiting.pop_front() {
                if p.reply.is_closed() {
                    continue; // the caller gave up: never append it
                }
                if p.deadline <= now {
                    let _ = p.reply.send(Err(StoreError::Timeout(
                        "the append's deadline passed while it was queued; not appended".into(),
                    )));
                    continue;
                }
                let free = queue.is_free(&p.request) && !behind.contains(&p.request.stream_id);
                if events < max_events && free {
                    events += p.request.events.len();
                    claims.push(queue.occupy(&p.request));
                    taken.push(p);
                } else {
                    behind.insert(p.request.stream_id.clone());
                    kept.push_back(p);
                }
            }
            queue.waiting = kept;
            !queue.waiting.is_empty()
        };
        if !taken.is_empty() {
            if more {
                shared.wake.notify_one();
            }
            return (taken, Release { shared, claims });
        }
        notified.await;
    }
}

/// Runs requests as one statement; on a failure that one request may have caused, splits
/// them in halves (run one after the other) until it runs alone.
fn run_group(
    pool: &PgPool,
    mut group: Vec<Pending>,
    maybe_committed: bool,
) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
    Box::pin(async move {
        if group.len() == 1 {
            for p in group {
                let result = append_one(pool, p.request, &p.columns, maybe_committed).await;
                let _ = p.reply.send(result);
            }
            return;
        }
        // One lock order for every batch.
        group.sort_by(|a, b| a.request.stream_id.cmp(&b.request.stream_id));
        let mut failures = 0;
        let mut maybe_committed = maybe_committed;
        loop {
            match insert(pool, &group).await {
                Ok(by_stream) => return answer(pool, group, by_stream, maybe_committed).await,
                Err(e) => match failure_of(&e) {
                    Failure::Unique | Failure::Data | Failure::Timeout => {
                        let right = group.split_off(group.len() / 2);
                        run_group(pool, group, maybe_committed).await;
                        run_group(pool, right, maybe_committed).await;
                        return;
                    }
                    Failure::Transient if failures < TRANSIENT_RETRIES => {
                        failures += 1;
                        maybe_committed = true;
                        tracing::debug!(error = %e, failures, "retrying a batch");
                        tokio::time::sleep(backoff(failures)).await;
                    }
                    _ => {
                        let failure = StoreError::from(e);
                        for p in group {
                            let _ = p.reply.send(Err(failure.clone_lossy()));
                        }
                        return;
                    }
                },
            }
        }
    })
}

/// Each request's outcome after the batch statement succeeded: its rows, or (inserted
/// nothing) the reason, looked up on its own.
async fn answer(
    pool: &PgPool,
    group: Vec<Pending>,
    mut by_stream: HashMap<String, Vec<(u64, u64)>>,
    maybe_committed: bool,
) {
    join_all(group.into_iter().map(|p| {
        let rows = by_stream.remove(&p.request.stream_id);
        async move {
            let result = match rows {
                Some(rows) => Ok(committed(p.request.stream_id, rows)),
                None => explain_refusal(pool, &p.request, &p.columns.ids)
                    .await
                    .map(|mut done| {
                        done.deduplicated &= !maybe_committed;
                        done
                    }),
            };
            let _ = p.reply.send(result);
        }
    }))
    .await;
}

/// Runs the batch statement; returns each stream's (position, version) rows.
async fn insert(
    pool: &PgPool,
    group: &[Pending],
) -> Result<HashMap<String, Vec<(u64, u64)>>, sqlx::Error> {
    let n = group.len();
    let events: usize = group.iter().map(|p| p.columns.ids.len()).sum();
    let (mut idx, mut streams, mut types, mut expected, mut keys, mut hashes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut e_idx = Vec::with_capacity(events);
    let mut e_ord = Vec::with_capacity(events);
    let (mut ids, mut e_types, mut versions, mut payloads, mut metadata) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, p) in group.iter().enumerate() {
        let i = i as i32;
        idx.push(i);
        streams.push(p.request.stream_id.as_str());
        types.push(p.request.stream_type.as_str());
        expected.push(p.columns.expected);
        let key = p.request.idempotency.as_ref();
        keys.push(key.map(|k| k.key.as_str()));
        hashes.push(key.map(|k| k.request_hash.as_str()));
        for ord in 0..p.columns.ids.len() {
            e_idx.push(i);
            e_ord.push(ord as i32 + 1);
        }
        ids.extend_from_slice(&p.columns.ids);
        e_types.extend(p.columns.types.iter().map(String::as_str));
        versions.extend_from_slice(&p.columns.versions);
        payloads.extend(p.columns.payloads.iter());
        metadata.extend(p.columns.metadata.iter());
    }
    let rows = sqlx::query(BATCH_SQL)
        .bind(idx)
        .bind(streams)
        .bind(types)
        .bind(expected)
        .bind(keys)
        .bind(hashes)
        .bind(e_idx)
        .bind(e_ord)
        .bind(ids)
        .bind(e_types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .fetch_all(pool)
        .await?;
    let mut by_stream: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for row in rows {
        let position: i64 = row.try_get("position")?;
        let version: i64 = row.try_get("version")?;
        by_stream
            .entry(row.try_get("stream_id")?)
            .or_default()
            .push((position as u64, version as u64));
    }
    Ok(by_stream)
}

fn committed(stream_id: String, mut rows: Vec<(u64, u64)>) -> Committed {
    rows.sort_unstable_by_key(|&(_, version)| version);
    Committed {
        stream_id,
        stream_version: rows.last().map_or(0, |&(_, v)| v),
        positions: rows.into_iter().map(|(p, _)| p).collect(),
        deduplicated: false,
    }
}
