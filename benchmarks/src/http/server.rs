use std::time::Duration;

use anyhow::Context;
use keel_services::config::JwtSettings;
use keel_services::database;
use keel_services::http::auth::Scopes;
use keel_services::{Application, JwtKeys, Secret, ServiceConfig, ServiceKind};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use super::api::Api;

const SECRET: &str = "keel-http-benchmark";

/// An order service on a tokio runtime of its own (as many workers as cores, like the
/// `keel` binary), so the load generator's tasks do not share its scheduler; they still
/// share the machine's cores. Stopped when dropped.
pub struct Server {
    pub base_url: String,
    runtime: Option<Runtime>,
    _stop: oneshot::Sender<()>,
}

impl Server {
    /// Builds the order service on `database_url` (migrating it) with `snapshot_every`
    /// (0: off), a pool of `max_connections` and group commit on or off (the `keel` binary
    /// has it on), and serves it on a free loopback port.
    pub async fn start(
        database_url: &str,
        snapshot_every: u64,
        max_connections: u32,
        group_commit: bool,
    ) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("order-service")
            .enable_all()
            .build()
            .context("starting the service's runtime")?;
        let mut config = ServiceConfig::local(
            ServiceKind::Orders,
            database_url,
            Secret::new(SECRET.into()),
        );
        config.snapshot_every = snapshot_every;
        config.max_db_connections = max_connections;
        // Built on the service's runtime, so its pool and group-commit tasks live there.
        let app = runtime
            .spawn(async move {
                let settings = database::StoreSettings {
                    max_connections,
                    timeouts: config.database_timeouts,
                    group_commit: config.group_commit,
                };
                let store = database::connect(config.kind, &config.database_url, settings).await?;
                let store = if group_commit {
                    store
                } else {
                    store.without_group_commit()
                };
                Application::build_with_store(config, store).await
            })
            .await?
            .context("starting the order service")?;
        let base_url = app.base_url();
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base_url,
            runtime: Some(runtime),
            _stop: stop,
        })
    }

    /// A client with a token the service accepts.
    pub fn api(&self) -> anyhow::Result<Api> {
        let token = JwtKeys::new(&JwtSettings::new(Secret::new(SECRET.into())))
            .mint("bench", &Scopes::all(), Duration::from_secs(3600))
            .context("minting a token")?;
        Api::new(self.base_url.clone(), token)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's context would panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
