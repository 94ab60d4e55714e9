//! Projection benchmark (issue 10): a blue/green rebuild of the search model from an event
//! store of N order events (`keel projections rebuild search`, run as a child of the release
//! binary: events/s, documents/s, RSS over the run) against the raw `_bulk` rate of the same
//! documents; and freshness, the time from `POST /orders` answering 201 to the order being
//! readable on the query service, with the order service, relay, search projector and query
//! service each a child process. Run it against the stack; see BENCHMARKS.md.

mod freshness_part;
mod rebuild_part;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use keel_benchmarks::projection::child;
use keel_benchmarks::projection::es::Es;
use keel_benchmarks::projection::procs;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

const REBUILD_DATABASE: &str = "keel_bench_projection_rebuild";
const FRESHNESS_DATABASE: &str = "keel_bench_projection_freshness";

#[derive(Parser)]
#[command(about = "Measures the search projection's rebuild and freshness; prints figures")]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable"
    )]
    database_url: String,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    #[arg(
        long,
        env = "ELASTICSEARCH_URL",
        default_value = "http://127.0.0.1:9200"
    )]
    elasticsearch_url: String,
    /// Events in the rebuild's event store (4 per order).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Orders progress in windows of this many (placed, then paid, confirmed, shipped), so
    /// one order's events lie this far apart in the log; 1 puts them side by side.
    #[arg(long, default_value_t = 1_000)]
    window: u64,
    /// Documents per `_bulk` request of the raw load, one run each.
    #[arg(long, value_delimiter = ',', default_value = "2000,5000")]
    bulk_sizes: Vec<usize>,
    /// Requests in flight of the raw load (the rebuild's default is 3), one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    bulk_in_flight: Vec<usize>,
    /// A further argument of `keel projections rebuild search` (repeatable).
    #[arg(long = "rebuild-arg", allow_hyphen_values = true)]
    rebuild_args: Vec<String>,
    /// Orders a second of the freshness run (open loop).
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Seconds of the freshness run.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// An order not readable this many seconds after its 201 counts as never seen.
    #[arg(long, default_value_t = 30)]
    give_up_seconds: u64,
    /// Customers the freshness run's orders are spread over; one search poller each.
    #[arg(long, default_value_t = 4)]
    customers: usize,
    /// Milliseconds between two searches of one customer's poller.
    #[arg(long, default_value_t = 25)]
    poll_interval_ms: u64,
    /// Also watch every n-th order by id (GET /orders/{id}, a real-time get); 0: none.
    #[arg(long, default_value_t = 20)]
    by_id_every: usize,
    /// By-id requests in flight at most.
    #[arg(long, default_value_t = 4)]
    by_id_in_flight: usize,
    /// Run only these parts (rebuild, freshness); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Keep the Elasticsearch indexes and Kafka topics (they are deleted by default).
    #[arg(long)]
    keep: bool,
    /// Before each timed part, wait until the machine is less than this busy (percent of
    /// all cores, over 3 s): other work on a 2-core machine moves the figures a lot.
    #[arg(long, default_value_t = 30.0)]
    settle_below: f64,
    /// The longest wait for the machine to settle, in seconds (0: do not wait).
    #[arg(long, default_value_t = 120)]
    settle_seconds: u64,
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

fn database_url(args: &Args, name: &str) -> anyhow::Result<String> {
    let options: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    Ok(options.database(name).to_url_lossy().to_string())
}

fn line(name: &str, value: String) {
    println!("{name:<52} {value}");
}

/// Waits (bounded) for other work on the machine to pass; prints how busy it was.
async fn settle(args: &Args, before: &str) {
    if args.settle_seconds == 0 {
        return;
    }
    let said = procs::settle(
        args.settle_below / 100.0,
        Duration::from_secs(args.settle_seconds),
    )
    .await;
    println!("({before}: {said})");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn header(args: &Args, es: &Es) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(&args.database_url)
        .await
        .context("PostgreSQL unreachable (is `scripts/stack up` done?)")?;
    let pg: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    let es_version = es
        .version()
        .await
        .context("Elasticsearch unreachable (is `scripts/stack up` done?)")?;
    println!(
        "keel projection benchmark: {} cores, PostgreSQL {pg}, Elasticsearch {es_version}, Kafka {}",
        procs::cores(),
        args.kafka_brokers
    );
    println!("load average at the start: {}", load_average());
    Ok(())
}

fn load_average() -> String {
    keel_benchmarks::http::load_average()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let keel = child::keel_binary()?;
    let es = Es::new(&args.elasticsearch_url)?;
    header(&args, &es).await?;
    let logs: PathBuf = std::env::temp_dir().join(format!("projection-bench-{}", suffix()));
    println!(
        "keel processes: {} (their output in {})",
        keel.display(),
        logs.display()
    );
    let runs = |part: &str| args.only.is_empty() || args.only.iter().any(|p| p == part);
    if runs("rebuild") {
        rebuild_part::rebuild_part(&args, &keel, &es, &logs).await?;
    }
    if runs("freshness") {
        freshness_part::freshness_part(&args, &keel, &es, &logs).await?;
    }
    println!(
        "\ntotal {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}
