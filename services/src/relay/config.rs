//! What one `keel relay` process relays, and its time bounds. Built by the CLI from flags and
//! the environment; every field has a default that matches `scripts/stack env`.

use std::net::SocketAddr;
use std::time::Duration;

/// One relayed database: the service's event store and the topic its events go to.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    /// A stable name (the service database's name by default): the progress record's key
    /// and part of the `transactional.id`, so it must not change between restarts.
    pub name: String,
    pub database_url: String,
    /// Where the events go (`orders.events`, `payments.events`).
    pub topic: String,
}

/// Topic layout used when a topic is missing (an existing topic is left as it is).
#[derive(Debug, Clone, Copy)]
pub struct TopicLayout {
    pub partitions: i32,
    pub replication: i32,
}

impl Default for TopicLayout {
    fn default() -> Self {
        Self {
            partitions: 6,
            replication: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub targets: Vec<RelayTarget>,
    pub kafka_brokers: String,
    /// The compacted topic of progress records (one per relayed database, by key).
    pub progress_topic: String,
    /// `transactional.id` = `<prefix>.<target name>`.
    pub transactional_id_prefix: String,
    pub topics: TopicLayout,
    /// Where `/health/*` and `/metrics` listen (port 0: any free port).
    pub listen: SocketAddr,
    /// Outbox rows per Kafka transaction, at most.
    pub batch_size: usize,
    /// The polling fallback when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Below a full batch, at least this long between the starts of two transactions: fewer,
    /// larger transactions under moderate load (less CPU per event, for the relay, Kafka and
    /// PostgreSQL), for at most this much more latency. 0: publish as soon as possible.
    pub linger: Duration,
    /// How long a silent leader keeps its lease: a leader that stops answering PostgreSQL
    /// (paused, partitioned) loses its session, and so its lock, after this long.
    pub failover_timeout: Duration,
    /// The longest one Kafka call (init, commit, metadata) may take.
    pub kafka_timeout: Duration,
    /// `/health/ready` turns false once Kafka has been unreachable this long.
    pub unready_after: Duration,
    /// The largest message (key + value + headers) published; larger events are parked.
    pub max_message_bytes: usize,
    /// `compression.type` of the producer.
    pub compression: String,
}

impl RelayConfig {
    /// Defaults for `targets` on the given brokers.
    pub fn new(targets: Vec<RelayTarget>, kafka_brokers: impl Into<String>) -> Self {
        Self {
            targets,
            kafka_brokers: kafka_brokers.into(),
            progress_topic: DEFAULT_PROGRESS_TOPIC.into(),
            transactional_id_prefix: DEFAULT_TRANSACTIONAL_ID_PREFIX.into(),
            topics: TopicLayout::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            batch_size: 5_000,
            poll_interval: Duration::from_secs(1),
            linger: Duration::ZERO,
            failover_timeout: Duration::from_secs(5),
            kafka_timeout: Duration::from_secs(10),
            unready_after: Duration::from_secs(10),
            max_message_bytes: 1_000_000,
            compression: "lz4".into(),
        }
    }

    pub fn transactional_id(&self, target: &RelayTarget) -> String {
        format!("{}.{}", self.transactional_id_prefix, target.name)
    }
}

pub const DEFAULT_PORT: u16 = 8084;
pub const DEFAULT_PROGRESS_TOPIC: &str = "keel.relay.progress";
pub const DEFAULT_TRANSACTIONAL_ID_PREFIX: &str = "keel-relay";
