use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::{AppendRequest, EventStore, ExpectedVersion, GlobalCheckpoint};

use super::{events, unique_stream};

pub async fn read_stream_honours_the_range<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::NoStream,
            events(0..5),
        ))
        .await
        .expect("append");
    let versions = |events: Vec<keel_schemas::EventEnvelope>| {
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>()
    };
    assert_eq!(
        versions(store.read_stream(&stream, 3, None).await.expect("read")),
        vec![3, 4, 5]
    );
    assert_eq!(
        versions(store.read_stream(&stream, 2, Some(3)).await.expect("read")),
        vec![2, 3]
    );
    assert!(store
        .read_stream(&stream, 6, None)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .read_stream(&unique_stream(), 1, None)
        .await
        .expect("read")
        .is_empty());
}

pub async fn read_all_returns_every_event_once_in_batches<S: EventStore>(store: Arc<S>) {
    let streams: Vec<String> = (0..4).map(|_| unique_stream()).collect();
    let mut written = HashSet::new();
    for round in 0..5u64 {
        for stream in &streams {
            let batch = events(round * 2..round * 2 + 2);
            written.extend(batch.iter().map(|e| e.event_id));
            store
                .append(AppendRequest::new(
                    stream,
                    "test",
                    ExpectedVersion::Any,
                    batch,
                ))
                .await
                .expect("append");
        }
    }
    let mut checkpoint = GlobalCheckpoint::START;
    let mut seen = HashSet::new();
    let mut last_version: HashMap<String, u64> = HashMap::new();
    // An empty batch does not mean "caught up": a transaction running elsewhere on the
    // server (any database) holds the horizon back for a moment. Wait with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.len() < written.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "read {} of {}",
            seen.len(),
            written.len()
        );
        let batch = store.read_all(checkpoint, 7).await.expect("read all");
        if batch.events.is_empty() {
            assert_eq!(
                batch.checkpoint, checkpoint,
                "an empty batch keeps the checkpoint"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        }
        assert!(batch.events.len() <= 7);
        assert!(batch.checkpoint > checkpoint);
        let mut previous = checkpoint;
        for global in &batch.events {
            assert!(global.cursor > previous, "cursors must grow within a batch");
            previous = global.cursor;
        }
        assert_eq!(
            previous, batch.checkpoint,
            "the batch ends at its last cursor"
        );
        // Resuming from any event's cursor yields exactly the events after it.
        if batch.events.len() > 1 {
            let middle = batch.events[0].cursor;
            let rest = store.read_all(middle, 7).await.expect("read all");
            assert_eq!(rest.events.first(), batch.events.get(1));
        }
        for event in batch.events.into_iter().map(|g| g.event) {
            assert!(
                seen.insert(event.event_id),
                "event {} read twice",
                event.event_id
            );
            let last = last_version.entry(event.stream_id.clone()).or_default();
            assert_eq!(event.stream_version, *last + 1, "stream order broken");
            *last = event.stream_version;
        }
        checkpoint = batch.checkpoint;
    }
    assert_eq!(seen, written);
    let after = store.read_all(checkpoint, 7).await.expect("read all");
    assert!(
        after.events.is_empty(),
        "events after the last one: {:?}",
        after.events
    );
}
