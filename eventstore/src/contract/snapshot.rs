use std::sync::Arc;

use serde_json::json;

use crate::{EventStore, Snapshot};

use super::unique_stream;

pub async fn snapshots_keep_the_newest<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let snapshot = |version: u64, snapshot_version: u32| Snapshot {
        stream_id: stream.clone(),
        stream_type: "test".into(),
        stream_version: version,
        snapshot_version,
        state: json!({ "at": version }),
    };
    assert_eq!(store.load_snapshot(&stream).await.expect("load"), None);
    store.save_snapshot(snapshot(5, 1)).await.expect("save 5");
    store.save_snapshot(snapshot(3, 1)).await.expect("save 3");
    assert_eq!(
        store.load_snapshot(&stream).await.expect("load"),
        Some(snapshot(5, 1))
    );
    store.save_snapshot(snapshot(8, 1)).await.expect("save 8");
    assert_eq!(
        store.load_snapshot(&stream).await.expect("load"),
        Some(snapshot(8, 1))
    );
    // A new snapshot shape replaces the old one even at a lower version.
    store.save_snapshot(snapshot(4, 2)).await.expect("save v2");
    assert_eq!(
        store.load_snapshot(&stream).await.expect("load"),
        Some(snapshot(4, 2))
    );
}
