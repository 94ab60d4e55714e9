use keel_schemas::EventEnvelope;
use serde_json::Value;
use sqlx::{FromRow, PgPool, Row};

use super::row::{event_columns, EventRow};
use super::{to_i64, to_u64};
use crate::append::validate_stream_id;
use crate::{Snapshot, StoreError};

pub(crate) async fn save(pool: &PgPool, snapshot: Snapshot) -> Result<(), StoreError> {
    validate_stream_id(&snapshot.stream_id)?;
    // Writers may race; keep whichever snapshot is newer. Each snapshot version has its own
    // row, so binaries of two versions (a rolling deploy) never replace each other's.
    sqlx::query(
        "INSERT INTO snapshots (stream_id, stream_type, version, snapshot_version, state) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (stream_id, snapshot_version) DO UPDATE SET \
           stream_type = EXCLUDED.stream_type, version = EXCLUDED.version, \
           state = EXCLUDED.state, taken_at = now() \
         WHERE snapshots.version < EXCLUDED.version",
    )
    .bind(&snapshot.stream_id)
    .bind(&snapshot.stream_type)
    .bind(to_i64(snapshot.stream_version, "snapshot version")?)
    .bind(snapshot.snapshot_version as i32)
    .bind(&snapshot.state)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn load(
    pool: &PgPool,
    stream_id: &str,
    snapshot_version: u32,
) -> Result<Option<Snapshot>, StoreError> {
    validate_stream_id(stream_id)?;
    let row = sqlx::query(
        "SELECT stream_type, version, state FROM snapshots \
         WHERE stream_id = $1 AND snapshot_version = $2",
    )
    .bind(stream_id)
    .bind(snapshot_version as i32)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Snapshot {
        stream_id: stream_id.to_owned(),
        stream_type: row.try_get("stream_type")?,
        stream_version: to_u64(row.try_get("version")?, "snapshot version")?,
        snapshot_version,
        state: row.try_get("state")?,
    }))
}

/// One round trip: the matching snapshot's version on every row and its state on the first,
/// joined to the events after it. With no event after the snapshot the one row has NULL
/// event columns.
pub(crate) async fn load_with_tail(
    pool: &PgPool,
    stream_id: &str,
    snapshot_version: u32,
) -> Result<(Option<Snapshot>, Vec<EventEnvelope>), StoreError> {
    validate_stream_id(stream_id)?;
    let sql = format!(
        "SELECT s.stream_type AS snapshot_stream_type, s.version AS snapshot_at, \
                CASE WHEN row_number() OVER (ORDER BY e.version) = 1 THEN s.state END \
                  AS snapshot_state, {} \
         FROM (SELECT 1) AS one \
         LEFT JOIN snapshots s ON s.stream_id = $1 AND s.snapshot_version = $2 \
         LEFT JOIN events e ON e.stream_id = $1 AND e.version > COALESCE(s.version, 0) \
         ORDER BY e.version",
        event_columns("e")
    );
    let rows = sqlx::query(&sql)
        .bind(stream_id)
        .bind(snapshot_version as i32)
        .fetch_all(pool)
        .await?;
    let mut snapshot = None;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let state: Option<Value> = row.try_get("snapshot_state")?;
        if let Some(state) = state {
            let at: i64 = row.try_get("snapshot_at")?;
            snapshot = Some(Snapshot {
                stream_id: stream_id.to_owned(),
                stream_type: row.try_get("snapshot_stream_type")?,
                stream_version: to_u64(at, "snapshot version")?,
                snapshot_version,
                state,
            });
        }
        let position: Option<i64> = row.try_get("position")?;
        if position.is_some() {
            events.push(EventRow::from_row(row)?.into_envelope()?);
        }
    }
    Ok((snapshot, events))
}
