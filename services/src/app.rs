//! [`Application`]: one command service bound to its port, the same in production, tests and
//! benchmarks (port 0 picks a free one).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use keel_eventstore::{PgEventStore, Repository, SnapshotPolicy};
use tokio::net::TcpListener;

use crate::config::{redact_url, ServiceConfig, ServiceKind};
use crate::database::{self, DatabaseError, StoreSettings};
use crate::executor::CommandExecutor;
use crate::http::auth::JwtKeys;
use crate::http::health::HealthState;
use crate::http::idempotency;
use crate::http::metrics::Metrics;
use crate::http::{self, Common};
use crate::{orders, payments};

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("{service}: cannot listen on {address}")]
    Bind {
        service: ServiceKind,
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// A command service, bound and ready to serve.
pub struct Application {
    kind: ServiceKind,
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    store: PgEventStore,
    idempotency_retention: Duration,
}

impl Application {
    /// Connects to the service's database (running the event store's migrations), builds the
    /// router and binds the port.
    pub async fn build(config: ServiceConfig) -> Result<Self, StartupError> {
        let settings = StoreSettings {
            max_connections: config.max_db_connections,
            timeouts: config.database_timeouts,
            group_commit: config.group_commit,
        };
        let store = database::connect(config.kind, &config.database_url, settings).await?;
        Self::build_with_store(config, store).await
    }

    /// As [`Application::build`], on an event store that is already connected and migrated.
    pub async fn build_with_store(
        config: ServiceConfig,
        store: PgEventStore,
    ) -> Result<Self, StartupError> {
        let router = router(&config, store.clone());
        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| StartupError::Bind {
                service: config.kind,
                address: address.to_string(),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind {
            service: config.kind,
            address: address.to_string(),
            source,
        })?;
        Ok(Self {
            kind: config.kind,
            listener,
            address,
            router,
            store,
            idempotency_retention: config.idempotency_retention,
        })
    }

    pub fn kind(&self) -> ServiceKind {
        self.kind
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `http://<address>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The router, to drive without a socket (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(crate::shutdown::signal()).await
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(service = %self.kind, address = %self.address, "listening");
        let cleanup = tokio::spawn(idempotency::expire_keys(
            self.store.clone(),
            self.idempotency_retention,
        ));
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        cleanup.abort();
        served?;
        tracing::info!(service = %self.kind, "stopped");
        Ok(())
    }
}

/// The service's complete router on `store`.
pub fn router(config: &ServiceConfig, store: PgEventStore) -> Router {
    let metrics = Metrics::new();
    let policy = SnapshotPolicy::every(config.snapshot_every);
    let health = HealthState {
        pool: store.pool().clone(),
        database: redact_url(&config.database_url),
    };
    let store = Arc::new(store);
    let (api, openapi) = match config.kind {
        ServiceKind::Orders => {
            let executor = CommandExecutor::new(Repository::new(store, policy), metrics.clone());
            (orders::router(executor), orders::openapi())
        }
        ServiceKind::Payments => {
            let executor = CommandExecutor::new(Repository::new(store, policy), metrics.clone());
            (payments::router(executor), payments::openapi())
        }
    };
    http::assemble(
        api,
        Common {
            keys: JwtKeys::new(&config.jwt),
            metrics,
            health: http::health::router(health),
            openapi,
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
        },
    )
}
