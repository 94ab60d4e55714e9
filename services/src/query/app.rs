//! [`QueryService`]: the query API bound to its port, the same in production and tests
//! (port 0 picks a free one).

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

use super::client::{InvalidUrl, SearchClient};
use super::config::{check_alias, QueryConfig};
use super::router::router;
use crate::http::auth::JwtKeys;

/// Why the query service could not start.
#[derive(Debug, thiserror::Error)]
pub enum QueryStartupError {
    #[error(transparent)]
    Url(#[from] InvalidUrl),
    #[error("SEARCH_ALIAS `{alias}` cannot name an Elasticsearch alias: it {reason}")]
    Alias { alias: String, reason: String },
    #[error("query-service: cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The query service, bound and ready to serve.
pub struct QueryService {
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    client: SearchClient,
}

impl QueryService {
    /// Builds the router and binds the port. Elasticsearch is not contacted: a cluster that
    /// is down now shows on `/health/ready` and as 503s, and the service recovers with it.
    pub async fn build(config: QueryConfig) -> Result<Self, QueryStartupError> {
        check_alias(&config.alias).map_err(|reason| QueryStartupError::Alias {
            alias: config.alias.clone(),
            reason,
        })?;
        let client = SearchClient::new(
            &config.elasticsearch_url,
            &config.alias,
            config.search_timeout,
        )?;
        let router = router(
            client.clone(),
            JwtKeys::new(&config.jwt),
            config.request_timeout,
        );
        let wanted = SocketAddr::new(config.host, config.port);
        let bind_error = |source| QueryStartupError::Bind {
            address: wanted,
            source,
        };
        let listener = TcpListener::bind(wanted).await.map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        Ok(Self {
            listener,
            address,
            router,
            client,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://<address>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The router, to drive without a socket (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The cluster's health status, or why it does not answer (for a startup message).
    pub async fn check_elasticsearch(&self) -> Result<String, String> {
        self.client.health().await.map_err(|e| e.to_string())
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
        tracing::info!(service = "query-service", address = %self.address, "listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        tracing::info!(service = "query-service", "stopped");
        Ok(())
    }
}
