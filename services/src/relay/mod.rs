//! `keel relay`: each service's outbox, published to Kafka exactly once, in stream order.
//!
//! Per relayed database one task stands by for an advisory-lock lease ([`lease`]); the
//! leader publishes the outbox as a queue, oldest row first, in Kafka transactions
//! ([`publisher`]) that also carry a progress record naming the batch's outbox rows
//! ([`progress`]); rows leave the outbox after the commit. After any crash the newest
//! committed progress record names the only rows that can be published and still queued;
//! the next leader deletes them before it publishes anything. Poison rows are parked
//! ([`dead_letter`]). The process serves `/health/*` and `/metrics` ([`health`]).
//! The exactly-once argument is written out in the README ("The relay's guarantees").

pub mod config;
mod dead_letter;
pub mod error;
mod health;
mod lease;
mod message;
mod metrics;
pub mod progress;
mod publisher;
mod status;
pub mod tail;
mod target;
mod topics;
mod wakeup;

use std::net::SocketAddr;
use std::sync::Arc;

use keel_eventstore::PgEventStore;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use config::{RelayConfig, RelayTarget, TopicLayout};
pub use error::RelayError;

use crate::shutdown::Shutdown;
use metrics::RelayMetrics;
use status::TargetStatus;
use target::TargetRelay;

/// A relay process, connected and listening; [`Relay::run_until`] runs it.
pub struct Relay {
    config: Arc<RelayConfig>,
    listener: TcpListener,
    address: SocketAddr,
    stores: Vec<(RelayTarget, PgEventStore)>,
}

impl Relay {
    /// Connects to every relayed database (migrating it) and binds the HTTP port.
    pub async fn start(config: RelayConfig) -> Result<Self, RelayError> {
        let mut stores = Vec::new();
        for target in &config.targets {
            // Two connections: reads and deletes are sequential; the backlog sampler
            // takes the other.
            let store = PgEventStore::connect(&target.database_url, 3).await?;
            stores.push((target.clone(), store));
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| RelayError::Listen {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| RelayError::Listen {
            address: config.listen,
            source,
        })?;
        Ok(Self {
            config: Arc::new(config),
            listener,
            address,
            stores,
        })
    }

    /// Where `/health/*` and `/metrics` answer.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Relays until `shutdown` is triggered; a leader aborts nothing on the way out (its
    /// open transaction, if any, is aborted by the next leader's `init_transactions`).
    pub async fn run_until(self, shutdown: Shutdown) -> Result<(), RelayError> {
        let metrics = RelayMetrics::default();
        let mut statuses = Vec::new();
        let mut tasks = JoinSet::new();
        for (target, store) in self.stores {
            let status = Arc::new(TargetStatus::new(target.name.clone()));
            statuses.push(status.clone());
            let relay = TargetRelay {
                config: self.config.clone(),
                target,
                store,
                status,
                metrics: metrics.clone(),
            };
            tasks.spawn(relay.run(shutdown.clone()));
        }
        let router = health::router(health::HealthState {
            targets: statuses,
            unready_after: self.config.unready_after,
            metrics,
        });
        let stop = shutdown.wait();
        let server = axum::serve(self.listener, router).with_graceful_shutdown(stop);
        tracing::info!(address = %self.address, "relay listening");
        let serving = tokio::spawn(async move { server.await });
        let mut result = Ok(());
        while let Some(joined) = tasks.join_next().await {
            let outcome = match joined {
                Ok(outcome) => outcome,
                Err(e) => Err(RelayError::Task(e.to_string())),
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, "relay task failed; stopping");
                shutdown.trigger();
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        shutdown.trigger();
        match serving.await {
            Ok(Ok(())) => result,
            Ok(Err(e)) => result.and(Err(RelayError::Serve(e))),
            Err(e) => result.and(Err(RelayError::Task(e.to_string()))),
        }
    }
}
