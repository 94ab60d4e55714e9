//! The command line: flags override the environment, which overrides the defaults (the
//! defaults match `scripts/stack env`). Only this binary edge uses `anyhow`.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use clap::builder::FalseyValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};
use keel_eventstore::{GroupCommit, SessionTimeouts};
use keel_services::config::{
    jwt_secret, service_database_url, JwtSecretError, JwtSettings, Mode, ServiceConfig,
    ServiceKind, DEFAULT_DATABASE_URL, DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER,
    DEFAULT_MAX_BODY_BYTES,
};
use keel_services::dependencies::Dependencies;
use keel_services::http::auth::{Scope, Scopes};
use keel_services::shutdown::{self, Shutdown};
use keel_services::{database, supervisor, telemetry, Application, JwtKeys};

mod outbox;
mod projections;
mod projector;
mod query;
mod relay;

#[derive(Debug, Parser)]
#[command(name = "keel", version, about = "keel: an event-sourced CQRS platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at startup: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the order command service.
    OrderService(OrderServiceArgs),
    /// Run the payment command service.
    PaymentService(PaymentServiceArgs),
    /// Run the query service: order search over the Elasticsearch read model.
    QueryService(query::QueryServiceArgs),
    /// Migrate, then run every process of the platform in this one process (supervised).
    Up(UpArgs),
    /// Create each service's database if missing and run the event store's migrations.
    Migrate(MigrateArgs),
    /// Mint a bearer token (HS256, signed with JWT_SECRET; with --dev, the development secret
    /// when JWT_SECRET is unset).
    Token(TokenArgs),
    /// Publish each service's outbox to Kafka, exactly once, in stream order.
    Relay(relay::RelayArgs),
    /// Print a topic's committed events as they arrive (read_committed).
    Tail(relay::TailArgs),
    /// The outbox: rows not yet published, and dead letters (list, re-drive).
    Outbox(outbox::OutboxArgs),
    /// Run a projector: consume the event topics and keep a read model (search).
    Projector(projector::ProjectorArgs),
    /// Operate the projectors' read models: status, rebuild, replay, verify, dead letters.
    Projections(projections::ProjectionsArgs),
}

/// Settings every service shares.
#[derive(Debug, Args)]
struct CommonArgs {
    /// PostgreSQL server; each service uses its own database on it (keel_orders, keel_payments).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// Address to listen on.
    #[arg(long, env = "KEEL_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    #[command(flatten)]
    jwt: JwtArgs,
    /// Snapshot an aggregate every this many events; 0 turns snapshots off.
    #[arg(long, env = "SNAPSHOT_EVERY", default_value_t = 100)]
    snapshot_every: u64,
    /// Largest accepted request body, in bytes (larger: 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Connections in each service's database pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    database_max_connections: u32,
    #[command(flatten)]
    bounds: TimeBounds,
    #[command(flatten)]
    later: LaterDependencies,
}

/// How long anything may wait (durations: 500ms, 10s, 5m, 24h, 7d).
#[derive(Debug, Args)]
struct TimeBounds {
    /// The longest a request may take; then 503 with Retry-After.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// How long idempotency keys and their answers are kept.
    #[arg(long, env = "IDEMPOTENCY_RETENTION", default_value = "24h", value_parser = parse_duration)]
    idempotency_retention: Duration,
    /// PostgreSQL statement_timeout of the services' connections.
    #[arg(long, env = "DATABASE_STATEMENT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    database_statement_timeout: Duration,
    /// PostgreSQL lock_timeout of the services' connections.
    #[arg(long, env = "DATABASE_LOCK_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    database_lock_timeout: Duration,
    /// Appends that may wait for group commit; more are answered 503 (overloaded).
    #[arg(long, env = "APPEND_QUEUE_LIMIT", default_value_t = 4096)]
    append_queue_limit: usize,
    /// The longest an append waits for its batch; then it is dropped, unappended (503).
    #[arg(long, env = "APPEND_QUEUE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    append_queue_timeout: Duration,
}

