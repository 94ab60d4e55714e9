//! `keel up` checks every server the platform needs before starting anything, and says
//! which one is missing and where it looked.

use std::time::Duration;

use elasticsearch::cluster::ClusterHealthParts;
use elasticsearch::http::transport::Transport;
use elasticsearch::Elasticsearch;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use sqlx::Connection;
use thiserror::Error;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the four servers are.
#[derive(Debug, Clone)]
pub struct Dependencies {
    pub database_url: String,
    pub kafka_brokers: String,
    pub elasticsearch_url: String,
    pub clickhouse_url: String,
}

#[derive(Debug, Error)]
#[error("{server} at {location} is not answering: {reason} (is `scripts/stack up` done?)")]
pub struct Unreachable {
    pub server: &'static str,
    pub location: String,
    pub reason: String,
}

impl Dependencies {
    /// Asks each server a real question; returns one "ready" line per server.
    pub async fn check(&self) -> Result<Vec<String>, Unreachable> {
        let postgres = crate::config::redact_url(&self.database_url);
        let checks = [
            ("postgresql", postgres, self.postgres().await),
            ("kafka", self.kafka_brokers.clone(), self.kafka().await),
            (
                "elasticsearch",
                self.elasticsearch_url.clone(),
                self.elasticsearch().await,
            ),
            (
                "clickhouse",
                self.clickhouse_url.clone(),
                self.clickhouse().await,
            ),
        ];
        let mut ready = Vec::new();
        for (server, location, result) in checks {
            let detail = result.map_err(|reason| Unreachable {
                server,
                location: location.clone(),
                reason,
            })?;
            ready.push(format!("{server:<16} {location} ready ({detail})"));
        }
        Ok(ready)
    }

    async fn postgres(&self) -> Result<String, String> {
        let connect = sqlx::PgConnection::connect(&self.database_url);
        let mut conn = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("PostgreSQL {version}"))
    }

    async fn kafka(&self) -> Result<String, String> {
        let brokers = self.kafka_brokers.clone();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .create()
                .map_err(|e| e.to_string())?;
            let metadata = consumer
                .fetch_metadata(None, TIMEOUT)
                .map_err(|e| e.to_string())?;
            Ok(format!("{} broker(s)", metadata.brokers().len()))
        })
        .await
        .map_err(|e| e.to_string())?
    }

    async fn elasticsearch(&self) -> Result<String, String> {
        let transport =
            Transport::single_node(&self.elasticsearch_url).map_err(|e| e.to_string())?;
        let response = Elasticsearch::new(transport)
            .cluster()
            .health(ClusterHealthParts::None)
            .request_timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status_code().is_success() {
            return Err(format!("HTTP {}", response.status_code()));
        }
        let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
        Ok(format!(
            "cluster {}",
            body["status"].as_str().unwrap_or("unknown")
        ))
    }

    async fn clickhouse(&self) -> Result<String, String> {
        // The stack's 18.16 server predates the crate's schema validation queries.
        let client = clickhouse::Client::default()
            .with_url(&self.clickhouse_url)
            .with_validation(false);
        let query = client.query("SELECT version()").fetch_one::<String>();
        let version = tokio::time::timeout(TIMEOUT, query)
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(format!("ClickHouse {version}"))
    }
}
