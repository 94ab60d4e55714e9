//! The rebuild part: the corpus, `keel projections rebuild search` as a child, and the raw
//! `_bulk` loads of the same documents.

use std::path::Path;

use keel_benchmarks::database;
use keel_benchmarks::projection::es::Es;
use keel_benchmarks::projection::procs::rss_at;
use keel_benchmarks::projection::{corpus, mib, rebuild, thousands};
use keel_eventstore::PgEventStore;
use serde_json::json;

use super::{database_url, line, settle, suffix, Args, REBUILD_DATABASE};

pub(super) async fn rebuild_part(
    args: &Args,
    keel: &Path,
    es: &Es,
    logs: &Path,
) -> anyhow::Result<()> {
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