/// Bearer tokens: the key, the claims they must carry, and development mode.
#[derive(Debug, Args)]
struct JwtArgs {
    /// Secret that signs and verifies bearer tokens (HS256), at least 32 bytes. Required
    /// unless in development mode.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The issuer (`iss`) tokens must name.
    #[arg(long, env = "JWT_ISSUER", default_value = DEFAULT_JWT_ISSUER)]
    jwt_issuer: String,
    /// The audience (`aud`) tokens must name.
    #[arg(long, env = "JWT_AUDIENCE", default_value = DEFAULT_JWT_AUDIENCE)]
    jwt_audience: String,
    /// Development mode on this machine: without JWT_SECRET, use the public development
    /// secret (`keel up` is always in development mode).
    #[arg(
        long,
        env = "KEEL_DEV",
        action = ArgAction::SetTrue,
        value_parser = FalseyValueParser::new()
    )]
    dev: bool,
}

impl JwtArgs {
    fn settings(&self, mode: Mode) -> Result<JwtSettings, JwtSecretError> {
        Ok(JwtSettings {
            secret: jwt_secret(self.jwt_secret.as_deref(), mode)?,
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
        })
    }

    fn mode(&self) -> Mode {
        if self.dev {
            Mode::Development
        } else {
            Mode::Production
        }
    }
}

/// Kafka, Elasticsearch and ClickHouse: `keel up` checks them now; the relay, projectors
/// and sagas use them.
#[derive(Debug, Args)]
struct LaterDependencies {
    /// Kafka bootstrap servers (used by the relay, projectors and sagas).
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    #[arg(
        long,
        env = "ELASTICSEARCH_URL",
        default_value = "http://127.0.0.1:9200"
    )]
    elasticsearch_url: String,
    /// ClickHouse HTTP endpoint (used by the analytics projector).
    #[arg(long, env = "CLICKHOUSE_URL", default_value = "http://127.0.0.1:8123")]
    clickhouse_url: String,
}

#[derive(Debug, Args)]
struct OrderServiceArgs {
    #[arg(long, env = "ORDER_SERVICE_PORT", default_value_t = 8081)]
    port: u16,
    /// The order service's own database (default: DATABASE_URL's server, database keel_orders).
    #[arg(
        long = "order-database-url",
        env = "ORDER_DATABASE_URL",
        hide_env_values = true
    )]
    own_database_url: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct PaymentServiceArgs {
    #[arg(long, env = "PAYMENT_SERVICE_PORT", default_value_t = 8082)]
    port: u16,
    /// The payment service's own database (default: DATABASE_URL's server, database keel_payments).
    #[arg(
        long = "payment-database-url",
        env = "PAYMENT_DATABASE_URL",
        hide_env_values = true
    )]
    own_database_url: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct DatabaseOverrides {
    #[arg(long, env = "ORDER_DATABASE_URL", hide_env_values = true)]
    order_database_url: Option<String>,
    #[arg(long, env = "PAYMENT_DATABASE_URL", hide_env_values = true)]
    payment_database_url: Option<String>,
}

impl DatabaseOverrides {
    fn get(&self, kind: ServiceKind) -> Option<&str> {
        match kind {
            ServiceKind::Orders => self.order_database_url.as_deref(),
            ServiceKind::Payments => self.payment_database_url.as_deref(),
        }
    }
}

#[derive(Debug, Args)]
struct UpArgs {
    #[arg(long, env = "ORDER_SERVICE_PORT", default_value_t = 8081)]
    order_port: u16,
    #[arg(long, env = "PAYMENT_SERVICE_PORT", default_value_t = 8082)]
    payment_port: u16,
    #[arg(long, env = "QUERY_SERVICE_PORT", default_value_t = keel_services::query::config::DEFAULT_PORT)]
    query_port: u16,
    #[command(flatten)]
    databases: DatabaseOverrides,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    relay: Box<relay::RelaySettings>,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    #[command(flatten)]
    databases: DatabaseOverrides,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The subject: the actor recorded in the metadata of the events this token causes.
    #[arg(long, default_value = "developer")]
    sub: String,
    /// How long the token is valid: seconds, or a number with s, m, h or d.
    #[arg(long, default_value = "24h", value_parser = parse_ttl)]
    ttl: Duration,
    /// What the token may do, space-separated: commands, queries, operator.
    #[arg(long, default_value = "commands queries")]
    scope: Scopes,
    #[command(flatten)]
    jwt: JwtArgs,
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::OrderService(args) => {
                serve(
                    ServiceKind::Orders,
                    args.port,
                    args.own_database_url.as_deref(),
                    &args.common,
                )
                .await
            }
            Command::PaymentService(args) => {
                serve(
                    ServiceKind::Payments,
                    args.port,
                    args.own_database_url.as_deref(),
                    &args.common,
                )
                .await
            }
            Command::QueryService(args) => query::serve(args).await,
            Command::Up(args) => up(args).await,
            Command::Relay(args) => relay::relay(args).await,
            Command::Tail(args) => relay::tail(args).await,
            Command::Outbox(args) => outbox::outbox(args).await,
            Command::Projector(args) => projector::projector(args).await,
            Command::Projections(args) => projections::projections(args).await,
            Command::Migrate(args) => migrate(&args.database_url, &args.databases).await.map(drop),
            Command::Token(args) => {
                let keys = JwtKeys::new(&args.jwt.settings(args.jwt.mode())?);
                let token = keys
                    .mint(&args.sub, &args.scope, args.ttl)
                    .context("minting a token")?;
                println!("{token}");
                Ok(())
            }
        }
    })
}

