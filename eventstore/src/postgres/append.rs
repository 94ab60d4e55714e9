use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Row};
use uuid::Uuid;

use super::retry::{backoff, TRANSIENT_RETRIES};
use super::{to_i64, to_u64};
use crate::error::{failure_of, Failure};
use crate::{
    AppendRequest, Committed, ExpectedVersion, IdempotencyRecord, InvalidInput, StoreError,
};

/// How often an `Any` append is retried when a concurrent writer took its version.
const ANY_VERSION_RETRIES: usize = 16;

/// One statement, so one round trip and one implicit transaction: read the stream's
/// version, check the expectation, insert the events (versions follow without holes), their
/// outbox rows and the idempotency key. A failed expectation inserts nothing; a concurrent
/// writer is stopped by the unique constraints.
///
/// The last guard keeps each stream in order in the global log, which is read by
/// (transaction id, position): an append may not follow an event of a younger transaction.
/// Only `append_in` can meet it (a transaction that wrote before appending, while another
/// append to the stream committed); in autocommit the transaction id is taken after the
/// stream's last event committed.
const APPEND_SQL: &str = "
WITH last AS (
    SELECT version, transaction_id FROM events WHERE stream_id = $1
    ORDER BY version DESC LIMIT 1
), current AS (
    SELECT COALESCE((SELECT version FROM last), 0) AS v,
           (SELECT transaction_id FROM last) AS x
), guard AS (
    SELECT v FROM current
    WHERE ($3::bigint IS NULL OR v = $3) AND (x IS NULL OR x <= pg_current_xact_id())
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

/// Appends one request on its own statement, retrying `Any` appends that lost a race and
/// statements that failed transiently.
///
/// `maybe_committed`: an earlier try failed with an unknown outcome (the connection dropped
/// mid-statement), so finding every event stored means our own commit, not a repeat.
pub(super) async fn append_one(
    pool: &PgPool,
    request: AppendRequest,
    columns: &Columns,
    mut maybe_committed: bool,
) -> Result<Committed, StoreError> {
    let mut races = 0;
    let mut failures = 0;
    loop {
        match columns.insert(pool, &request).await {
            Ok(rows) if !rows.is_empty() => return committed(&request.stream_id, rows),
            Ok(_) => return explain_refusal(pool, &request, &columns.ids).await,
            Err(e) => match failure_of(&e) {
                Failure::Unique => {
                    if let Some(mut done) = already_stored(pool, &request, &columns.ids).await? {
                        done.deduplicated &= !maybe_committed;
                        return Ok(done);
                    }
                    races += 1;
                    if request.expected != ExpectedVersion::Any || races >= ANY_VERSION_RETRIES {
                        return explain_refusal(pool, &request, &columns.ids).await;
                    }
                    // A concurrent writer took the next version: read it again and retry.
                }
                Failure::Transient if failures < TRANSIENT_RETRIES => {
                    failures += 1;
                    maybe_committed = true;
                    tokio::time::sleep(backoff(failures)).await;
                }
                _ => return Err(e.into()),
            },
        }
    }
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

/// Nothing was inserted: the request was already committed, the version moved, or (only
/// inside a caller's transaction) the order guard refused it.
pub(super) async fn explain_refusal(
    pool: &PgPool,
    request: &AppendRequest,
    ids: &[Uuid],
) -> Result<Committed, StoreError> {
    if let Some(done) = already_stored(pool, request, ids).await? {
        return Ok(done);
    }
    let actual = super::read::stream_version(pool, &request.stream_id).await?;
    if request.expected.required().is_none_or(|v| v == actual) {
        return Err(StoreError::Transient(format!(
            "stream `{}` got an append from a younger transaction after this transaction's \
             first write; roll the transaction back and run it again",
            request.stream_id
        )));
    }
    Err(StoreError::WrongExpectedVersion {
        stream_id: request.stream_id.clone(),
        expected: request.expected,
        actual,
    })
}

/// The earlier append that this request repeats, by idempotency key or by event ids: every
/// id stored, in this stream, in this order. Some ids stored otherwise is an error.
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
        "SELECT event_id, stream_id, version, position FROM events WHERE event_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut stored = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Uuid = row.try_get("event_id")?;
        let stream_id: String = row.try_get("stream_id")?;
        let version = to_u64(row.try_get("version")?, "stream version")?;
        let position = to_u64(row.try_get("position")?, "position")?;
        stored.push((id, stream_id, version, position));
    }
    crate::append::repeated_append(request, ids, stored)
}

pub(crate) async fn find_idempotency(
    pool: &PgPool,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT request_hash, stream_id, stream_version, answer FROM idempotency_keys \
         WHERE key = $1",
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
        answer: row.try_get("answer")?,
    }))
}

pub(crate) async fn record_answer(
    pool: &PgPool,
    record: IdempotencyRecord,
) -> Result<IdempotencyRecord, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (key, request_hash, stream_id, stream_version, answer) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&record.key)
    .bind(&record.request_hash)
    .bind(&record.stream_id)
    .bind(to_i64(record.stream_version, "stream version")?)
    .bind(&record.answer)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(record);
    }
    find_idempotency(pool, &record.key)
        .await?
        .ok_or_else(|| StoreError::Transient("idempotency key removed meanwhile".into()))
}

/// Deletes keys recorded before `cutoff`, at most `limit` at a time (short transactions).
pub(crate) async fn purge_idempotency(
    pool: &PgPool,
    older_than: std::time::Duration,
    limit: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys \
         WHERE created_at < now() - make_interval(secs => $1) LIMIT $2)",
    )
    .bind(older_than.as_secs_f64())
    .bind(limit)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
