//! The event store as operator commands read it: whole streams in stream-id order (keyset
//! pages, so memory stays flat and a load can resume after a stream), events from a global
//! position, and the transaction horizon that says when a catch-up has seen everything.
//!
//! Everything here reads; nothing is migrated or written.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keel_eventstore::{GlobalCheckpoint, PgEventStore, SessionTimeouts};
use keel_schemas::EventEnvelope;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::event_rows::{EventRow, EVENT_COLUMNS};
use super::OperationError;

/// Rows per keyset page: big enough that a round trip is cheap per event, small enough that
/// a page is a few MB at most.
pub const PAGE_ROWS: usize = 2_000;

/// Counting or finding a position may scan the whole table: longer than the services' 5 s.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the global log's committed part ends, in transaction ids: every transaction below
/// `xmin` has ended; every transaction at or above `xmax` began after this was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub xmin: u64,
    pub xmax: u64,
}

impl Horizon {
    /// A checkpoint that every event of a transaction at or above `xmin` is after, and every
    /// event of an earlier (so ended) transaction is at or before: a bulk load that starts
    /// after this was taken sees the latter, and a catch-up from it re-applies the former.
    pub fn checkpoint(&self) -> GlobalCheckpoint {
        GlobalCheckpoint {
            transaction_id: self.xmin.saturating_sub(1),
            position: i64::MAX as u64,
        }
    }
}

#[derive(Clone)]
pub struct EventSource {
    store: PgEventStore,
}

impl EventSource {
    /// Connects to one service's event store (a small pool; no migrations: it only reads).
    pub async fn connect(url: &str) -> Result<Self, OperationError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| OperationError::EventStore(format!("not a PostgreSQL URL: {e}")))?;
        let timeouts = SessionTimeouts {
            statement: STATEMENT_TIMEOUT,
            ..SessionTimeouts::default()
        };
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(timeouts.apply(options))
            .await?;
        Ok(Self::new(PgEventStore::new(pool)))
    }

    pub fn new(store: PgEventStore) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &PgEventStore {
        &self.store
    }

    fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    pub async fn horizon(&self) -> Result<Horizon, OperationError> {
        let (xmin, xmax): (String, String) = sqlx::query_as(
            "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text \
             FROM pg_current_snapshot() AS s",
        )
        .fetch_one(self.pool())
        .await?;
        let parse = |raw: &str| {
            raw.parse::<u64>()
                .map_err(|_| OperationError::EventStore(format!("a transaction id `{raw}`")))
        };
        Ok(Horizon {
            xmin: parse(&xmin)?,
            xmax: parse(&xmax)?,
        })
    }

    /// About how many events of `stream_type` there are, for progress reports: exact on a
    /// small table, the planner's estimate of all events on a big one (counting would take
    /// as long as a good part of the load).
    pub async fn estimate_events(&self, stream_type: &str) -> Result<u64, OperationError> {
        let estimate: f32 =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'events'::regclass")
                .fetch_one(self.pool())
                .await?;
        if estimate >= 1_000_000.0 {
            return Ok(estimate as u64);
        }
        let exact: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = $1")
            .bind(stream_type)
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(exact).unwrap_or(0))
    }

    /// Whole streams of `stream_type` in stream-id order, after the stream `after` (all
    /// of them when `None`).
    pub fn streams(&self, stream_type: &str, after: Option<String>) -> StreamReader {
        StreamReader {
            pool: self.pool().clone(),
            stream_type: stream_type.to_owned(),
            // After every version of `after`; before every stream when there is none.
            after: after.map_or((String::new(), 0), |s| (s, i64::MAX)),
            rows: VecDeque::new(),
            current: Vec::new(),
            exhausted: false,
        }
    }

    /// Up to `limit` events of `stream_type` with a global position above `after`, in
    /// position order.
    pub async fn events_after(
        &self,
        stream_type: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, OperationError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e \
             WHERE e.position > $2 AND e.stream_type = $1 ORDER BY e.position LIMIT $3"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_type)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(EventRow::into_envelope).collect()
    }

    /// The highest global position assigned so far (0 for an empty store).
    pub async fn last_position(&self) -> Result<u64, OperationError> {
        let position: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(position).unwrap_or(0))
    }

    /// The global position of the first event recorded at or after `time`.
    pub async fn first_position_since(
        &self,
        time: DateTime<Utc>,
    ) -> Result<Option<u64>, OperationError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT min(position) FROM events WHERE recorded_at >= $1")
                .bind(time)
                .fetch_one(self.pool())
                .await?;
        Ok(position.and_then(|p| u64::try_from(p).ok()))
    }

    /// Every event of the given streams, grouped by stream (stream-id order), each stream's
    /// in version order.
    pub async fn read_streams(
        &self,
        stream_ids: &[String],
    ) -> Result<Vec<Vec<EventEnvelope>>, OperationError> {
        if stream_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e \
             WHERE e.stream_id = ANY($1) ORDER BY e.stream_id, e.version"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_ids)
            .fetch_all(self.pool())
            .await?;
        let mut streams: Vec<Vec<EventEnvelope>> = Vec::new();
        for row in rows {
            let event = row.into_envelope()?;
            match streams.last_mut() {
                Some(stream) if stream[0].stream_id == event.stream_id => stream.push(event),
                _ => streams.push(vec![event]),
            }
        }
        Ok(streams)
    }
}

/// Reads streams one page of rows at a time, by keyset on `(stream_id, version)` (the
/// event store's unique index, so each page is an index range scan), and hands out whole
/// streams: a stream cut by a page boundary is completed from the next page.
pub struct StreamReader {
    pool: PgPool,
    stream_type: String,
    after: (String, i64),
    rows: VecDeque<EventEnvelope>,
    current: Vec<EventEnvelope>,
    exhausted: bool,
}

impl StreamReader {
    /// The next stream's events (version order), or `None` after the last.
    pub async fn next_stream(&mut self) -> Result<Option<Vec<EventEnvelope>>, OperationError> {
        loop {
            if self.rows.is_empty() && !self.exhausted {
                self.fetch().await?;
            }
            let Some(event) = self.rows.pop_front() else {
                let last = std::mem::take(&mut self.current);
                return Ok((!last.is_empty()).then_some(last));
            };
            if self
                .current
                .first()
                .is_some_and(|first| first.stream_id != event.stream_id)
            {
                self.rows.push_front(event);
                return Ok(Some(std::mem::take(&mut self.current)));
            }
            self.current.push(event);
        }
    }

    async fn fetch(&mut self) -> Result<(), OperationError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e \
             WHERE e.stream_type = $1 AND (e.stream_id, e.version) > ($2, $3) \
             ORDER BY e.stream_id, e.version LIMIT $4"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(&self.stream_type)
            .bind(&self.after.0)
            .bind(self.after.1)
            .bind(PAGE_ROWS as i64)
            .fetch_all(&self.pool)
            .await?;
        self.exhausted = rows.len() < PAGE_ROWS;
        if let Some(last) = rows.last() {
            self.after = (last.stream_id.clone(), last.version);
        }
        for row in rows {
            self.rows.push_back(row.into_envelope()?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_of_a_horizon_is_after_every_ended_transaction() {
        let horizon = Horizon {
            xmin: 100,
            xmax: 105,
        };
        let checkpoint = horizon.checkpoint();
        let ended = GlobalCheckpoint {
            transaction_id: 99,
            position: 1 << 40,
        };
        let running = GlobalCheckpoint {
            transaction_id: 100,
            position: 1,
        };
        assert!(ended <= checkpoint);
        assert!(running > checkpoint);
    }
}
