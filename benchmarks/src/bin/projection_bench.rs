//! Projection benchmark (issue 10): a blue/green rebuild of the search model from an event
//! store of N order events (`keel projections rebuild search`, run as a child of the release
//! binary: events/s, documents/s, RSS over the run) against the raw `_bulk` rate of the same
//! documents; and freshness, the time from `POST /orders` answering 201 to the order being
//! readable on the query service, with the order service, relay, search projector and query
//! service each a child process. Run it against the stack; see BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use keel_benchmarks::database;
use keel_benchmarks::projection::child::{self, KeelProcess};
use keel_benchmarks::projection::es::Es;
use keel_benchmarks::projection::freshness::{self, Api, Settings};
use keel_benchmarks::projection::procs::{self, rss_at, Sampler};
use keel_benchmarks::projection::{corpus, delete_kafka, mib, rebuild, thousands};
use keel_benchmarks::stats::Sample;
use keel_eventstore::PgEventStore;
use serde_json::json;
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

async fn rebuild_part(args: &Args, keel: &Path, es: &Es, logs: &Path) -> anyhow::Result<()> {
    let orders = args.events / corpus::EVENTS_PER_ORDER;
    let events = orders * corpus::EVENTS_PER_ORDER;
    println!(
        "\n== rebuild of the search model vs raw _bulk: {} events ({} orders) ==",
        thousands(events),
        thousands(orders)
    );
    let pool = database::fresh(&args.database_url, REBUILD_DATABASE, 4).await?;
    let store = PgEventStore::new(pool);
    store.migrate().await?;
    let written = corpus::write(&store, orders, args.window).await?;
    sqlx::query("VACUUM (ANALYZE) events")
        .execute(store.pool())
        .await?;
    println!(
        "corpus written in {:.1}s (bulk SQL, then VACUUM ANALYZE; 4 events an order: OrderPlaced v3 \
         with 1-3 lines, PaymentAuthorised, OrderConfirmed, OrderShipped; orders progress in \
         windows of {})",
        written.seconds,
        args.window
    );
    let probe = (args.window.max(1000) * corpus::EVENTS_PER_ORDER).min(events) as usize;
    let shipped = corpus::check(&store, probe).await?;
    println!(
        "check: the store's global reader returns the first {probe} events; they decode and \
         fold to {shipped} shipped orders"
    );
    store.pool().close().await;

    let alias = format!("bench-rebuild-{}", suffix());
    let outcome = rebuild_and_bulk(args, keel, es, logs, &alias, orders).await;
    if !args.keep {
        match es.delete_prefixed(&format!("{alias}-")).await {
            Ok(deleted) => println!("deleted indexes {}", deleted.join(", ")),
            Err(e) => println!("deleting the indexes of {alias} failed: {e:#}"),
        }
    }
    outcome
}

