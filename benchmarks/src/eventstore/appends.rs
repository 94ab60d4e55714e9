use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore, StoreError};

use super::bench_event;
use crate::driver;
use crate::stats::Sample;

/// `writers` writers, each on streams of its own, appending `batch` events per append.
pub async fn distinct_streams(
    store: &PgEventStore,
    writers: usize,
    appends: usize,
    batch: usize,
) -> anyhow::Result<Sample> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let store = store.clone();
    driver::run(writers, appends / writers, move |w, i| {
        let store = store.clone();
        let stream = format!("bench-{run}-{w}");
        async move {
            let events = (0..batch).map(|k| bench_event(i * batch + k)).collect();
            let expected = ExpectedVersion::Exact((i * batch) as u64);
            store
                .append(AppendRequest::new(stream, "bench", expected, events))
                .await?;
            Ok(batch as u64)
        }
    })
    .await
}

/// `writers` writers appending single events to the same `streams` streams, each with
/// the version it last saw; a conflict re-reads the version and retries.
pub async fn contended(
    store: &PgEventStore,
    writers: usize,
    streams: usize,
    appends: usize,
) -> anyhow::Result<(Sample, u64)> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let conflicts = Arc::new(AtomicU64::new(0));
    let store = store.clone();
    let counter = Arc::clone(&conflicts);
    let sample = driver::run(writers, appends / writers, move |w, i| {
        let store = store.clone();
        let conflicts = Arc::clone(&counter);
        let stream = format!("bench-{run}-{}", (w + i) % streams);
        async move {
            let mut expected = store.stream_version(&stream).await?;
            loop {
                let request = AppendRequest::new(
                    &stream,
                    "bench",
                    ExpectedVersion::Exact(expected),
                    vec![bench_event(i)],
                );
                match store.append(request).await {
                    Ok(_) => return Ok(1),
                    Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                        conflicts.fetch_add(1, Ordering::Relaxed);
                        expected = actual;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    })
    .await?;
    Ok((sample, conflicts.load(Ordering::Relaxed)))
}
