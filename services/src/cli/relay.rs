//! `keel relay` and `keel tail`, and the relay's settings that `keel up` shares.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use keel_services::config::{service_database_url, ServiceKind, DEFAULT_DATABASE_URL};
use keel_services::relay::config::{
    DEFAULT_PORT, DEFAULT_PROGRESS_TOPIC, DEFAULT_TRANSACTIONAL_ID_PREFIX,
};
use keel_services::relay::tail::{tail as tail_topic, TailOptions};
use keel_services::relay::{Relay, RelayConfig, RelayTarget, TopicLayout};
use keel_services::shutdown::{self, Shutdown};
use sqlx::postgres::PgConnectOptions;

use super::{parse_duration, DatabaseOverrides};

/// The relay's own settings (durations: 500ms, 10s, 5m).
#[derive(Debug, Args)]
pub struct RelaySettings {
    /// Port of the relay's /health/live, /health/ready and /metrics (0: any free port).
    #[arg(long, env = "RELAY_PORT", default_value_t = DEFAULT_PORT)]
    relay_port: u16,
    /// Topic of the order service's events.
    #[arg(long, env = "RELAY_ORDERS_TOPIC", default_value = "orders.events")]
    orders_topic: String,
    /// Topic of the payment service's events.
    #[arg(long, env = "RELAY_PAYMENTS_TOPIC", default_value = "payments.events")]
    payments_topic: String,
    /// Compacted topic of the relay's progress records (one key per relayed database).
    #[arg(long, env = "RELAY_PROGRESS_TOPIC", default_value = DEFAULT_PROGRESS_TOPIC)]
    progress_topic: String,
    /// transactional.id = <prefix>.<database name>; keep it stable across restarts.
    #[arg(long, env = "RELAY_TRANSACTIONAL_ID_PREFIX", default_value = DEFAULT_TRANSACTIONAL_ID_PREFIX)]
    transactional_id_prefix: String,
    /// Partitions of a topic the relay creates (existing topics are left as they are).
    #[arg(long, env = "RELAY_TOPIC_PARTITIONS", default_value_t = 6)]
    topic_partitions: i32,
    /// Replication factor of a topic the relay creates.
    #[arg(long, env = "RELAY_TOPIC_REPLICATION", default_value_t = 1)]
    topic_replication: i32,
    /// Outbox rows per Kafka transaction, at most.
    #[arg(long, env = "RELAY_BATCH_SIZE", default_value_t = 5000)]
    relay_batch_size: usize,
    /// Polling fallback when no NOTIFY arrives.
    #[arg(long, env = "RELAY_POLL_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    relay_poll_interval: Duration,
    /// Below a full batch, at least this long between two transactions (fewer, larger
    /// transactions under moderate load, for at most this much more latency).
    #[arg(long, env = "RELAY_LINGER", default_value = "0ms", value_parser = parse_duration)]
    relay_linger: Duration,
    /// A leader silent this long loses its lease to a standby.
    #[arg(long, env = "RELAY_FAILOVER_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    failover_timeout: Duration,
    /// The longest one Kafka call may take (init, commit, metadata).
    #[arg(long, env = "RELAY_KAFKA_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    kafka_timeout: Duration,
    /// /health/ready turns false once Kafka has been unreachable this long.
    #[arg(long, env = "RELAY_UNREADY_AFTER", default_value = "10s", value_parser = parse_duration)]
    unready_after: Duration,
    /// Largest message (key, value, headers) published; larger events become dead letters.
    #[arg(long, env = "RELAY_MAX_MESSAGE_BYTES", default_value_t = 1_000_000)]
    max_message_bytes: usize,
    /// Producer compression: none, gzip, snappy, lz4 or zstd.
    #[arg(long, env = "RELAY_COMPRESSION", default_value = "lz4")]
    compression: String,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Relay one service's database only: orders or payments (default: both).
    #[arg(long, value_parser = parse_service)]
    service: Option<ServiceKind>,
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    #[command(flatten)]
    databases: DatabaseOverrides,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    /// Address of the relay's HTTP endpoints.
    #[arg(long, env = "KEEL_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    #[command(flatten)]
    settings: RelaySettings,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The topic to watch (orders.events, payments.events).
    topic: String,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    /// Start at the oldest retained event instead of new ones only.
    #[arg(long)]
    from_beginning: bool,
    /// Only events of this stream (the message key, e.g. order-<uuid>).
    #[arg(long)]
    key: Option<String>,
    /// Exit after this many events.
    #[arg(long)]
    max: Option<u64>,
    /// Exit after this long (non-zero when --max was not reached).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
}

