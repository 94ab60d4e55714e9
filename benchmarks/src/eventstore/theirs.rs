//! The same single-event append workload through `postgres-es`, the event store of
//! `cqrs-es` (the most used Rust alternative), on the same server.

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

use crate::driver;
use crate::stats::Sample;

/// Their schema, as their `db/init.sql` creates it.
const SCHEMA: &str = "CREATE TABLE events (
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text NOT NULL,
    event_version  text NOT NULL,
    payload        json NOT NULL,
    metadata       json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
)";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counted;

impl DomainEvent for Counted {
    fn event_type(&self) -> String {
        "Counted".into()
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

/// cqrs-es wants an error type; the benchmark never produces one.
#[derive(Debug)]
struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}

impl std::error::Error for Never {}

impl Aggregate for Counter {
    const TYPE: &'static str = "Counter";
    type Command = ();
    type Event = Counted;
    type Error = Never;
    type Services = ();

    async fn handle(&mut self, _: (), _: &(), _: &EventSink<Self>) -> Result<(), Never> {
        Ok(())
    }

    fn apply(&mut self, _: Counted) {}
}

pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(SCHEMA).execute(pool).await?;
    Ok(())
}

pub async fn distinct_streams(
    pool: &PgPool,
    writers: usize,
    appends: usize,
) -> anyhow::Result<Sample> {
    let repo = std::sync::Arc::new(PostgresEventRepository::new(pool.clone()));
    let run = uuid::Uuid::new_v4().simple().to_string();
    driver::run(writers, appends / writers, move |w, i| {
        let repo = std::sync::Arc::clone(&repo);
        let event = SerializedEvent {
            aggregate_id: format!("bench-{run}-{w}"),
            sequence: i + 1,
            aggregate_type: Counter::TYPE.into(),
            event_type: "Counted".into(),
            event_version: "1.0".into(),
            payload: json!({ "n": i, "sku": "SKU-123", "note": "benchmark event" }),
            metadata: json!({ "correlation_id": uuid::Uuid::new_v4(), "actor": "bench" }),
        };
        async move {
            repo.persist::<Counter>(&[event], None).await?;
            Ok(1)
        }
    })
    .await
}
