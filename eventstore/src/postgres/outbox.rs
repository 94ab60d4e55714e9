use sqlx::PgPool;

use super::row::{event_columns, EventRow};
use super::{to_i64, to_u64};
use crate::{DeadLetter, OutboxBacklog, OutboxEntry, PendingRow, StoreError};

#[derive(sqlx::FromRow)]
struct OutboxRow {
    outbox_id: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

pub(crate) async fn peek(pool: &PgPool, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
    let sql = format!(
        "SELECT o.id AS outbox_id, {} FROM outbox o JOIN events e ON e.position = o.position \
         ORDER BY o.id LIMIT $1",
        event_columns("e")
    );
    let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
        .bind(to_i64(limit as u64, "limit")?)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(OutboxEntry {
                id: to_u64(row.outbox_id, "outbox id")?,
                event: row.event.into_envelope()?,
            })
        })
        .collect()
}

pub(crate) async fn remove(pool: &PgPool, ids: &[u64]) -> Result<u64, StoreError> {
    let ids = ids
        .iter()
        .map(|id| to_i64(*id, "outbox id"))
        .collect::<Result<Vec<_>, _>>()?;
    let done = sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
        .bind(&ids)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Rows per DELETE: short statements, so vacuum keeps up and no lock is held for long.
const DELETE_CHUNK: usize = 5_000;

#[derive(sqlx::FromRow)]
struct PendingSqlRow {
    outbox_id: i64,
    stream_id: String,
    #[sqlx(flatten)]
    event: EventRow,
}

/// The oldest `limit` rows but `exclude`, each with its event or the reason it cannot be
/// decoded (one bad row must not fail the whole read).
pub(crate) async fn peek_pending(
    pool: &PgPool,
    limit: usize,
    exclude: &[u64],
) -> Result<Vec<PendingRow>, StoreError> {
    // The excluded ids as a multirange (a batch is mostly consecutive ids): a binary search
    // per row, where `<> ALL(ids)` compared each row with every excluded id.
    let sql = format!(
        "SELECT o.id AS outbox_id, e.stream_id AS stream_id, {} FROM outbox o \
         JOIN events e ON e.position = o.position WHERE NOT (o.id <@ $2::text::int8multirange) \
         ORDER BY o.id LIMIT $1",
        event_columns("e")
    );
    let rows: Vec<PendingSqlRow> = sqlx::query_as(&sql)
        .bind(to_i64(limit as u64, "limit")?)
        .bind(multirange(exclude)?)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(PendingRow {
                id: to_u64(row.outbox_id, "outbox id")?,
                stream_id: row.stream_id,
                event: row.event.into_envelope().map_err(|e| e.to_string()),
            })
        })
        .collect()
}

/// `ids` (ascending) as PostgreSQL multirange text: `{[1,3],[7,7]}`.
fn multirange(ids: &[u64]) -> Result<String, StoreError> {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        to_i64(id, "outbox id")?;
        match ranges.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(id) => *end = id,
            _ => ranges.push((id, id)),
        }
    }
    let parts: Vec<String> = ranges.iter().map(|(a, b)| format!("[{a},{b}]")).collect();
    Ok(format!("{{{}}}", parts.join(",")))
}

