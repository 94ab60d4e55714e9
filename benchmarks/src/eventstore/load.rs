use std::sync::Arc;
use std::time::Duration;

use keel_aggregates::Aggregate;
use keel_eventstore::contract::tally::{Added, Tally};
use keel_eventstore::{
    AppendRequest, EventStore, ExpectedVersion, PgEventStore, Repository, Snapshot, SnapshotPolicy,
};
use keel_schemas::{EventMetadata, NewEvent, VersionedEvent};

use crate::driver;

/// Writes a tally stream of `len` events and, when `snapshot_at` is set, a snapshot at
/// that version (the policy's worst case leaves up to `every - 1` events after it).
pub async fn prepare_stream(
    store: &PgEventStore,
    len: u64,
    snapshot_at: Option<u64>,
) -> anyhow::Result<String> {
    let stream = format!("tally-{}", uuid::Uuid::new_v4());
    let mut state = Tally::default();
    let mut version = 0;
    while version < len {
        let n = (len - version).min(500);
        let events: Vec<NewEvent> = (0..n)
            .map(|k| {
                NewEvent::new(
                    Added((version + k) as i64 + 1).encode(),
                    EventMetadata::default(),
                )
            })
            .collect();
        store
            .append(AppendRequest::new(
                &stream,
                "tally",
                ExpectedVersion::Exact(version),
                events,
            ))
            .await?;
        for k in 0..n {
            let v = version + k + 1;
            state.apply(&Added(v as i64));
            if Some(v) == snapshot_at {
                store
                    .save_snapshot(Snapshot {
                        stream_id: stream.clone(),
                        stream_type: "tally".into(),
                        stream_version: v,
                        snapshot_version: Tally::SNAPSHOT_VERSION,
                        state: serde_json::to_value(&state)?,
                    })
                    .await?;
            }
        }
        version += n;
    }
    Ok(stream)
}

/// Mean time to load `stream` through a repository with `policy`, over `runs` loads.
pub async fn mean_load(
    store: &PgEventStore,
    stream: &str,
    policy: SnapshotPolicy,
    runs: u32,
) -> anyhow::Result<Duration> {
    let repo = Repository::<Tally, PgEventStore>::new(Arc::new(store.clone()), policy);
    // Warm the connection and the plan cache first.
    repo.load(stream).await?;
    driver::mean_time(runs, || async {
        repo.load(stream).await?;
        Ok(())
    })
    .await
}
