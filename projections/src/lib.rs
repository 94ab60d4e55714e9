//! Projector workers and read-model sinks (Elasticsearch, ClickHouse).

pub mod search;