fn config(
    kind: ServiceKind,
    port: u16,
    database_url: String,
    common: &CommonArgs,
    jwt: JwtSettings,
) -> ServiceConfig {
    ServiceConfig {
        kind,
        host: common.host,
        port,
        database_url,
        max_db_connections: common.database_max_connections,
        jwt,
        snapshot_every: common.snapshot_every,
        max_body_bytes: common.max_body_bytes,
        request_timeout: common.bounds.request_timeout,
        idempotency_retention: common.bounds.idempotency_retention,
        database_timeouts: SessionTimeouts {
            statement: common.bounds.database_statement_timeout,
            lock: common.bounds.database_lock_timeout,
        },
        group_commit: GroupCommit {
            max_queued: common.bounds.append_queue_limit,
            queue_timeout: common.bounds.append_queue_timeout,
            ..GroupCommit::default()
        },
    }
}

async fn serve(
    kind: ServiceKind,
    port: u16,
    own_url: Option<&str>,
    common: &CommonArgs,
) -> anyhow::Result<()> {
    // Before anything is connected: a service that would trust a public key never starts.
    let jwt = common.jwt.settings(common.jwt.mode())?;
    let url = service_database_url(kind, &common.database_url, own_url)?;
    tracing::debug!(later = ?common.later, "dependencies of later processes");
    let app = Application::build(config(kind, port, url, common, jwt)).await?;
    println!("{kind} listening on {}", app.base_url());
    app.run_until_stopped()
        .await
        .with_context(|| format!("{kind} failed"))
}

