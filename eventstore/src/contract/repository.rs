use std::sync::Arc;

use crate::{
    CommandContext, CommandOutcome, EventStore, IdempotencyKey, Repository, RepositoryError,
    Snapshot, SnapshotPolicy,
};

use super::tally::{Add, Tally};
use super::unique_stream;

fn executed(outcome: CommandOutcome<Tally>) -> (Tally, u64) {
    match outcome {
        CommandOutcome::Executed { state, version, .. } => (state, version),
        other => panic!("expected an executed command, got {other:?}"),
    }
}

pub async fn repository_executes_and_reloads<S: EventStore>(store: Arc<S>) {
    let repo = Repository::<Tally, S>::new(store, SnapshotPolicy::DISABLED);
    let stream = unique_stream();
    let ctx = CommandContext::default();
    for n in 1..=3 {
        let (state, version) = executed(repo.execute(&stream, &Add(n), &ctx).await.expect("add"));
        assert_eq!(version, n as u64);
        assert_eq!(state.count, n as u64);
    }
    let err = repo
        .execute(&stream, &Add(0), &ctx)
        .await
        .expect_err("refused");
    assert!(matches!(err, RepositoryError::Rejected(_)));
    let loaded = repo.load(&stream).await.expect("load");
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.state, Tally { total: 6, count: 3 });

    let keyed = CommandContext {
        idempotency: Some(IdempotencyKey {
            key: format!("k-{stream}"),
            request_hash: "h".into(),
        }),
        ..CommandContext::default()
    };
    executed(
        repo.execute(&stream, &Add(10), &keyed)
            .await
            .expect("keyed"),
    );
    let replay = repo
        .execute(&stream, &Add(10), &keyed)
        .await
        .expect("replay");
    assert_eq!(
        replay,
        CommandOutcome::Replayed {
            stream_id: stream.clone(),
            version: 4
        }
    );
    assert_eq!(repo.load(&stream).await.expect("load").version, 4);
}

pub async fn repository_uses_snapshots_and_ignores_stale_ones<S: EventStore>(store: Arc<S>) {
    let repo = Repository::<Tally, S>::new(Arc::clone(&store), SnapshotPolicy::every(5));
    let stream = unique_stream();
    let ctx = CommandContext::default();
    for n in 1..=12 {
        repo.execute(&stream, &Add(n), &ctx).await.expect("add");
    }
    let snapshot = store
        .load_snapshot(&stream, 1)
        .await
        .expect("load")
        .expect("taken");
    assert_eq!(snapshot.stream_version, 10);
    let expected = Tally {
        total: 78,
        count: 12,
    };
    assert_eq!(repo.load(&stream).await.expect("load").state, expected);

    // A snapshot that lies about the state is used when its version matches...
    let forged = Snapshot {
        state: serde_json::json!({ "total": 1000, "count": 10 }),
        ..snapshot.clone()
    };
    store
        .save_snapshot(Snapshot {
            stream_version: 11,
            ..forged.clone()
        })
        .await
        .expect("save");
    assert_eq!(repo.load(&stream).await.expect("load").state.total, 1012);
    // ...and ignored when its snapshot version is another one (replayed from the matching
    // snapshot, or from the first event when there is none).
    store
        .save_snapshot(Snapshot {
            snapshot_version: 99,
            stream_version: 12,
            ..forged.clone()
        })
        .await
        .expect("save");
    assert_eq!(repo.load(&stream).await.expect("load").state.total, 1012);
    let other_shape = Snapshot {
        stream_id: unique_stream(),
        snapshot_version: 99,
        ..forged
    };
    for n in 1..=3 {
        repo.execute(&other_shape.stream_id, &Add(n), &ctx)
            .await
            .expect("add");
    }
    store
        .save_snapshot(Snapshot {
            stream_version: 3,
            ..other_shape.clone()
        })
        .await
        .expect("save");
    let replayed = repo.load(&other_shape.stream_id).await.expect("load");
    assert_eq!(replayed.state, Tally { total: 6, count: 3 });
    let unsnapshotted = Repository::<Tally, S>::new(Arc::clone(&store), SnapshotPolicy::DISABLED);
    assert_eq!(
        unsnapshotted.load(&stream).await.expect("load").state,
        expected
    );
    // A snapshot at the last version leaves no tail to read.
    store
        .save_snapshot(Snapshot {
            stream_version: 12,
            state: serde_json::json!({ "total": 5, "count": 12 }),
            ..snapshot
        })
        .await
        .expect("save");
    let loaded = repo.load(&stream).await.expect("load");
    assert_eq!((loaded.version, loaded.state.total), (12, 5));
}

pub async fn repository_time_travel_and_conflicts<S: EventStore>(store: Arc<S>) {
    let repo = Repository::<Tally, S>::new(store, SnapshotPolicy::every(2));
    let stream = unique_stream();
    for n in 1..=4 {
        repo.execute(&stream, &Add(n), &CommandContext::default())
            .await
            .expect("add");
    }
    let at2 = repo.load_at(&stream, 2).await.expect("at 2");
    assert_eq!((at2.version, at2.state.total), (2, 3));

    let stale = CommandContext {
        expected_version: Some(3),
        ..CommandContext::default()
    };
    match repo.execute(&stream, &Add(1), &stale).await {
        Err(RepositoryError::Conflict { expected, actual }) => {
            assert_eq!((expected, actual), (3, 4))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let current = CommandContext {
        expected_version: Some(4),
        ..CommandContext::default()
    };
    let (_, version) = executed(repo.execute(&stream, &Add(1), &current).await.expect("add"));
    assert_eq!(version, 5);
}
