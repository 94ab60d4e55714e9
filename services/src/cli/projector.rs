//! `keel projector <name>`: one projector of `keel-projections` on the engine's consumer
//! loop, with `/health/*` and `/metrics` on its own port.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use keel_projections::engine::{
    health, Backoff, Projector, Runner, RunnerConfig, DEFAULT_BATCH_SIZE,
};
use keel_projections::search::{IndexLayout, SearchConfig, SearchProjector, ALIAS, DEFAULT_TOPIC};
use keel_services::config::{redact_url, service_database_url, ServiceKind, DEFAULT_DATABASE_URL};
use keel_services::shutdown::{self, Shutdown};
use tokio::net::TcpListener;

use super::parse_duration;

/// The default port of a projector's `/health/*` and `/metrics`.
pub const DEFAULT_PORT: u16 = 8085;

#[derive(Debug, Args)]
pub struct ProjectorArgs {
    #[command(subcommand)]
    projector: Which,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// The search read model: one Elasticsearch document per order, behind an alias.
    Search(SearchArgs),
}

/// What every projector process takes (durations: 50ms, 10s, 5m).
#[derive(Debug, Args)]
struct EngineArgs {
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    /// Address of the projector's HTTP endpoints.
    #[arg(long, env = "KEEL_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port of /health/live, /health/ready and /metrics (0: any free port).
    #[arg(long, env = "PROJECTOR_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Consumer group (default keel-projector-<name>); instances of one group share the work.
    #[arg(long, env = "PROJECTOR_GROUP_ID")]
    group_id: Option<String>,
    /// Where poison events go (default keel.dead-letters.<name>).
    #[arg(long, env = "PROJECTOR_DEAD_LETTER_TOPIC")]
    dead_letter_topic: Option<String>,
    /// Events per batch, at most.
    #[arg(long, env = "PROJECTOR_BATCH_SIZE", default_value_t = DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// How long a batch waits for more events after its first.
    #[arg(long, env = "PROJECTOR_BATCH_TIMEOUT", default_value = "50ms", value_parser = parse_duration)]
    batch_timeout: Duration,
    /// The longest wait between two tries of a batch that failed transiently.
    #[arg(long, env = "PROJECTOR_MAX_BACKOFF", default_value = "30s", value_parser = parse_duration)]
    max_backoff: Duration,
    /// The longest one Kafka admin or metadata call may take.
    #[arg(long, env = "PROJECTOR_KAFKA_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    kafka_timeout: Duration,
    /// Partitions of a source topic the projector creates (an existing topic is left as is).
    #[arg(long, env = "PROJECTOR_TOPIC_PARTITIONS", default_value_t = 6)]
    topic_partitions: i32,
    /// Replication factor of the topics the projector creates.
    #[arg(long, env = "PROJECTOR_TOPIC_REPLICATION", default_value_t = 1)]
    topic_replication: i32,
    /// A further librdkafka consumer setting, key=value (repeatable), e.g.
    /// session.timeout.ms=6000.
    #[arg(long = "consumer-setting", value_parser = parse_setting)]
    consumer_settings: Vec<(String, String)>,
}

impl EngineArgs {
    fn config(&self) -> RunnerConfig {
        let mut config = RunnerConfig::new(&self.kafka_brokers);
        config.group_id = self.group_id.clone();
        config.dead_letter_topic = self.dead_letter_topic.clone();
        config.batch_size = self.batch_size.max(1);
        config.batch_timeout = self.batch_timeout;
        config.backoff = Backoff {
            max: self.max_backoff.max(Backoff::default().initial),
            ..Backoff::default()
        };
        config.kafka_timeout = self.kafka_timeout;
        config.topic_partitions = self.topic_partitions;
        config.topic_replication = self.topic_replication;
        config.consumer_overrides = self.consumer_settings.clone();
        config
    }
}

#[derive(Debug, Args)]
struct SearchArgs {
    #[command(flatten)]
    engine: EngineArgs,
    #[arg(
        long,
        env = "ELASTICSEARCH_URL",
        default_value = "http://127.0.0.1:9200"
    )]
    elasticsearch_url: String,
    /// Every read and write goes through this alias; created with <alias>-v1 when missing.
    #[arg(long, env = "SEARCH_ALIAS", default_value = ALIAS)]
    alias: String,
    /// Shards of the index created when the alias is missing.
    #[arg(long, env = "SEARCH_INDEX_SHARDS", default_value_t = 1)]
    index_shards: u32,
    /// Replicas of the index created when the alias is missing.
    #[arg(long, env = "SEARCH_INDEX_REPLICAS", default_value_t = 0)]
    index_replicas: u32,
    /// The topic of order events.
    #[arg(long, env = "SEARCH_TOPIC", default_value = DEFAULT_TOPIC)]
    topic: String,
    /// PostgreSQL server of the order service's event store (database keel_orders).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// The order service's own database, read for events a document misses.
    #[arg(long, env = "ORDER_DATABASE_URL", hide_env_values = true)]
    order_database_url: Option<String>,
}

