use sqlx::{PgPool, Row};

use super::{to_i64, to_u64};
use crate::append::validate_stream_id;
use crate::{Snapshot, StoreError};

pub(crate) async fn save(pool: &PgPool, snapshot: Snapshot) -> Result<(), StoreError> {
    validate_stream_id(&snapshot.stream_id)?;
    // Writers may race; keep whichever snapshot is newer.
    sqlx::query(
        "INSERT INTO snapshots (stream_id, stream_type, version, snapshot_version, state) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (stream_id) DO UPDATE SET stream_type = EXCLUDED.stream_type, \
           version = EXCLUDED.version, snapshot_version = EXCLUDED.snapshot_version, \
           state = EXCLUDED.state, taken_at = now() \
         WHERE snapshots.version < EXCLUDED.version \
            OR snapshots.snapshot_version <> EXCLUDED.snapshot_version",
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

pub(crate) async fn load(pool: &PgPool, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
    validate_stream_id(stream_id)?;
    let row = sqlx::query(
        "SELECT stream_type, version, snapshot_version, state FROM snapshots WHERE stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let snapshot_version: i32 = row.try_get("snapshot_version")?;
    Ok(Some(Snapshot {
        stream_id: stream_id.to_owned(),
        stream_type: row.try_get("stream_type")?,
        stream_version: to_u64(row.try_get("version")?, "snapshot version")?,
        snapshot_version: u32::try_from(snapshot_version)
            .map_err(|_| StoreError::Corrupt(format!("snapshot version {snapshot_version}")))?,
        state: row.try_get("state")?,
    }))
}
