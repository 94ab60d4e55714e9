//! A large outbox backlog written in bulk with SQL (the append path is measured elsewhere):
//! `events` rows with their outbox rows, 100 events per stream, in chunks.

use std::time::Instant;

use sqlx::PgPool;

const CHUNK: i64 = 100_000;

/// Writes `events` events (and outbox rows); returns the seconds it took.
pub async fn write(pool: &PgPool, events: i64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut done = 0;
    while done < events {
        let n = CHUNK.min(events - done);
        sqlx::query(
            "WITH inserted AS (
                INSERT INTO events (event_id, stream_id, stream_type, version, event_type,
                                    schema_version, payload, metadata)
                SELECT gen_random_uuid(), 'order-bench-' || ((i - 1) / 100), 'order',
                       ((i - 1) % 100) + 1, 'Counted', 1,
                       jsonb_build_object('n', i, 'sku', 'SKU-123', 'note', 'benchmark event'),
                       jsonb_build_object('correlation_id', gen_random_uuid(), 'actor', 'bench')
                FROM generate_series($1::bigint + 1, $1::bigint + $2::bigint) AS i
                ORDER BY i
                RETURNING position
             )
             INSERT INTO outbox (position) SELECT position FROM inserted ORDER BY position",
        )
        .bind(done)
        .bind(n)
        .execute(pool)
        .await?;
        done += n;
    }
    Ok(started.elapsed().as_secs_f64())
}
