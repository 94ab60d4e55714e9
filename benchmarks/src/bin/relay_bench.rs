//! Outbox relay benchmark: drain of a large backlog (events/s), commit-to-visible latency for
//! a read_committed consumer at a steady 1,000 appends/s (p50/p99), and append throughput
//! with the relay running vs stopped. The relay runs in this process (the same code as
//! `keel relay`). Run it against the stack; see BENCHMARKS.md for the command and figures.

use std::time::{Duration, Instant};

use clap::Parser;
use keel_benchmarks::eventstore::appends;
use keel_benchmarks::eventstore::bench_event;
use keel_benchmarks::relay::visible::Visible;
use keel_benchmarks::relay::{backlog, RunningRelay};
use keel_benchmarks::{database, stats::Sample};
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

#[derive(Parser)]
#[command(about = "Measures the outbox relay; prints figures")]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable"
    )]
    database_url: String,
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    kafka_brokers: String,
    /// Events in the backlog the relay drains.
    #[arg(long, default_value_t = 1_000_000)]
    backlog: i64,
    /// Outbox rows per Kafka transaction.
    #[arg(long, default_value_t = 5_000)]
    batch_size: usize,
    /// Seconds of the steady 1,000 appends/s latency run.
    #[arg(long, default_value_t = 30)]
    latency_seconds: u64,
    /// Appends per append-throughput run (8 writers, one event per append).
    #[arg(long, default_value_t = 16_000)]
    appends: usize,
    /// The relay's linger (milliseconds between transactions below a full batch).
    #[arg(long, default_value_t = 0)]
    linger_ms: u64,
    /// Run only these parts (drain, latency, appends); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

struct Run {
    url: String,
    store: PgEventStore,
    topic: String,
    progress: String,
    name: String,
}

async fn fresh_run(args: &Args, what: &str) -> anyhow::Result<Run> {
    let name = format!("keel_bench_relay_{what}");
    let pool = database::fresh(&args.database_url, &name, 40).await?;
    let store = PgEventStore::new(pool);
    store.migrate().await?;
    let options: PgConnectOptions = args.database_url.parse()?;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    Ok(Run {
        url: options.database(&name).to_url_lossy().to_string(),
        store,
        topic: format!("bench.{what}.events.{suffix}"),
        progress: format!("bench.relay.progress.{suffix}"),
        name,
    })
}

async fn start_relay(args: &Args, run: &Run) -> anyhow::Result<RunningRelay> {
    RunningRelay::start(
        &run.url,
        &run.name,
        &run.topic,
        &run.progress,
        &args.kafka_brokers,
        args.batch_size,
        Duration::from_millis(args.linger_ms),
    )
    .await
}