pub(super) fn parse_service(raw: &str) -> Result<ServiceKind, String> {
    match raw {
        "orders" | "order" => Ok(ServiceKind::Orders),
        "payments" | "payment" => Ok(ServiceKind::Payments),
        _ => Err(format!("`{raw}`: expected orders or payments")),
    }
}

/// The relay configuration for the given services' databases.
pub fn config(
    kinds: &[ServiceKind],
    database_url: &str,
    overrides: &DatabaseOverrides,
    kafka_brokers: &str,
    host: IpAddr,
    settings: &RelaySettings,
) -> anyhow::Result<RelayConfig> {
    let mut targets = Vec::new();
    for &kind in kinds {
        let url = service_database_url(kind, database_url, overrides.get(kind))?;
        let options: PgConnectOptions = url
            .parse()
            .with_context(|| format!("{kind}: the database URL"))?;
        let name = options
            .get_database()
            .unwrap_or(kind.database_name())
            .to_owned();
        let topic = match kind {
            ServiceKind::Orders => settings.orders_topic.clone(),
            ServiceKind::Payments => settings.payments_topic.clone(),
        };
        targets.push(RelayTarget {
            name,
            database_url: url,
            topic,
        });
    }
    let mut config = RelayConfig::new(targets, kafka_brokers);
    config.progress_topic = settings.progress_topic.clone();
    config.transactional_id_prefix = settings.transactional_id_prefix.clone();
    config.topics = TopicLayout {
        partitions: settings.topic_partitions,
        replication: settings.topic_replication,
    };
    config.listen = SocketAddr::new(host, settings.relay_port);
    config.batch_size = settings.relay_batch_size.max(1);
    config.poll_interval = settings.relay_poll_interval;
    config.linger = settings.relay_linger;
    config.failover_timeout = settings.failover_timeout;
    config.kafka_timeout = settings.kafka_timeout;
    config.unready_after = settings.unready_after;
    config.max_message_bytes = settings.max_message_bytes;
    config.compression = settings.compression.clone();
    Ok(config)
}

pub async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let kinds = match args.service {
        Some(kind) => vec![kind],
        None => ServiceKind::ALL.to_vec(),
    };
    let config = config(
        &kinds,
        &args.database_url,
        &args.databases,
        &args.kafka_brokers,
        args.host,
        &args.settings,
    )?;
    let databases: Vec<String> = config
        .targets
        .iter()
        .map(|t| keel_services::config::redact_url(&t.database_url))
        .collect();
    let relay = Relay::start(config)
        .await
        .with_context(|| format!("starting the relay on {}", databases.join(", ")))?;
    // Tests and scripts read this line to find the port.
    println!("relay listening on http://{}", relay.address());
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        trigger.trigger();
    });
    relay.run_until(shutdown).await.context("relay failed")
}

pub async fn tail(args: TailArgs) -> anyhow::Result<()> {
    let options = TailOptions {
        brokers: args.kafka_brokers,
        topic: args.topic.clone(),
        from_beginning: args.from_beginning,
        key: args.key,
        max: args.max,
        timeout: args.timeout,
    };
    let printed = tail_topic(options, std::io::stdout().lock())
        .await
        .with_context(|| format!("tailing {}", args.topic))?;
    if let Some(max) = args.max {
        anyhow::ensure!(printed >= max, "{printed} of {max} events arrived in time");
    }
    Ok(())
}
