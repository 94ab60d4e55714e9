//! A command service started in-process on a free port, on a database of its own, with an
//! HTTP client and a valid token: what the `http_*` tests drive.

use std::time::Duration;

use keel_services::config::{Secret, ServiceConfig, ServiceKind};
use keel_services::http::auth::{Scope, Scopes};
use keel_services::shutdown::Shutdown;
use keel_services::{Application, JwtKeys};
use reqwest::{Client, Method, RequestBuilder};
use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::TestDatabase;

/// The secret the test services sign and verify tokens with (32 bytes or more, as outside
/// development mode).
pub const TEST_JWT_SECRET: &str = "keel-integration-tests-secret-0123456789";

/// A running service; stopped (gracefully) when dropped.
pub struct TestService {
    pub base_url: String,
    pub client: Client,
    /// A valid token for the subject `tester`, with the `commands` and `queries` scopes.
    pub token: String,
    pub keys: JwtKeys,
    /// A pool on the service's database, for checks the API cannot make.
    pub pool: PgPool,
    shutdown: Shutdown,
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Last: dropped after the server and the pool.
    pub db: TestDatabase,
}

impl TestService {
    pub async fn spawn(kind: ServiceKind) -> Self {
        Self::spawn_with(kind, |_| {}).await
    }

    /// Starts the service after `configure` adjusted its settings.
    pub async fn spawn_with(kind: ServiceKind, configure: impl FnOnce(&mut ServiceConfig)) -> Self {
        let db = TestDatabase::create().await;
        let secret = Secret::new(TEST_JWT_SECRET.to_owned());
        let mut config = ServiceConfig::local(kind, db.url.clone(), secret);
        config.max_db_connections = 20;
        configure(&mut config);
        // From the final settings, so a test that changes the issuer or audience mints for them.
        let keys = JwtKeys::new(&config.jwt);
        let app = Application::build(config)
            .await
            .expect("the service starts");
        let base_url = app.base_url();
        let shutdown = Shutdown::new();
        let server = tokio::spawn(app.run_until(shutdown.wait()));
        let token = keys
            .mint(
                "tester",
                &Scopes::new([Scope::Commands, Scope::Queries]),
                Duration::from_secs(3600),
            )
            .expect("mint a token");
        let pool = db.pool(4).await;
        Self {
            base_url,
            client: Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("an HTTP client"),
            token,
            keys,
            pool,
            shutdown,
            server: Some(server),
            db,
        }
    }

    /// A token for `tester` with only `scopes`.
    pub fn token_with(&self, scopes: &[Scope]) -> String {
        self.keys
            .mint(
                "tester",
                &Scopes::new(scopes.iter().copied()),
                Duration::from_secs(3600),
            )
            .expect("mint a token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request with the bearer token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// A POST with the token and `body` as JSON.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> RequestBuilder {
        self.request(Method::POST, path).json(body)
    }

    /// How many events the service's store holds.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("count events")
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.trigger();
        match self.server.take() {
            Some(server) => server.await.expect("the server task ends"),
            None => Ok(()),
        }
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
