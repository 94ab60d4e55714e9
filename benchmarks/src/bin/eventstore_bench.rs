//! Event store benchmark: append throughput and latency, contention, read-all throughput,
//! aggregate load time with and without snapshots, and the same single-event append
//! workload through postgres-es (cqrs-es) for a ratio. Run it against the stack's
//! PostgreSQL; see BENCHMARKS.md for the command and recorded figures.

use clap::Parser;
use keel_benchmarks::database;
use keel_benchmarks::eventstore::{appends, load, read_all, theirs};
use keel_eventstore::{PgEventStore, SnapshotPolicy};

#[derive(Parser)]
#[command(about = "Measures the PostgreSQL event store; prints figures")]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable"
    )]
    database_url: String,
    /// Appends per single-event workload (split across its writers).
    #[arg(long, default_value_t = 8000)]
    appends: usize,
    /// Events in the store for the read-all measurement.
    #[arg(long, default_value_t = 1_000_000)]
    read_all_events: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = database::fresh(&args.database_url, "keel_bench_eventstore", 40).await?;
    let ours = PgEventStore::new(pool);
    ours.migrate().await?;
    let their_pool = database::fresh(&args.database_url, "keel_bench_postgres_es", 40).await?;
    theirs::prepare(&their_pool).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(ours.pool())
        .await?;
    println!(
        "keel event store benchmark: PostgreSQL {version}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    println!("\n== appends, one event per append, each writer on its own streams ==");
    let mut ratios = Vec::new();
    let direct = ours.clone().without_group_commit();
    for writers in [1, 8, 32] {
        let mut grouped = appends::distinct_streams(&ours, writers, args.appends, 1).await?;
        let mut single = appends::distinct_streams(&direct, writers, args.appends, 1).await?;
        let mut their_sample = theirs::distinct_streams(&their_pool, writers, args.appends).await?;
        println!(
            "{}",
            grouped.line(&format!("keel (group commit), {writers} writers"), "events")
        );
        println!(
            "{}",
            single.line(
                &format!("keel (statement per append), {writers} writers"),
                "events"
            )
        );
        println!(
            "{}",
            their_sample.line(&format!("postgres-es, {writers} writers"), "events")
        );
        let ratio = grouped.per_second() / their_sample.per_second();
        println!(
            "{:<52} {ratio:>10.2}x",
            format!("ratio keel/postgres-es, {writers} writers")
        );
        ratios.push(ratio);
    }

    println!("\n== appends, 10 events per append, 8 writers ==");
    let mut batched = appends::distinct_streams(&ours, 8, args.appends, 10).await?;
    println!(
        "{}",
        batched.line("keel, batches of 10, 8 writers", "events")
    );

    println!("\n== contention: 8 writers on the same 10 streams ==");
    let (mut contended, conflicts) = appends::contended(&ours, 8, 10, args.appends).await?;
    println!(
        "{}",
        contended.line("keel, 8 writers, 10 streams", "events")
    );
    println!("{:<52} {conflicts:>10} conflicts (retried)", "");

    println!("\n== read all (global log, batches of 1000) ==");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(ours.pool())
        .await?;
    if (stored as usize) < args.read_all_events {
        read_all::preload(&ours, args.read_all_events - stored as usize).await?;
    }
    let (count, took) = read_all::read_everything(&ours, 1000).await?;
    println!(
        "{:<52} {:>10.0} events/s   ({count} events in {:.2} s)",
        "keel, read all",
        count as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );

    println!("\n== aggregate load time (mean) ==");
    let every = 100;
    let small = load::prepare_stream(&ours, 10, None).await?;
    let big = load::prepare_stream(&ours, 10_000, Some(10_000 - (every - 1))).await?;
    let small_plain = load::mean_load(&ours, &small, SnapshotPolicy::DISABLED, 200).await?;
    let small_snap = load::mean_load(&ours, &small, SnapshotPolicy::every(every), 200).await?;
    let big_plain = load::mean_load(&ours, &big, SnapshotPolicy::DISABLED, 10).await?;
    let big_snap = load::mean_load(&ours, &big, SnapshotPolicy::every(every), 200).await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:<52} {:>10.3} ms",
        "10 events, snapshots off",
        ms(small_plain)
    );
    println!(
        "{:<52} {:>10.3} ms",
        "10 events, snapshots every 100",
        ms(small_snap)
    );
    println!(
        "{:<52} {:>10.3} ms",
        "10,000 events, snapshots off",
        ms(big_plain)
    );
    println!(
        "{:<52} {:>10.3} ms",
        format!("10,000 events, snapshot + {} tail events", every - 1),
        ms(big_snap)
    );

    println!("\n== targets ==");
    let worst_ratio = ratios.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("appends vs postgres-es >= 2x: worst ratio {worst_ratio:.2}x");
    println!(
        "10,000-event load with snapshots within 2x of 10-event load: {:.2}x",
        big_snap.as_secs_f64() / small_snap.as_secs_f64()
    );
    Ok(())
}
