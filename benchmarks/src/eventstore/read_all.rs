use std::time::{Duration, Instant};

use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, GlobalCheckpoint, PgEventStore};

use super::bench_event;
use crate::driver;

/// Fills the store up to `total` events (100 per append, 8 writers), printing progress.
pub async fn preload(store: &PgEventStore, total: usize) -> anyhow::Result<()> {
    const PER_APPEND: usize = 100;
    const WRITERS: usize = 8;
    let appends = total.div_ceil(PER_APPEND);
    let started = Instant::now();
    let store = store.clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    driver::run(WRITERS, appends.div_ceil(WRITERS), move |w, i| {
        let store = store.clone();
        let run = run.clone();
        async move {
            // 1,000-event streams, like long-lived aggregates.
            let stream = format!("preload-{run}-{w}-{}", i / 10);
            let events = (0..PER_APPEND)
                .map(|k| bench_event(i * PER_APPEND + k))
                .collect();
            let expected = ExpectedVersion::Exact(((i % 10) * PER_APPEND) as u64);
            store
                .append(AppendRequest::new(stream, "bench", expected, events))
                .await?;
            if w == 0 && i % 100 == 0 {
                eprintln!("  preloading: ~{} events", i * PER_APPEND * WRITERS);
            }
            Ok(PER_APPEND as u64)
        }
    })
    .await?;
    eprintln!("  preloaded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Reads the whole global log in batches of `batch`; returns (events, time).
pub async fn read_everything(
    store: &PgEventStore,
    batch: usize,
) -> anyhow::Result<(u64, Duration)> {
    let started = Instant::now();
    let mut checkpoint = GlobalCheckpoint::START;
    let mut count = 0u64;
    loop {
        let next = store.read_all(checkpoint, batch).await?;
        if next.events.is_empty() {
            break;
        }
        count += next.events.len() as u64;
        checkpoint = next.checkpoint;
    }
    Ok((count, started.elapsed()))
}
