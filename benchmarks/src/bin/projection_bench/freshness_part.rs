//! The freshness part: the services as children, a steady load of orders, and the time
//! from each 201 to the order being found.

use std::path::Path;
use std::time::Duration;

use keel_benchmarks::database;
use keel_benchmarks::projection::child::{self, KeelProcess};
use keel_benchmarks::projection::es::Es;
use keel_benchmarks::projection::freshness::{self, Api, Settings};
use keel_benchmarks::projection::procs::Sampler;
use keel_benchmarks::projection::{delete_kafka, thousands};
use keel_benchmarks::stats::Sample;
use keel_eventstore::PgEventStore;

use super::{database_url, line, ms, settle, suffix, Args, FRESHNESS_DATABASE};

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

pub(super) async fn freshness_part(
    args: &Args,
    keel: &Path,
    es: &Es,
    logs: &Path,
) -> anyhow::Result<()> {
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
