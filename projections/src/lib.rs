//! Projector workers and read-model sinks (Elasticsearch, ClickHouse); later issues fill this in.
