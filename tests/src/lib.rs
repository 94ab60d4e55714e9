//! Shared helpers for the integration tests: where the servers are, and per-test isolation
//! (a fresh PostgreSQL database, Kafka topic, index or ClickHouse database per test).

mod database;
mod eventually;
mod http_service;
mod settings;

pub use database::TestDatabase;
pub use eventually::eventually;
pub use http_service::{TestService, TEST_JWT_SECRET};
pub use settings::{clickhouse_url, database_url, elasticsearch_url, kafka_brokers};

/// A short random suffix for names of per-test resources.
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

mod kafka_broker;
mod keel_binary;
mod keel_process;
mod projector_dead_letters;
mod projector_index;
mod query_index;
mod query_service;
mod tcp_proxy;
mod topic_watcher;

pub use kafka_broker::TestKafka;
pub use keel_binary::keel_binary;
pub use keel_process::{metric_value, KeelProcess, Readiness};
pub use projector_dead_letters::DeadLetterWatcher;
pub use projector_index::{SearchIndex, StoredDocument, VersionWatcher};
pub use query_index::{order_document, TestIndex};
pub use query_service::TestQueryService;
pub use tcp_proxy::TcpProxy;
pub use topic_watcher::{assert_exactly_once_in_order, Received, TopicWatcher};