async fn rebuild_and_bulk(
    args: &Args,
    keel: &Path,
    es: &Es,
    logs: &Path,
    alias: &str,
    orders: u64,
) -> anyhow::Result<()> {
    let events = orders * corpus::EVENTS_PER_ORDER;
    // The live index a rebuild replaces: empty, as a first start of the projector makes it.
    let mut first = keel_projections::search::index_body(1, 0);
    first["aliases"] = json!({ alias: {} });
    es.create_index(&format!("{alias}-v1"), &first).await?;

    let url = database_url(args, REBUILD_DATABASE)?;
    let mut argv: Vec<String> = [
        "projections",
        "rebuild",
        "search",
        "--alias",
        alias,
        "--elasticsearch-url",
        &args.elasticsearch_url,
        "--order-database-url",
        &url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(args.rebuild_args.iter().cloned());
    println!(
        "{:<52} {}",
        "rebuilding:",
        format!("keel {}", argv.join(" ")).replace(&url, REBUILD_DATABASE)
    );
    settle(args, "before the rebuild").await;
    let rebuilt = rebuild::run(keel, &argv, REBUILD_DATABASE, logs).await?;
    let secs = rebuilt.wall.as_secs_f64();
    let docs_per_s = orders as f64 / secs;
    line(
        "rebuild",
        format!(
            "{:>10.0} events/s {:>10.0} docs/s   ({secs:.1}s from start to exit)",
            events as f64 / secs,
            docs_per_s
        ),
    );
    let at = |f| mib(rss_at(&rebuilt.rss, rebuilt.wall, f));
    line(
        "rebuild RSS",
        format!(
            "peak {}   at 25% {}   50% {}   75% {}   100% {}   ({} samples)",
            mib(rebuilt.peak_kib),
            at(0.25),
            at(0.5),
            at(0.75),
            at(1.0),
            rebuilt.rss.len()
        ),
    );
    line("rebuild CPU (mean, % of one core)", rebuilt.cpu.line());
    line(
        "  elasticsearch CPU per 1,000 documents",
        format!("{:.0} ms", rebuilt.cpu.elasticsearch_ms_per_1000(orders)),
    );
    if let (Some(loaded), Some(switched)) = (rebuilt.loaded_at, rebuilt.switched_at) {
        line(
            "rebuild phases (from its progress lines)",
            format!(
                "start and load {:.1}s at most ({:.0} events/s at least), then {:.1}s to the \
                 alias switch (settings back, catch-up, refresh), then {:.1}s to exit \
                 (catch-up, 1 s drain, old index deleted)",
                loaded.as_secs_f64(),
                events as f64 / loaded.as_secs_f64(),
                (switched - loaded).as_secs_f64(),
                (rebuilt.wall.saturating_sub(switched)).as_secs_f64()
            ),
        );
    }
    if !rebuilt.said.trim().is_empty() {
        println!("the rebuild's summary:");
        for said in rebuilt.said.lines() {
            println!("  {said}");
        }
    }
    let indexes = es.alias_indexes(alias).await?;
    let index = match indexes.as_slice() {
        [one] => one.clone(),
        other => anyhow::bail!("alias {alias} points at {other:?} after the rebuild"),
    };
    let settings = es.settings(&index).await?;
    let docs = es.read_all(&index, 5_000).await?;
    let at_four = docs.iter().filter(|d| d.version == 4).count();
    println!(
        "{index} (behind {alias}): {} documents, {} at version 4; settings after: refresh {}, replicas {}",
        thousands(docs.len() as u64),
        thousands(at_four as u64),
        settings["index.refresh_interval"].as_str().unwrap_or("default (1s)"),
        settings["index.number_of_replicas"].as_str().unwrap_or("?"),
    );
    anyhow::ensure!(
        docs.len() as u64 == orders && at_four == docs.len(),
        "the rebuilt index should hold {orders} documents at version 4"
    );

    let mut best: Option<(String, f64)> = None;
    for &in_flight in &args.bulk_in_flight {
        for &batch in &args.bulk_sizes {
            let raw_index = format!("{alias}-raw-{batch}-{in_flight}");
            settle(args, "before the raw load").await;
            let raw = rebuild::raw_bulk(es, &raw_index, &docs, batch, in_flight, REBUILD_DATABASE)
                .await?;
            let rate = raw.docs as f64 / raw.load.as_secs_f64();
            let name = format!("{batch} docs a request, {in_flight} in flight");
            line(
                &format!("raw _bulk, {name}"),
                format!(
                    "{rate:>10.0} docs/s   ({:.1}s; {} requests of {:.1} MB; refresh on + refresh {:.1}s)",
                    raw.load.as_secs_f64(),
                    raw.requests,
                    raw.bytes as f64 / 1e6 / raw.requests.max(1) as f64,
                    raw.finish.as_secs_f64()
                ),
            );
            line("  CPU (mean, % of one core)", raw.cpu.line());
            line(
                "  elasticsearch CPU per 1,000 documents",
                format!(
                    "{:.0} ms",
                    raw.cpu.elasticsearch_ms_per_1000(raw.docs as u64)
                ),
            );
            if !args.keep {
                es.delete_prefixed(&raw_index).await?;
            }
            if best.as_ref().is_none_or(|(_, r)| rate > *r) {
                best = Some((name, rate));
            }
        }
    }
    if let Some((name, raw_rate)) = best {
        let ratio = docs_per_s / raw_rate;
        line(
            &format!("ratio rebuild / best raw _bulk ({name})"),
            format!(
                "{ratio:>10.2}x   (goal >= 0.7: {})",
                if ratio >= 0.7 { "met" } else { "NOT met" }
            ),
        );
    }
    Ok(())
}

struct Services {
    order: KeelProcess,
    relay: KeelProcess,
    projector: KeelProcess,
    query: KeelProcess,
}

impl Services {
    async fn stop(self) {
        // Producers first, so nothing is left half-relayed; then the readers.
        for p in [self.order, self.relay, self.projector, self.query] {
            let name = p.name.clone();
            if let Err(e) = p.stop(Duration::from_secs(10)).await {
                println!("stopping {name}: {e:#}");
            }
        }
    }
}

struct Names {
    alias: String,
    topic: String,
    progress: String,
    transactional: String,
    group: String,
    dead_letters: String,
}

async fn start_services(
    args: &Args,
    keel: &Path,
    names: &Names,
    logs: &Path,
) -> anyhow::Result<(Services, String, String)> {
    let url = database_url(args, FRESHNESS_DATABASE)?;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let dev = [("KEEL_DEV", "1")];
    // The projector first: it creates the alias and its first index.
    let mut projector = KeelProcess::spawn(
        keel,
        "projector",
        &s(&[
            "projector",
            "search",
            "--port",
            "0",
            "--alias",
            &names.alias,
            "--topic",
            &names.topic,
            "--group-id",
            &names.group,
            "--dead-letter-topic",
            &names.dead_letters,
            "--order-database-url",
            &url,
            "--elasticsearch-url",
            &args.elasticsearch_url,
            "--kafka-brokers",
            &args.kafka_brokers,
        ]),
        &[],
        logs,
    )?;
    let mut order = KeelProcess::spawn(
        keel,
        "order-service",
        &s(&["order-service", "--port", "0", "--order-database-url", &url]),
        &dev,
        logs,
    )?;
    let mut relay = KeelProcess::spawn(
        keel,
        "relay",
        &s(&[
            "relay",
            "--service",
            "orders",
            "--order-database-url",
            &url,
            "--orders-topic",
            &names.topic,
            "--progress-topic",
            &names.progress,
            "--transactional-id-prefix",
            &names.transactional,
            "--relay-port",
            "0",
            "--kafka-brokers",
            &args.kafka_brokers,
        ]),
        &[],
        logs,
    )?;
    let wait = Duration::from_secs(60);
    projector.listening(wait).await?;
    let mut query = KeelProcess::spawn(
        keel,
        "query-service",
        &s(&[
            "query-service",
            "--port",
            "0",
            "--alias",
            &names.alias,
            "--elasticsearch-url",
            &args.elasticsearch_url,
        ]),
        &dev,
        logs,
    )?;
    let order_url = order.listening(wait).await?;
    relay.listening(wait).await?;
    let query_url = query.listening(wait).await?;
    Ok((
        Services {
            order,
            relay,
            projector,
            query,
        },
        order_url,
        query_url,
    ))
}

fn latency_line(name: &str, sample: &mut Sample, missing: usize, give_up: u64) {
    line(
        name,
        format!(
            "p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms   never within {give_up} s: {missing}",
            ms(sample.quantile(0.5)),
            ms(sample.quantile(0.99)),
            ms(sample.quantile(1.0)),
        ),
    );
}

async fn freshness_part(args: &Args, keel: &Path, es: &Es, logs: &Path) -> anyhow::Result<()> {
    println!(
        "\n== freshness at a steady {} orders/s for {} s: 201 to readable on the query service ==",
        args.rate, args.seconds
    );
    let pool = database::fresh(&args.database_url, FRESHNESS_DATABASE, 2).await?;
    let store = PgEventStore::new(pool);
    store.migrate().await?;
    store.pool().close().await;
    let suffix = suffix();
    let names = Names {
        alias: format!("bench-fresh-{suffix}"),
        topic: format!("bench.fresh.orders.{suffix}"),
        progress: format!("bench.fresh.progress.{suffix}"),
        transactional: format!("bench-fresh-{suffix}"),
        group: format!("bench-fresh-{suffix}"),
        dead_letters: format!("bench.fresh.dead-letters.{suffix}"),
    };
    let token = child::output(keel, &["token", "--dev"]).await?;
    let token = token.trim().to_owned();
    let outcome = match start_services(args, keel, &names, logs).await {
        Ok((services, order_url, query_url)) => {
            let pids: Vec<u32> = [
                &services.order,
                &services.relay,
                &services.projector,
                &services.query,
            ]
            .iter()
            .filter_map(|p| p.pid())
            .collect();
            let measured = measure(args, order_url, query_url, token, pids).await;
            services.stop().await;
            measured
        }
        Err(e) => Err(e),
    };
    if !args.keep {
        match es.delete_prefixed(&format!("{}-", names.alias)).await {
            Ok(deleted) => println!("deleted indexes {}", deleted.join(", ")),
            Err(e) => println!("deleting the indexes of {} failed: {e:#}", names.alias),
        }
        let failed = delete_kafka(
            &args.kafka_brokers,
            &[&names.topic, &names.progress, &names.dead_letters],
            Some(&names.group),
        )
        .await;
        if failed.is_empty() {
            println!(
                "deleted topics {}, {}, {} and group {}",
                names.topic, names.progress, names.dead_letters, names.group
            );
        } else {
            println!("Kafka cleanup: {}", failed.join("; "));
        }
    }
    outcome
}

async fn measure(
    args: &Args,
    order_url: String,
    query_url: String,
    token: String,
    pids: Vec<u32>,
) -> anyhow::Result<()> {
    println!(
        "processes: keel order-service, relay --service orders, projector search, query-service \
         (children of the release binary; fresh database, topics, group and alias)"
    );
    let api = Api::new(order_url, query_url, token)?;
    let settings = Settings {
        rate: args.rate,
        duration: Duration::from_secs_f64(args.seconds),
        give_up: Duration::from_secs(args.give_up_seconds),
        customers: args.customers,
        interval: Duration::from_millis(args.poll_interval_ms),
        by_id_every: args.by_id_every,
        by_id_in_flight: args.by_id_in_flight,
    };
    // Warm-up: the relay's first transaction, the consumer group's join, connections.
    let warm = freshness::run(
        &api,
        &Settings {
            rate: 1.0,
            duration: Duration::from_secs(1),
            give_up: Duration::from_secs(120),
            customers: 1,
            by_id_every: 0,
            ..settings.clone()
        },
    )
    .await?;
    let Some(&(_, seen)) = warm.timeline.first() else {
        anyhow::bail!(
            "the warm-up order was not found by search ({:?}; poll errors: {:?})",
            warm.first_unexpected,
            warm.first_poll_error
        );
    };
    println!(
        "warm-up order: found by search {:.0} ms after its 201",
        ms(seen)
    );
    println!(
        "search: {} customers, one poller each, every {} ms: ?customer_id=<c>&placed_from=<its \
         oldest pending - 0.5 s>&sort=placed_at&per_page=100 (pages while full)",
        settings.customers, args.poll_interval_ms
    );
    settle(args, "before the steady run").await;
    let sampler = Sampler::start(pids, FRESHNESS_DATABASE, Duration::from_secs(1));
    let mut run = freshness::run(&api, &settings).await?;
    let (_, _, cpu) = sampler.finish().await;
    let placed = run.placed.latencies.len();
    line(
        &format!("{placed} of {} orders placed (201)", run.offered),
        format!(
            "{:>10.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   unexpected {}",
            placed as f64 / run.wall.as_secs_f64(),
            ms(run.placed.quantile(0.5)),
            ms(run.placed.quantile(0.99)),
            run.unexpected
        ),
    );
    if let Some(first) = &run.first_unexpected {
        println!("{:<52} first unexpected: {first}", "");
    }
    latency_line(
        "201 -> found by search (?customer_id=, refreshed)",
        &mut run.by_search,
        run.missing_by_search,
        args.give_up_seconds,
    );
    line(
        "  resolution (answer - previous poll's send)",
        format!(
            "p50 {:>8.1} ms   p99 {:>8.1} ms",
            ms(run.search_resolution.quantile(0.5)),
            ms(run.search_resolution.quantile(0.99)),
        ),
    );
    // The run in six parts by send time: does freshness drift?
    let bucket = settings.duration / 6;
    for part in 0..6 {
        let from = bucket * part;
        let mut sample = Sample {
            latencies: run
                .timeline
                .iter()
                .filter(|(at, _)| *at >= from && (*at < from + bucket || part == 5))
                .map(|(_, d)| *d)
                .collect(),
            ..Sample::default()
        };
        line(
            &format!(
                "  sent {:>4.1}-{:>4.1} s ({} orders)",
                from.as_secs_f64(),
                (from + bucket).as_secs_f64(),
                sample.latencies.len()
            ),
            format!(
                "p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms",
                ms(sample.quantile(0.5)),
                ms(sample.quantile(0.99)),
                ms(sample.quantile(1.0)),
            ),
        );
    }
    if args.by_id_every > 0 {
        latency_line(
            &format!(
                "201 -> by id (GET /orders/{{id}}), 1 in {} orders",
                args.by_id_every
            ),
            &mut run.by_id,
            run.missing_by_id,
            args.give_up_seconds,
        );
    }
    let wall = cpu.wall.as_secs_f64();
    line(
        "polls",
        format!(
            "{} searches ({:.0}/s), {} gets ({:.0}/s), {} errors",
            thousands(run.searches),
            run.searches as f64 / wall,
            thousands(run.gets),
            run.gets as f64 / wall,
            run.poll_errors
        ),
    );
    if let Some(e) = &run.first_poll_error {
        println!("{:<52} first poll error: {e}", "");
    }
    line("CPU (mean, % of one core)", cpu.line());
    let p99 = run.by_search.quantile(0.99);
    let met = p99 < Duration::from_secs(2)
        && run.missing_by_search == 0
        && run.missing_by_id == 0
        && run.unexpected == 0;
    line(
        "freshness target (search p99 < 2 s, none missing)",
        format!(
            "{} (p99 {:.0} ms, {} missing, {} unexpected)",
            if met { "met" } else { "NOT met" },
            ms(p99),
            run.missing_by_search + run.missing_by_id,
            run.unexpected
        ),
    );
    Ok(())
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
        rebuild_part(&args, &keel, &es, &logs).await?;
    }
    if runs("freshness") {
        freshness_part(&args, &keel, &es, &logs).await?;
    }
    println!(
        "\ntotal {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}
