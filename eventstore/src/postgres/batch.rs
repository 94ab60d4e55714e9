//! Group commit: concurrent appends share one statement, so one round trip and one WAL
//! flush serve many writers. Each request keeps its own outcome: its expected version is
//! checked on its own, and a request the batch cannot decide alone (a unique violation
//! anywhere: a retried event id, a reused idempotency key, a race with another batch) is
//! re-run on its own statement, since the failed batch wrote nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::join_all;
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::append::{append_one, explain_refusal, Columns};
use crate::{AppendRequest, Committed, StoreError};

const BATCH_SQL: &str = "
WITH req AS (
    SELECT * FROM UNNEST($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
        AS r(idx, stream_id, stream_type, expected, ikey, ihash)
), ok AS (
    SELECT req.*, cur.v FROM req
    CROSS JOIN LATERAL (
        SELECT COALESCE(MAX(version), 0) AS v FROM events WHERE events.stream_id = req.stream_id
    ) cur
    WHERE req.expected IS NULL OR cur.v = req.expected
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

/// An append waiting for a batch.
struct Pending {
    request: AppendRequest,
    columns: Columns,
    reply: oneshot::Sender<Result<Committed, StoreError>>,
}

/// Hands appends to a few workers that each take whatever is queued as one batch.
#[derive(Debug)]
pub(crate) struct Batcher {
    pool: PgPool,
    queue: mpsc::Sender<Pending>,
    /// Appends under way; a lone writer skips the queue and its hop between tasks.
    in_flight: AtomicUsize,
}

impl Batcher {
    /// Starts `workers` batch workers on the current runtime.
    pub fn start(pool: PgPool, workers: usize, max_events: usize) -> Self {
        let (queue, receiver) = mpsc::channel(4096);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers.max(1) {
            tokio::spawn(work(pool.clone(), Arc::clone(&receiver), max_events));
        }
        Self {
            pool,
            queue,
            in_flight: AtomicUsize::new(0),
        }
    }

    pub async fn append(&self, request: AppendRequest) -> Result<Committed, StoreError> {
        let columns = Columns::of(&request)?;
        let in_flight = InFlight::enter(&self.in_flight);
        if in_flight.alone {
            append_one(&self.pool, request, &columns).await
        } else {
            self.enqueue(request, columns).await
        }
    }

    async fn enqueue(
        &self,
        request: AppendRequest,
        columns: Columns,
    ) -> Result<Committed, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Backend("the append workers have stopped".into());
        self.queue
            .send(Pending {
                request,
                columns,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
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

async fn work(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>, max_events: usize) {
    // Requests that clashed with the batch being built (same stream or idempotency key)
    // go first into the next one.
    let mut deferred: VecDeque<Pending> = VecDeque::new();
    loop {
        let first = match deferred.pop_front() {
            Some(p) => p,
            None => match receiver.lock().await.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        let mut batch = Batch::default();
        batch.push(first);
        while batch.events < max_events {
            let Some(next) = deferred.pop_front() else {
                break;
            };
            if !batch.fits(&next) {
                deferred.push_front(next);
                break;
            }
            batch.push(next);
        }
        // Another worker holding the queue is waiting on it, so it is empty: go with what
        // this batch has (waiting for that lock would wait for a message that may not come).
        if let Ok(mut receiver) = receiver.try_lock() {
            while batch.events < max_events {
                let Ok(next) = receiver.try_recv() else { break };
                if batch.fits(&next) {
                    batch.push(next);
                } else {
                    deferred.push_back(next);
                }
            }
        }
        batch.run(&pool).await;
    }
}

#[derive(Default)]
struct Batch {
    pending: Vec<Pending>,
    streams: HashSet<String>,
    keys: HashSet<String>,
    events: usize,
}

impl Batch {
    fn push(&mut self, p: Pending) {
        self.streams.insert(p.request.stream_id.clone());
        if let Some(k) = &p.request.idempotency {
            self.keys.insert(k.key.clone());
        }
        self.events += p.request.events.len();
        self.pending.push(p);
    }

    /// One request per stream and per idempotency key, so that requests of one batch
    /// cannot collide with each other.
    fn fits(&self, p: &Pending) -> bool {
        let key_taken = p
            .request
            .idempotency
            .as_ref()
            .is_some_and(|k| self.keys.contains(&k.key));
        !key_taken && !self.streams.contains(&p.request.stream_id)
    }

    async fn run(self, pool: &PgPool) {
        if self.pending.len() == 1 {
            for p in self.pending {
                let result = append_one(pool, p.request, &p.columns).await;
                let _ = p.reply.send(result);
            }
            return;
        }
        match self.insert(pool).await {
            Ok(mut by_stream) => {
                join_all(self.pending.into_iter().map(|p| {
                    let rows = by_stream.remove(&p.request.stream_id);
                    async move {
                        let result = match rows {
                            Some(rows) => Ok(committed(p.request.stream_id, rows)),
                            None => explain_refusal(pool, &p.request, &p.columns.ids).await,
                        };
                        let _ = p.reply.send(result);
                    }
                }))
                .await;
            }
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                join_all(self.pending.into_iter().map(|p| async move {
                    let result = append_one(pool, p.request, &p.columns).await;
                    let _ = p.reply.send(result);
                }))
                .await;
            }
            Err(e) => {
                let message = e.to_string();
                for p in self.pending {
                    let _ = p
                        .reply
                        .send(Err(StoreError::Backend(message.clone().into())));
                }
            }
        }
    }

    /// Runs the batch statement; returns each stream's (position, version) rows.
    async fn insert(&self, pool: &PgPool) -> Result<HashMap<String, Vec<(u64, u64)>>, sqlx::Error> {
        let n = self.pending.len();
        let (mut idx, mut streams, mut types, mut expected, mut keys, mut hashes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut e_idx = Vec::with_capacity(self.events);
        let mut e_ord = Vec::with_capacity(self.events);
        let (mut ids, mut e_types, mut versions, mut payloads, mut metadata) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, p) in self.pending.iter().enumerate() {
            let i = i as i32;
            idx.push(i);
            streams.push(p.request.stream_id.as_str());
            types.push(p.request.stream_type.as_str());
            expected.push(p.columns.expected);
            keys.push(p.request.idempotency.as_ref().map(|k| k.key.as_str()));
            hashes.push(
                p.request
                    .idempotency
                    .as_ref()
                    .map(|k| k.request_hash.as_str()),
            );
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