/// Asks for one notification on `keel_outbox` at the next append (see migration 0005).
pub(crate) async fn arm_wakeup(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox_wakeup SET armed = true WHERE NOT armed")
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the rows `ids` in chunks; returns how many were deleted.
pub(crate) async fn remove_chunked(pool: &PgPool, ids: &[u64]) -> Result<u64, StoreError> {
    let mut total = 0;
    for chunk in ids.chunks(DELETE_CHUNK) {
        total += remove(pool, chunk).await?;
    }
    Ok(total)
}

/// Moves rows from the outbox to the dead letters with their reasons, in one statement.
pub(crate) async fn park(pool: &PgPool, rows: &[(u64, String, String)]) -> Result<u64, StoreError> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut streams = Vec::with_capacity(rows.len());
    let mut reasons = Vec::with_capacity(rows.len());
    for (id, stream, reason) in rows {
        ids.push(to_i64(*id, "outbox id")?);
        streams.push(stream.clone());
        reasons.push(reason.clone());
    }
    let done = sqlx::query(
        "WITH moved AS (DELETE FROM outbox WHERE id = ANY($1) RETURNING id, position) \
         INSERT INTO outbox_dead_letters (outbox_id, position, stream_id, reason) \
         SELECT m.id, m.position, d.stream_id, d.reason FROM moved m \
         JOIN UNNEST($1::bigint[], $2::text[], $3::text[]) AS d(id, stream_id, reason) \
           ON d.id = m.id \
         ON CONFLICT (outbox_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&streams)
    .bind(&reasons)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Which of `streams` have parked rows (their later rows must wait behind them).
pub(crate) async fn blocked_streams(
    pool: &PgPool,
    streams: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT stream_id FROM outbox_dead_letters WHERE stream_id = ANY($1)",
    )
    .bind(streams)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::multirange;

    #[test]
    fn ids_become_ranges() {
        assert_eq!(multirange(&[]).unwrap(), "{}");
        assert_eq!(
            multirange(&[1, 2, 3, 7, 9, 10]).unwrap(),
            "{[1,3],[7,7],[9,10]}"
        );
        assert!(multirange(&[u64::MAX]).is_err());
    }
}

#[derive(sqlx::FromRow)]
struct DeadLetterRow {
    outbox_id: i64,
    position: i64,
    stream_id: String,
    reason: String,
    parked_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) async fn dead_letters(pool: &PgPool) -> Result<Vec<DeadLetter>, StoreError> {
    let rows: Vec<DeadLetterRow> = sqlx::query_as(
        "SELECT outbox_id, position, stream_id, reason, parked_at FROM outbox_dead_letters \
         ORDER BY outbox_id",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(DeadLetter {
                outbox_id: to_u64(r.outbox_id, "outbox id")?,
                position: to_u64(r.position, "position")?,
                stream_id: r.stream_id,
                reason: r.reason,
                parked_at: r.parked_at,
            })
        })
        .collect()
}

/// Puts a stream's parked rows back at the end of the outbox, in their order.
pub(crate) async fn redrive(pool: &PgPool, stream_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "WITH moved AS (DELETE FROM outbox_dead_letters WHERE stream_id = $1 \
                        RETURNING outbox_id, position) \
         INSERT INTO outbox (position) SELECT position FROM moved ORDER BY outbox_id",
    )
    .bind(stream_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn backlog(pool: &PgPool) -> Result<OutboxBacklog, StoreError> {
    let (rows, oldest): (i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM outbox), \
                (SELECT e.recorded_at FROM outbox o JOIN events e ON e.position = o.position \
                 ORDER BY o.id LIMIT 1)",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboxBacklog {
        rows: to_u64(rows, "outbox rows")?,
        oldest,
    })
}

/// What the outbox relay needs beyond [`crate::EventStore::outbox_peek`]: reads that survive
/// a bad row, chunked deletes, dead letters and the backlog.
impl super::PgEventStore {
    /// The oldest `limit` outbox rows, each with its event or why it cannot be decoded.
    pub async fn outbox_peek_pending(&self, limit: usize) -> Result<Vec<PendingRow>, StoreError> {
        peek_pending(&self.pool, limit, &[]).await
    }

    /// [`PgEventStore::outbox_peek_pending`] without the rows `exclude` (a batch being
    /// published, so that the next one can be read meanwhile).
    pub async fn outbox_peek_pending_excluding(
        &self,
        limit: usize,
        exclude: &[u64],
    ) -> Result<Vec<PendingRow>, StoreError> {
        peek_pending(&self.pool, limit, exclude).await
    }

    /// Asks the next append to notify `keel_outbox`: a relay that found the outbox empty
    /// calls this, then reads once more, then waits. Appends notify nobody otherwise.
    pub async fn outbox_arm_wakeup(&self) -> Result<(), StoreError> {
        arm_wakeup(&self.pool).await
    }

    /// Deletes published rows, a few thousand per statement.
    pub async fn outbox_remove_chunked(&self, ids: &[u64]) -> Result<u64, StoreError> {
        remove_chunked(&self.pool, ids).await
    }

    /// Moves `(outbox id, stream id, reason)` rows to the dead letters.
    pub async fn outbox_park(&self, rows: &[(u64, String, String)]) -> Result<u64, StoreError> {
        park(&self.pool, rows).await
    }

    /// The streams among `streams` that have dead letters.
    pub async fn outbox_blocked_streams(
        &self,
        streams: &[String],
    ) -> Result<Vec<String>, StoreError> {
        blocked_streams(&self.pool, streams).await
    }

    /// Every parked row, oldest first.
    pub async fn outbox_dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        dead_letters(&self.pool).await
    }

    /// Puts `stream_id`'s parked rows back into the outbox (in order); returns how many.
    pub async fn outbox_redrive(&self, stream_id: &str) -> Result<u64, StoreError> {
        redrive(&self.pool, stream_id).await
    }

    /// The outbox's row count and the recording time of its oldest row.
    pub async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        backlog(&self.pool).await
    }
}
