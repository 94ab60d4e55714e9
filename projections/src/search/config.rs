//! What the search projector needs; the defaults match `scripts/stack env`.

use std::time::Duration;

use super::index::IndexLayout;
use super::ALIAS;

#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub elasticsearch_url: String,
    /// Every read and write goes through this alias (`orders`).
    pub alias: String,
    /// Layout of the index created when the alias does not exist yet.
    pub layout: IndexLayout,
    /// The order service's event store (`keel_orders`), for events a document misses.
    pub database_url: String,
    pub database_max_connections: u32,
    /// The topic of order events (`orders.events`).
    pub topic: String,
    /// The longest one Elasticsearch request may take.
    pub request_timeout: Duration,
}

impl SearchConfig {
    pub fn new(elasticsearch_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            elasticsearch_url: elasticsearch_url.into(),
            alias: ALIAS.to_owned(),
            layout: IndexLayout::default(),
            database_url: database_url.into(),
            database_max_connections: 4,
            topic: DEFAULT_TOPIC.to_owned(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

pub const DEFAULT_TOPIC: &str = "orders.events";
