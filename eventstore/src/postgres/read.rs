use sqlx::PgPool;

use super::row::{event_columns, EventRow};
use super::{to_i64, to_u64};
use crate::append::validate_stream_id;
use crate::{GlobalBatch, GlobalCheckpoint, GlobalEvent, StoreError};
use keel_schemas::EventEnvelope;

pub(crate) async fn read_stream(
    pool: &PgPool,
    stream_id: &str,
    from_version: u64,
    to_version: Option<u64>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    validate_stream_id(stream_id)?;
    let to = match to_version {
        Some(v) => to_i64(v, "to version")?,
        None => i64::MAX,
    };
    let sql = format!(
        "SELECT {} FROM events e \
         WHERE stream_id = $1 AND version >= $2 AND version <= $3 ORDER BY version",
        event_columns("e")
    );
    let rows: Vec<EventRow> = sqlx::query_as(&sql)
        .bind(stream_id)
        .bind(to_i64(from_version, "from version")?)
        .bind(to)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(EventRow::into_envelope).collect()
}

pub(crate) async fn stream_version(pool: &PgPool, stream_id: &str) -> Result<u64, StoreError> {
    validate_stream_id(stream_id)?;
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM events WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_one(pool)
            .await?;
    to_u64(version.unwrap_or(0), "stream version")
}

/// Reads below the oldest running transaction only, in (transaction id, position) order:
/// every row that could still commit has a transaction id at or above that horizon, so
/// it sorts after anything returned now and a checkpoint can never pass it. (The columns
/// are qualified: the text copy of the transaction id must not be what is sorted.)
pub(crate) async fn read_all(
    pool: &PgPool,
    after: GlobalCheckpoint,
    limit: usize,
) -> Result<GlobalBatch, StoreError> {
    let sql = format!(
        "SELECT {} FROM events e \
         WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2) \
           AND e.transaction_id < (SELECT pg_snapshot_xmin(pg_current_snapshot())) \
         ORDER BY e.transaction_id, e.position LIMIT $3",
        event_columns("e")
    );
    let rows: Vec<EventRow> = sqlx::query_as(&sql)
        .bind(after.transaction_id.to_string())
        .bind(to_i64(after.position, "position")?)
        .bind(to_i64(limit as u64, "limit")?)
        .fetch_all(pool)
        .await?;
    let mut checkpoint = after;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        checkpoint = GlobalCheckpoint {
            transaction_id: row.transaction_id()?,
            position: to_u64(row.position, "position")?,
        };
        events.push(GlobalEvent {
            cursor: checkpoint,
            event: row.into_envelope()?,
        });
    }
    Ok(GlobalBatch { events, checkpoint })
}
