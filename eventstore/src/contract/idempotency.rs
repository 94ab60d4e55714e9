use std::sync::Arc;

use crate::{AppendRequest, EventStore, ExpectedVersion, IdempotencyKey, StoreError};

use super::{events, unique_stream};

pub async fn stored_event_id_is_a_successful_no_op<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let batch = events(0..2);
    let first = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::NoStream,
            batch.clone(),
        ))
        .await
        .expect("first append");
    // A retry of the same request, even with an expectation that is now stale.
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Any] {
        let retry = store
            .append(AppendRequest::new(&stream, "test", expected, batch.clone()))
            .await
            .expect("retry succeeds");
        assert!(retry.deduplicated);
        assert_eq!(retry.stream_version, 2);
        assert_eq!(retry.positions, first.positions);
    }
    assert_eq!(
        store
            .read_stream(&stream, 1, None)
            .await
            .expect("read")
            .len(),
        2
    );
    assert_eq!(store.outbox_peek(10).await.expect("outbox").len(), 2);
}

pub async fn idempotency_key_replays_and_refuses_other_requests<S: EventStore>(store: Arc<S>) {
    let key = IdempotencyKey {
        key: format!("key-{}", uuid::Uuid::new_v4()),
        request_hash: "hash-a".into(),
    };
    let stream = unique_stream();
    let first = store
        .append(
            AppendRequest::new(&stream, "test", ExpectedVersion::NoStream, events(0..2))
                .with_idempotency(key.clone()),
        )
        .await
        .expect("first");
    // The same request decided again makes new event ids (and, for a create, a new stream).
    let other_stream = unique_stream();
    let replay = store
        .append(
            AppendRequest::new(
                &other_stream,
                "test",
                ExpectedVersion::NoStream,
                events(0..2),
            )
            .with_idempotency(key.clone()),
        )
        .await
        .expect("replay");
    assert!(replay.deduplicated);
    assert_eq!(replay.stream_id, stream);
    assert_eq!(replay.stream_version, first.stream_version);

    let different = IdempotencyKey {
        request_hash: "hash-b".into(),
        ..key.clone()
    };
    let err = store
        .append(
            AppendRequest::new(&other_stream, "test", ExpectedVersion::Any, events(0..1))
                .with_idempotency(different),
        )
        .await
        .expect_err("a different request under the same key");
    assert!(
        matches!(err, StoreError::IdempotencyKeyReused { .. }),
        "{err:?}"
    );

    assert_eq!(
        store.stream_version(&other_stream).await.expect("version"),
        0
    );
    assert_eq!(store.outbox_peek(10).await.expect("outbox").len(), 2);
    let record = store
        .find_idempotency(&key.key)
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(record.stream_id, stream);
    assert_eq!(record.stream_version, 2);
    assert_eq!(record.request_hash, "hash-a");
}
