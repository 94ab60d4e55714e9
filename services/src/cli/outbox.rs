//! `keel outbox`: what the relay has not published yet, and its dead letters.

use anyhow::Context;
use clap::{Args, Subcommand};
use keel_eventstore::PgEventStore;
use keel_services::config::{service_database_url, ServiceKind, DEFAULT_DATABASE_URL};

use super::relay::parse_service;
use super::DatabaseOverrides;

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// One service's database only: orders or payments (default: both).
    #[arg(long, value_parser = parse_service, global = true)]
    service: Option<ServiceKind>,
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    database_url: String,
    #[command(flatten)]
    databases: DatabaseOverrides,
    #[command(subcommand)]
    action: OutboxAction,
}

#[derive(Debug, Subcommand)]
enum OutboxAction {
    /// Rows waiting to be published and the age of the oldest, per database.
    Status,
    /// Rows the relay parked: each with its stream and the reason.
    DeadLetters,
    /// Put a stream's parked rows back at the end of the outbox, in order, once the cause is
    /// fixed; the relay publishes them after everything already queued.
    Redrive {
        /// The stream, as listed by `dead-letters` (e.g. order-<uuid>).
        stream_id: String,
    },
}

pub async fn outbox(args: OutboxArgs) -> anyhow::Result<()> {
    let kinds = match args.service {
        Some(kind) => vec![kind],
        None => ServiceKind::ALL.to_vec(),
    };
    let mut redriven = 0;
    for kind in kinds {
        let url = service_database_url(kind, &args.database_url, args.databases.get(kind))?;
        let store = PgEventStore::connect(&url, 2)
            .await
            .with_context(|| format!("{kind}: connecting to its database"))?;
        match &args.action {
            OutboxAction::Status => {
                let backlog = store.outbox_backlog().await?;
                let parked = store.outbox_dead_letters().await?.len();
                let age = backlog.oldest.map_or("-".to_owned(), |t| {
                    let ms = (chrono::Utc::now() - t).num_milliseconds().max(0);
                    format!("{:.1}s", ms as f64 / 1e3)
                });
                println!(
                    "{kind}: {} rows waiting, oldest {age}, {parked} dead letters",
                    backlog.rows
                );
            }
            OutboxAction::DeadLetters => {
                let parked = store.outbox_dead_letters().await?;
                println!("{kind}: {} dead letters", parked.len());
                for d in &parked {
                    println!(
                        "  outbox {:>10}  {}  {}  {}",
                        d.outbox_id,
                        d.parked_at.format("%Y-%m-%dT%H:%M:%SZ"),
                        d.stream_id,
                        d.reason
                    );
                }
            }
            OutboxAction::Redrive { stream_id } => {
                let moved = store.outbox_redrive(stream_id).await?;
                println!("{kind}: {moved} rows of {stream_id} back in the outbox");
                redriven += moved;
            }
        }
    }
    if let OutboxAction::Redrive { stream_id } = &args.action {
        anyhow::ensure!(redriven > 0, "no dead letters of {stream_id}");
    }
    Ok(())
}
