use std::sync::Arc;

use serde_json::json;

use crate::{EventStore, Snapshot};

use super::unique_stream;

/// A snapshot of `stream` at `version`, taken with `snapshot_version`.
fn snapshot(stream: &str, version: u64, snapshot_version: u32) -> Snapshot {
    Snapshot {
        stream_id: stream.to_owned(),
        stream_type: "test".into(),
        stream_version: version,
        snapshot_version,
        state: json!({ "at": version, "shape": snapshot_version }),
    }
}

pub async fn snapshots_keep_the_newest<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let snapshot =
        |version: u64, snapshot_version: u32| snapshot(&stream, version, snapshot_version);
    let load = |snapshot_version: u32| {
        let (store, stream) = (Arc::clone(&store), stream.clone());
        async move {
            store
                .load_snapshot(&stream, snapshot_version)
                .await
                .expect("load")
        }
    };
    assert_eq!(load(1).await, None);
    store.save_snapshot(snapshot(5, 1)).await.expect("save 5");
    store.save_snapshot(snapshot(3, 1)).await.expect("save 3");
    assert_eq!(load(1).await, Some(snapshot(5, 1)));
    store.save_snapshot(snapshot(8, 1)).await.expect("save 8");
    assert_eq!(load(1).await, Some(snapshot(8, 1)));
}

/// During a rolling deploy, binaries with two snapshot shapes run side by side: each keeps
/// its own snapshot instead of replacing the other's (and replaying whole streams).
pub async fn snapshots_of_other_shapes_live_side_by_side<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let snapshot =
        |version: u64, snapshot_version: u32| snapshot(&stream, version, snapshot_version);
    for round in 0..3u64 {
        store
            .save_snapshot(snapshot(10 + round * 10, 1))
            .await
            .expect("old binary");
        store
            .save_snapshot(snapshot(5 + round * 10, 2))
            .await
            .expect("new binary");
    }
    let old = store.load_snapshot(&stream, 1).await.expect("load");
    let new = store.load_snapshot(&stream, 2).await.expect("load");
    assert_eq!(old, Some(snapshot(30, 1)));
    assert_eq!(new, Some(snapshot(25, 2)));
    assert_eq!(store.load_snapshot(&stream, 3).await.expect("load"), None);
}
