use sqlx::PgPool;

use super::row::{event_columns, EventRow};
use super::{to_i64, to_u64};
use crate::{OutboxEntry, StoreError};

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