/// Waits until `run`'s topic exists (the relay creates it) and starts a consumer on it.
async fn consumer(args: &Args, run: &Run) -> anyhow::Result<Visible> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (brokers, topic) = (args.kafka_brokers.clone(), run.topic.clone());
        let partitions = tokio::task::spawn_blocking(move || {
            use rdkafka::consumer::{BaseConsumer, Consumer};
            let c: BaseConsumer = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .create()
                .ok()?;
            let m = c
                .fetch_metadata(Some(&topic), Duration::from_secs(5))
                .ok()?;
            let n = m.topics().first()?.partitions().len();
            (n > 0).then_some(n as i32)
        })
        .await?;
        if let Some(n) = partitions {
            return Visible::start(&args.kafka_brokers, &run.topic, n);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "topic {} never appeared",
            run.topic
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn drain(args: &Args) -> anyhow::Result<()> {
    let run = fresh_run(args, "drain").await?;
    println!("\n== drain: a backlog of {} events ==", args.backlog);
    let wrote = backlog::write(run.store.pool(), args.backlog).await?;
    println!("backlog written in {wrote:.1}s (bulk SQL)");
    let started = Instant::now();
    let relay = start_relay(args, &run).await?;
    let visible = consumer(args, &run).await?;
    let mut emptied = None;
    let target = u64::try_from(args.backlog)?;
    while visible.seen() < target {
        if emptied.is_none() && run.store.outbox_backlog().await?.rows == 0 {
            emptied = Some(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "drain did not finish in 30 minutes ({} seen)",
            visible.seen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_visible = started.elapsed();
    let emptied = emptied.unwrap_or(all_visible);
    relay.stop().await?;
    println!(
        "{:<52} {:>10.0} events/s   ({:.1}s from relay start, incl. startup)",
        "outbox emptied",
        args.backlog as f64 / emptied.as_secs_f64(),
        emptied.as_secs_f64()
    );
    println!(
        "{:<52} {:>10.0} events/s   ({:.1}s; {} seen)",
        "all visible to a read_committed consumer",
        args.backlog as f64 / all_visible.as_secs_f64(),
        all_visible.as_secs_f64(),
        visible.seen()
    );
    Ok(())
}

async fn latency(args: &Args) -> anyhow::Result<()> {
    let run = fresh_run(args, "latency").await?;
    println!("\n== commit to visible at a steady 1,000 appends/s (one event each) ==");
    let relay = start_relay(args, &run).await?;
    let visible = consumer(args, &run).await?;
    // Measure the steady state, not the relay's start: one event through first.
    run.store
        .append(AppendRequest::new(
            "order-latency-warmup",
            "order",
            ExpectedVersion::Any,
            vec![bench_event(0)],
        ))
        .await?;
    while visible.seen() < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let total = args.latency_seconds * 1000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    // Open loop: append n is due at n ms, whatever the earlier ones did.
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..total {
        ticker.tick().await;
        let store = run.store.clone();
        let shared = visible.shared.clone();
        tasks.push(tokio::spawn(async move {
            let event = bench_event(n as usize);
            let id = event.event_id.to_string();
            let stream = format!("order-latency-{}", n % 500);
            store
                .append(AppendRequest::new(
                    stream,
                    "order",
                    ExpectedVersion::Any,
                    vec![event],
                ))
                .await?;
            if let Ok(mut m) = shared.committed.lock() {
                m.insert(id, Instant::now());
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let offered = started.elapsed();
    while visible.seen() < total + 1 {
        anyhow::ensure!(
            started.elapsed() < offered + Duration::from_secs(60),
            "events missing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.stop().await?;
    let latencies = visible
        .shared
        .latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    let mut sample = Sample {
        items: latencies.len() as u64,
        latencies,
        wall: offered,
    };
    println!(
        "{}",
        sample.line(
            &format!("{total} appends in {:.1}s, visible", offered.as_secs_f64()),
            "events"
        )
    );
    let max = sample.quantile(1.0);
    println!("max {:.1} ms", max.as_secs_f64() * 1e3);
    Ok(())
}

async fn append_cost(args: &Args) -> anyhow::Result<()> {
    let run = fresh_run(args, "appends").await?;
    println!("\n== appends with the relay stopped vs running (8 writers, 1 event each) ==");
    let mut stopped = Vec::new();
    let mut running = Vec::new();
    // Alternating, so that the table's growth and the server's warm-up hit both alike.
    for round in 0..3 {
        let mut s = appends::distinct_streams(&run.store, 8, args.appends, 1).await?;
        println!(
            "{}",
            s.line(&format!("relay stopped, round {round}"), "events")
        );
        stopped.push(s.per_second());
        let relay = start_relay(args, &run).await?;
        let mut r = appends::distinct_streams(&run.store, 8, args.appends, 1).await?;
        println!(
            "{}",
            r.line(&format!("relay running, round {round}"), "events")
        );
        running.push(r.per_second());
        relay.stop().await?;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "{:<52} {:>10.2}x   (running / stopped, mean of 3 rounds)",
        "append throughput ratio",
        mean(&running) / mean(&stopped)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // RUST_LOG=keel_services::relay=debug shows each batch's timings.
    keel_services::telemetry::init();
    println!(
        "keel relay benchmark: {} cores, Kafka {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.kafka_brokers
    );
    let runs = |part: &str| args.only.is_empty() || args.only.iter().any(|p| p == part);
    if runs("drain") {
        drain(&args).await?;
    }
    if runs("latency") {
        latency(&args).await?;
    }
    if runs("appends") {
        append_cost(&args).await?;
    }
    Ok(())
}
