//! The query service started in-process on a free port, reading a [`TestIndex`] of its own
//! (or a cluster that is not there), with an HTTP client and a `queries` token: what the
//! `query_*` tests drive.

use std::time::Duration;

use keel_services::config::Secret;
use keel_services::http::auth::{Scope, Scopes};
use keel_services::query::{QueryConfig, QueryService};
use keel_services::shutdown::Shutdown;
use keel_services::JwtKeys;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::{elasticsearch_url, TestIndex, TEST_JWT_SECRET};

/// A running query service; stopped (gracefully) when dropped, its index deleted.
pub struct TestQueryService {
    pub base_url: String,
    pub client: Client,
    /// A valid token for `tester` with the `queries` scope only.
    pub token: String,
    pub keys: JwtKeys,
    shutdown: Shutdown,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// The index it reads (none when the test points it elsewhere).
    pub index: Option<TestIndex>,
}

impl TestQueryService {
    /// On a new, empty index of its own.
    pub async fn spawn() -> Self {
        let index = TestIndex::create().await;
        let config = QueryConfig::local(
            elasticsearch_url(),
            index.alias.clone(),
            Secret::new(TEST_JWT_SECRET.to_owned()),
        );
        Self::start(config, Some(index)).await
    }

    /// On `elasticsearch_url` and `alias` as given, with no index created.
    pub async fn spawn_on(
        elasticsearch_url: &str,
        alias: &str,
        configure: impl FnOnce(&mut QueryConfig),
    ) -> Self {
        let mut config = QueryConfig::local(
            elasticsearch_url,
            alias,
            Secret::new(TEST_JWT_SECRET.to_owned()),
        );
        configure(&mut config);
        Self::start(config, None).await
    }

    async fn start(config: QueryConfig, index: Option<TestIndex>) -> Self {
        let keys = JwtKeys::new(&config.jwt);
        let service = QueryService::build(config)
            .await
            .expect("the query service starts");
        let base_url = service.base_url();
        let shutdown = Shutdown::new();
        let server = tokio::spawn(service.run_until(shutdown.wait()));
        let token = keys
            .mint(
                "tester",
                &Scopes::new([Scope::Queries]),
                Duration::from_secs(3600),
            )
            .expect("mint a token");
        Self {
            base_url,
            client: Client::new(),
            token,
            keys,
            shutdown,
            server: Some(server),
            index,
        }
    }

    /// The index this service reads; panics for a service started with [`Self::spawn_on`].
    pub fn index(&self) -> &TestIndex {
        self.index.as_ref().expect("a service with an index")
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

    /// A GET with the `queries` token.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    /// `GET /search/orders?<query>`, which must answer 200; its JSON body.
    pub async fn search(&self, query: &str) -> Value {
        let response = self
            .get(&format!("/search/orders?{query}"))
            .send()
            .await
            .expect("GET /search/orders");
        let status = response.status();
        let body = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::OK, "?{query}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
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

impl Drop for TestQueryService {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