/// Creates and migrates every service's database; returns their URLs.
async fn migrate(
    database_url: &str,
    overrides: &DatabaseOverrides,
) -> anyhow::Result<Vec<(ServiceKind, String)>> {
    let mut urls = Vec::new();
    for kind in ServiceKind::ALL {
        let url = service_database_url(kind, database_url, overrides.get(kind))?;
        let created = database::migrate(kind, &url).await?;
        let state = if created {
            "created and migrated"
        } else {
            "migrated"
        };
        println!(
            "{kind}: database {} {state}",
            keel_services::config::redact_url(&url)
        );
        urls.push((kind, url));
    }
    Ok(urls)
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    // `keel up` runs the platform on a developer's machine.
    let jwt = args.common.jwt.settings(Mode::Development)?;
    let later = &args.common.later;
    let dependencies = Dependencies {
        database_url: args.common.database_url.clone(),
        kafka_brokers: later.kafka_brokers.clone(),
        elasticsearch_url: later.elasticsearch_url.clone(),
        clickhouse_url: later.clickhouse_url.clone(),
    };
    for line in dependencies.check().await? {
        println!("{line}");
    }
    let urls = migrate(&args.common.database_url, &args.databases).await?;
    let mut apps = Vec::new();
    for (kind, url) in urls {
        let port = match kind {
            ServiceKind::Orders => args.order_port,
            ServiceKind::Payments => args.payment_port,
        };
        let app = Application::build(config(kind, port, url, &args.common, jwt.clone())).await?;
        println!("{kind:<16} http://{}", app.address());
        apps.push(app);
    }
    let relay_config = relay::config(
        &ServiceKind::ALL,
        &args.common.database_url,
        &args.databases,
        &later.kafka_brokers,
        args.common.host,
        &args.relay,
    )?;
    let relay = keel_services::relay::Relay::start(relay_config)
        .await
        .context("starting the relay")?;
    println!("{:<16} http://{}", "relay", relay.address());
    let query = keel_services::query::QueryService::build(keel_services::query::QueryConfig {
        host: args.common.host,
        port: args.query_port,
        elasticsearch_url: later.elasticsearch_url.clone(),
        alias: keel_projections::search::ALIAS.to_owned(),
        jwt: jwt.clone(),
        request_timeout: args.common.bounds.request_timeout,
        search_timeout: Duration::from_secs(5),
    })
    .await
    .context("starting the query service")?;
    let query_url = query.base_url();
    println!("{:<16} {query_url}", "query-service");
    let projector = projector::start_search(
        &args.common.database_url,
        args.databases.get(ServiceKind::Orders),
        &later.elasticsearch_url,
        &later.kafka_brokers,
        args.common.host,
    )
    .await?;
    println!("{:<16} http://{}", "projector search", projector.address);
    let order_url = apps
        .iter()
        .find(|a| a.kind() == ServiceKind::Orders)
        .map(Application::base_url)
        .unwrap_or_default();
    let keys = JwtKeys::new(&jwt);
    let token = keys
        .mint(
            "developer",
            &Scopes::new([Scope::Commands, Scope::Queries]),
            Duration::from_secs(24 * 3600),
        )
        .context("minting the development token")?;
    println!(
        "ready: {} command services, the query service, the relay and the search projector \
         (Ctrl-C stops them). A development token, valid 24 h:",
        apps.len()
    );
    println!();
    println!("export KEEL_TOKEN={token}");
    println!("{}", sample_curl(&order_url));
    println!(
        "curl -s '{query_url}/search/orders?q=lovelace' -H \"Authorization: Bearer $KEEL_TOKEN\""
    );
    println!();

    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        trigger.trigger();
    });
    let relay_task = supervisor::Supervised {
        name: "relay".into(),
        task: Box::pin({
            let stop = shutdown.clone();
            async move { relay.run_until(stop).await.map_err(|e| e.to_string()) }
        }),
    };
    let query_task = supervisor::Supervised {
        name: "query-service".into(),
        task: Box::pin({
            let stop = shutdown.clone();
            async move {
                query
                    .run_until(async move { stop.wait().await })
                    .await
                    .map_err(|e| e.to_string())
            }
        }),
    };
    let projector_task = supervisor::Supervised {
        name: "projector search".into(),
        task: Box::pin({
            let stop = shutdown.clone();
            async move {
                projector
                    .run_until(stop)
                    .await
                    .map_err(|e| format!("{e:#}"))
            }
        }),
    };
    supervisor::run_with(apps, vec![relay_task, query_task, projector_task], shutdown).await?;
    Ok(())
}

fn sample_curl(order_url: &str) -> String {
    format!(
        "curl -si -X POST {order_url}/orders -H \"Authorization: Bearer $KEEL_TOKEN\" \
-H 'Content-Type: application/json' -H \"Idempotency-Key: $(date +%s%N)\" \
-d '{{\"customer_id\":\"0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59\",\"customer_name\":\"Ada Lovelace\",\
\"currency\":\"EUR\",\"lines\":[{{\"sku\":\"SKU-1\",\"name\":\"Notebook\",\"quantity\":2,\"unit_price\":1250}}]}}'"
    )
}

/// A duration: a number with ms, s, m, h or d (a bare number is seconds).
fn parse_duration(raw: &str) -> Result<Duration, String> {
    match raw.trim().strip_suffix("ms") {
        Some(ms) => ms
            .parse()
            .map(Duration::from_millis)
            .map_err(|_| format!("`{raw}` is not a duration like 500ms, 10s, 5m or 24h")),
        None => parse_ttl(raw),
    }
}

fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration like 3600, 90m, 24h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{raw}`: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tokens_take_scopes_and_development_mode() {
        let cli = Cli::try_parse_from(["keel", "token", "--dev", "--scope", "queries"]).unwrap();
        let Command::Token(args) = cli.command else {
            panic!("not the token command");
        };
        assert!(args.jwt.dev);
        assert_eq!(args.jwt.mode(), Mode::Development);
        assert_eq!(args.scope, Scopes::new([Scope::Queries]));
        assert!(Cli::try_parse_from(["keel", "token", "--scope", "everything"]).is_err());
    }

    #[test]
    fn ttls_take_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_ttl("1w").is_err());
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert!(parse_duration("xms").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
