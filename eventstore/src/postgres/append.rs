use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Row};
use uuid::Uuid;

use super::{to_i64, to_u64};
use crate::{
    AppendRequest, Committed, ExpectedVersion, IdempotencyRecord, InvalidInput, StoreError,
};

/// How often an `Any` append is retried when a concurrent writer took its version.
const ANY_VERSION_RETRIES: usize = 16;

/// One statement, so one round trip and one implicit transaction: read the stream's
/// version, check the expectation, insert the events (versions follow without holes), their
/// outbox rows and the idempotency key. A failed expectation inserts nothing; a concurrent
/// writer is stopped by the unique constraints.
const APPEND_SQL: &str = "
WITH current AS (
    SELECT COALESCE(MAX(version), 0) AS v FROM events WHERE stream_id = $1
), guard AS (
    SELECT v FROM current WHERE $3::bigint IS NULL OR v = $3
), inserted AS (
    INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                        payload, metadata)
    SELECT e.event_id, $1, $2, guard.v + e.ord, e.event_type, e.schema_version, e.payload,
           e.metadata
    FROM guard, UNNEST($4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
         WITH ORDINALITY AS e(event_id, event_type, schema_version, payload, metadata, ord)
    RETURNING position, version
), outboxed AS (
    INSERT INTO outbox (position) SELECT position FROM inserted
), keyed AS (
    INSERT INTO idempotency_keys (key, request_hash, stream_id, stream_version)
    SELECT $9, $10, $1, MAX(version) FROM inserted WHERE $9::text IS NOT NULL
    HAVING COUNT(*) > 0
)
SELECT position, version FROM inserted ORDER BY version";

/// The request's events as column arrays, bound once and reused across retries.
pub(super) struct Columns {
    pub expected: Option<i64>,
    pub ids: Vec<Uuid>,
    pub types: Vec<String>,
    pub versions: Vec<i32>,
    pub payloads: Vec<serde_json::Value>,
    pub metadata: Vec<serde_json::Value>,
}

impl Columns {
    pub fn of(request: &AppendRequest) -> Result<Self, StoreError> {
        request.validate()?;
        let n = request.events.len();
        let mut columns = Columns {
            expected: match request.expected.required() {
                Some(v) => Some(to_i64(v, "expected version")?),
                None => None,
            },
            ids: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            payloads: Vec::with_capacity(n),
            metadata: Vec::with_capacity(n),
        };
        for (index, event) in request.events.iter().enumerate() {
            columns.ids.push(event.event_id);
            columns.types.push(event.event_type.clone());
            columns.versions.push(
                i32::try_from(event.schema_version)
                    .map_err(|_| InvalidInput::ZeroSchemaVersion { index })?,
            );
            columns.payloads.push(event.payload.clone());
            columns.metadata.push(
                serde_json::to_value(&event.metadata)
                    .map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))?,
            );
        }
        Ok(columns)
    }

    async fn insert<'e, E: PgExecutor<'e>>(
        &self,
        executor: E,
        request: &AppendRequest,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let key = request.idempotency.as_ref();
        sqlx::query(APPEND_SQL)
            .bind(&request.stream_id)
            .bind(&request.stream_type)
            .bind(self.expected)
            .bind(&self.ids)
            .bind(&self.types)
            .bind(&self.versions)
            .bind(&self.payloads)
            .bind(&self.metadata)
            .bind(key.map(|k| k.key.as_str()))
            .bind(key.map(|k| k.request_hash.as_str()))
            .fetch_all(executor)
            .await
    }
}

fn committed(stream_id: &str, rows: Vec<PgRow>) -> Result<Committed, StoreError> {
    let mut positions = Vec::with_capacity(rows.len());
    let mut stream_version = 0;
    for row in rows {
        positions.push(to_u64(row.try_get("position")?, "position")?);
        stream_version = to_u64(row.try_get("version")?, "stream version")?;
    }
    Ok(Committed {
        stream_id: stream_id.to_owned(),
        stream_version,
        positions,
        deduplicated: false,
    })
}

/// Appends one request on its own statement, retrying `Any` appends that lost a race.
pub(super) async fn append_one(
    pool: &PgPool,
    request: AppendRequest,
    columns: &Columns,
) -> Result<Committed, StoreError> {
    for _ in 0..ANY_VERSION_RETRIES {
        match columns.insert(pool, &request).await {
            Ok(rows) if !rows.is_empty() => return committed(&request.stream_id, rows),
            Ok(_) => return explain_refusal(pool, &request, &columns.ids).await,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                if let Some(done) = already_stored(pool, &request, &columns.ids).await? {
                    return Ok(done);
                }
                if request.expected != ExpectedVersion::Any {
                    return explain_refusal(pool, &request, &columns.ids).await;
                }
                // A concurrent writer took the next version: read it again and retry.
            }
            Err(e) => return Err(e.into()),
        }
    }
    explain_refusal(pool, &request, &columns.ids).await
}

/// Appends inside the caller's transaction, once (no retry: a failed statement aborts the
/// transaction, which the caller must then roll back). Refusals are explained through
/// `pool`, outside the aborted transaction.
pub(crate) async fn append_in(
    pool: &PgPool,
    tx: &mut PgConnection,
    request: AppendRequest,
) -> Result<Committed, StoreError> {
    let columns = Columns::of(&request)?;
    match columns.insert(&mut *tx, &request).await {
        Ok(rows) if !rows.is_empty() => committed(&request.stream_id, rows),
        Ok(_) => explain_refusal(pool, &request, &columns.ids).await,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            explain_refusal(pool, &request, &columns.ids).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Nothing was inserted: either the request was already committed, or the version moved.
pub(super) async fn explain_refusal(
    pool: &PgPool,
    request: &AppendRequest,
    ids: &[Uuid],
) -> Result<Committed, StoreError> {
    if let Some(done) = already_stored(pool, request, ids).await? {
        return Ok(done);
    }
    Err(StoreError::WrongExpectedVersion {
        stream_id: request.stream_id.clone(),
        expected: request.expected,
        actual: super::read::stream_version(pool, &request.stream_id).await?,
    })
}

/// The earlier append that this request repeats, by idempotency key or by event id.
async fn already_stored(
    pool: &PgPool,
    request: &AppendRequest,
    ids: &[Uuid],
) -> Result<Option<Committed>, StoreError> {
    if let Some(key) = &request.idempotency {
        if let Some(record) = find_idempotency(pool, &key.key).await? {
            if record.request_hash != key.request_hash {
                return Err(StoreError::IdempotencyKeyReused { key: record.key });
            }
            return Ok(Some(Committed {
                stream_id: record.stream_id,
                stream_version: record.stream_version,
                positions: Vec::new(),
                deduplicated: true,
            }));
        }
    }
    let rows = sqlx::query(
        "SELECT stream_id, version, position FROM events WHERE event_id = ANY($1) ORDER BY version",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let stream_id: String = last.try_get("stream_id")?;
    let stream_version = to_u64(last.try_get("version")?, "stream version")?;
    let positions = rows
        .iter()
        .map(|r| to_u64(r.try_get("position")?, "position"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Committed {
        stream_id,
        stream_version,
        positions,
        deduplicated: true,
    }))
}

pub(crate) async fn find_idempotency(
    pool: &PgPool,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT request_hash, stream_id, stream_version FROM idempotency_keys WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(IdempotencyRecord {
        key: key.to_owned(),
        request_hash: row.try_get("request_hash")?,
        stream_id: row.try_get("stream_id")?,
        stream_version: to_u64(row.try_get("stream_version")?, "stream version")?,
    }))
}