fn parse_setting(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("`{raw}` is not key=value")),
    }
}

pub async fn projector(args: ProjectorArgs) -> anyhow::Result<()> {
    match args.projector {
        Which::Search(args) => search(args).await,
    }
}

async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let projector = search_projector(&args).await?;
    let listen = SocketAddr::new(args.engine.host, args.engine.port);
    let started = start(
        projector,
        &args.engine.kafka_brokers,
        args.engine.config(),
        listen,
    )
    .await?;
    // Tests and scripts read this line to find the port.
    println!(
        "projector {} listening on http://{}",
        started.name, started.address
    );
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        trigger.trigger();
    });
    started.run_until(shutdown).await
}

async fn search_projector(args: &SearchArgs) -> anyhow::Result<Arc<dyn Projector>> {
    let url = service_database_url(
        ServiceKind::Orders,
        &args.database_url,
        args.order_database_url.as_deref(),
    )?;
    let mut config = SearchConfig::new(&args.elasticsearch_url, &url);
    config.alias = args.alias.clone();
    config.topic = args.topic.clone();
    config.layout = IndexLayout {
        shards: args.index_shards.max(1),
        replicas: args.index_replicas,
    };
    let projector = SearchProjector::connect(config).await.with_context(|| {
        format!(
            "starting the search projector (elasticsearch at {}, alias {}, event store {})",
            args.elasticsearch_url,
            args.alias,
            redact_url(&url)
        )
    })?;
    Ok(Arc::new(projector))
}

/// The search projector as `keel up` runs it: every setting at its default but the servers.
pub async fn start_search(
    database_url: &str,
    order_database_url: Option<&str>,
    elasticsearch_url: &str,
    kafka_brokers: &str,
    host: IpAddr,
) -> anyhow::Result<Started> {
    let mut argv = vec![
        "search".to_owned(),
        format!("--database-url={database_url}"),
        format!("--elasticsearch-url={elasticsearch_url}"),
        format!("--kafka-brokers={kafka_brokers}"),
        format!("--host={host}"),
    ];
    if let Some(url) = order_database_url {
        argv.push(format!("--order-database-url={url}"));
    }
    // Parsed like the command line, so `keel up` gets exactly the documented defaults.
    #[derive(Parser)]
    struct Settings {
        #[command(flatten)]
        search: SearchArgs,
    }
    let args = Settings::try_parse_from(argv)
        .context("the search projector's settings")?
        .search;
    let projector = search_projector(&args).await?;
    let listen = SocketAddr::new(host, args.engine.port);
    start(projector, kafka_brokers, args.engine.config(), listen).await
}

/// A projector with its consumer created and its port bound.
pub struct Started {
    pub name: String,
    pub address: SocketAddr,
    runner: Runner,
    listener: TcpListener,
}

async fn start(
    projector: Arc<dyn Projector>,
    kafka_brokers: &str,
    config: RunnerConfig,
    listen: SocketAddr,
) -> anyhow::Result<Started> {
    let name = projector.name().to_owned();
    let runner = Runner::new(projector, config)
        .await
        .with_context(|| format!("starting the {name} projector on kafka at {kafka_brokers}"))?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let address = listener.local_addr().context("the listening address")?;
    Ok(Started {
        name,
        address,
        runner,
        listener,
    })
}

impl Started {
    /// Consumes and serves `/health/*` and `/metrics` until `shutdown` is triggered.
    pub async fn run_until(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let Self {
            name,
            address,
            runner,
            listener,
        } = self;
        tracing::info!(
            projector = %name,
            %address,
            group = %runner.group_id(),
            dead_letters = %runner.dead_letter_topic(),
            "projector running"
        );
        let router = health::router(runner.health());
        let server = tokio::spawn({
            let serving = axum::serve(listener, router).with_graceful_shutdown(shutdown.wait());
            async move { serving.await }
        });
        let result = runner.run_until(shutdown.wait()).await;
        shutdown.trigger();
        let served = server.await.context("the HTTP server task")?;
        result.with_context(|| format!("the {name} projector failed"))?;
        served.context("the HTTP server failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_settings_are_key_value_pairs() {
        assert_eq!(
            parse_setting("session.timeout.ms=6000"),
            Ok(("session.timeout.ms".into(), "6000".into()))
        );
        assert!(parse_setting("nothing").is_err());
        assert!(parse_setting("=1").is_err());
    }
}
