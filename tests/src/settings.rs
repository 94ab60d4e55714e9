//! Connection settings, read from the same variables as the platform (`scripts/stack env`),
//! with the stack's defaults.

fn var_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

pub fn database_url() -> String {
    var_or(
        "DATABASE_URL",
        "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable",
    )
}

pub fn kafka_brokers() -> String {
    var_or("KAFKA_BROKERS", "127.0.0.1:9092")
}

pub fn elasticsearch_url() -> String {
    var_or("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
}

pub fn clickhouse_url() -> String {
    var_or("CLICKHOUSE_URL", "http://127.0.0.1:8123")
}
