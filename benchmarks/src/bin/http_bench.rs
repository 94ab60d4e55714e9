//! HTTP command benchmark: `POST /orders` throughput and latency with 1, 16 and 64
//! closed-loop clients, a fixed-rate open-loop run against the p99 target, and commands
//! and reads on orders whose streams hold 1,000 events, with snapshots on and off.
//! Run it against the stack's PostgreSQL; see BENCHMARKS.md for the command.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use keel_benchmarks::database;
use keel_benchmarks::http::api::{report, report_counted};
use keel_benchmarks::http::server::Server;
use keel_benchmarks::http::{self, load_average, long_stream, open_loop, pg_activity};
use keel_eventstore::PgEventStore;
use reqwest::StatusCode;
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

const DATABASE: &str = "keel_bench_http_orders";

#[derive(Parser)]
#[command(about = "Measures the order service over HTTP; prints figures")]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable"
    )]
    database_url: String,
    /// `POST /orders` requests per concurrency level (split across its clients).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Concurrent closed-loop clients of the `POST /orders` runs.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Commands per second of the open-loop run.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds of the open-loop run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The p99 target of the open-loop run, in milliseconds.
    #[arg(long, default_value_t = 20.0)]
    target_p99_ms: f64,
    /// Events in each long order stream.
    #[arg(long, default_value_t = 1000)]
    stream_len: u64,
    /// Long orders per snapshot setting and client count (each takes one accepted command);
    /// 0 skips the long-stream runs.
    #[arg(long, default_value_t = 200)]
    long_orders: usize,
    /// Concurrent clients of the long-stream runs.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    long_clients: Vec<usize>,
    /// Reads and refused commands per long-stream run.
    #[arg(long, default_value_t = 1000)]
    long_requests: usize,
    /// Events after the snapshot in the long streams (0: snapshot at the last event; the
    /// policy of every 100 leaves 0 to 99).
    #[arg(long, default_value_t = 0)]
    snapshot_tail: u64,
    /// The service's database pool (the `keel` default is 10).
    #[arg(long, default_value_t = 10)]
    db_connections: u32,
    /// The event store's group commit (the `keel` binary has it on).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    group_commit: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.snapshot_tail < args.stream_len,
        "tail beyond the stream"
    );
    let pool = database::fresh(&args.database_url, DATABASE, 8).await?;
    // Only prepares the long streams: one writer per append, no group commit needed.
    let store = PgEventStore::new(pool).without_group_commit();
    store.migrate().await?;
    let options: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    let service_url = options.database(DATABASE).to_url_lossy().to_string();
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(store.pool())
        .await?;
    let started = Instant::now();
    header(&args, &version);

    let server = Server::start(&service_url, 100, args.db_connections, args.group_commit).await?;
    let api = server.api()?;
    // Warm-up: connections, PostgreSQL plans, allocator; not recorded.
    api.closed_loop(16, 25, |api, w, i| {
        (api.place_order(&api.key("warm", w, i)), StatusCode::CREATED)
    })
    .await?;
    let (warm, first) = api.take_unexpected();
    if warm > 0 {
        println!("warm-up: {warm} unexpected answers, first: {first:?}");
    }

    println!("\n== POST /orders, closed loop (each client waits for its answer) ==");
    for clients in args.clients.iter().copied().filter(|&c| c > 0) {
        let tag = format!("place{clients}");
        let mut sample = api
            .closed_loop(
                clients,
                args.requests.div_ceil(clients),
                move |api, w, i| (api.place_order(&api.key(&tag, w, i)), StatusCode::CREATED),
            )
            .await?;
        let name = format!("POST /orders, {}", http::clients(clients));
        println!("{}", report(&api, &mut sample, &name));
    }

    println!(
        "\n== POST /orders, open loop at {} commands/s for {} s (latency from the scheduled send) ==",
        args.rate, args.seconds
    );
    let watcher = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&service_url)
        .await?;
    let sampler = pg_activity::Sampler::start(watcher).await;
    let (mut open, timeline) =
        open_loop::place_orders(&api, args.rate, Duration::from_secs_f64(args.seconds)).await?;
    let (seconds, moved) = sampler.finish().await;
    let name = format!("POST /orders, {} /s offered", args.rate);
    let (line, open_unexpected) = report_counted(&api, &mut open, &name);
    println!("{line}");
    print!("{}", pg_activity::report(&timeline, &seconds, moved));
    let open_p99 = open.quantile(0.99).as_secs_f64() * 1e3;
    let open_rate = open.per_second();
    drop(server);

    // `--long-orders 0` measures POST /orders alone.
    if args.long_orders > 0 {
        long_streams(&args, &store, &service_url).await?;
    }

    println!("\n== targets ==");
    let met =
        open_p99 < args.target_p99_ms && open_rate >= 0.98 * args.rate && open_unexpected == 0;
    println!(
        "p99 < {} ms at {} commands/s, all answered 201: {} (p99 {open_p99:.2} ms, achieved \
         {open_rate:.0}/s, unexpected {open_unexpected})",
        args.target_p99_ms,
        args.rate,
        if met { "met" } else { "NOT met" }
    );
    println!(
        "total {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

fn header(args: &Args, version: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("keel HTTP command benchmark: order service, PostgreSQL {version}, {cores} cores");
    println!("load average at the start: {}", load_average());
    println!(
        "The service runs in this process on a tokio runtime of its own ({cores} workers, pool of \
         {} connections, group commit {}); the client is reqwest with keep-alive over loopback. \
         Client, service and PostgreSQL all share the same {cores} cores, so these figures include \
         the load generator's own CPU use.",
        args.db_connections,
        if args.group_commit { "on" } else { "off" }
    );
    println!(
        "Every command carries a unique Idempotency-Key and a bearer token; \"unexpected\" counts \
         answers other than the expected status (201, 200 or 422) and transport errors."
    );
}

async fn long_streams(args: &Args, store: &PgEventStore, service_url: &str) -> anyhow::Result<()> {
    let len = args.stream_len;
    let levels: Vec<usize> = args
        .long_clients
        .iter()
        .copied()
        .filter(|&c| c > 0)
        .collect();
    println!(
        "\n== an existing order of {len} events: {} orders per setting and client count ==",
        args.long_orders
    );
    println!("Stream contents: {}", long_stream::CONTENTS);
    println!(
        "Measured: GET /orders/{{id}} (a full load through the repository), POST .../deliver \
         (refused with 422 after the load: the order has not shipped) and POST .../confirm \
         (accepted, 200: load, decide, append event {}), once per order.",
        len + 1
    );
    println!(
        "Snapshots on: SNAPSHOT_EVERY=100 with a snapshot at version {} ({} tail events); \
         off: SNAPSHOT_EVERY=0 (all {len} events read and folded).",
        len - args.snapshot_tail,
        args.snapshot_tail
    );
    let prepared = Instant::now();
    let mut sets = Vec::new();
    for (every, snapshot_at) in [(100, Some(len - args.snapshot_tail)), (0, None)] {
        for &clients in &levels {
            let ids = long_stream::prepare(store, args.long_orders, len, snapshot_at, 4).await?;
            sets.push((every, clients, Arc::new(ids)));
        }
    }
    println!(
        "(prepared {} streams in {:.1} s)",
        sets.len() * args.long_orders,
        prepared.elapsed().as_secs_f64()
    );
    for every in [100, 0] {
        let server =
            Server::start(service_url, every, args.db_connections, args.group_commit).await?;
        let api = server.api()?;
        for (_, clients, ids) in sets.iter().filter(|s| s.0 == every) {
            // Warm-up reads on this set's first order.
            for id in ids.iter().take(1).cycle().take(20) {
                api.send(api.get_order(*id), StatusCode::OK).await;
            }
            api.take_unexpected();
            let snap = if every > 0 { "on" } else { "off" };
            let label = format!("snap {snap}, {}", http::clients(*clients));
            let lines =
                long_stream::measure(&api, &label, Arc::clone(ids), *clients, args.long_requests)
                    .await?;
            for line in lines {
                println!("{line}");
            }
        }
    }
    Ok(())
}
