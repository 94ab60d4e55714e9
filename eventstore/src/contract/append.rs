use std::sync::Arc;

use crate::{AppendRequest, EventStore, ExpectedVersion, InvalidInput, StoreError};

use super::{event, events, unique_stream};

pub async fn append_to_new_stream_numbers_versions_from_one<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let batch = events(0..3);
    let committed = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::NoStream,
            batch.clone(),
        ))
        .await
        .expect("append to a new stream");
    assert_eq!(committed.stream_version, 3);
    assert!(!committed.deduplicated);
    assert_eq!(committed.positions.len(), 3);
    assert!(committed.positions.windows(2).all(|w| w[0] < w[1]));

    let read = store.read_stream(&stream, 1, None).await.expect("read");
    assert_eq!(read.len(), 3);
    for (i, (stored, sent)) in read.iter().zip(&batch).enumerate() {
        assert_eq!(stored.stream_version, i as u64 + 1);
        assert_eq!(stored.event_id, sent.event_id);
        assert_eq!(stored.payload, sent.payload);
        assert_eq!(stored.metadata, sent.metadata);
        assert_eq!(stored.stream_type, "test");
        assert_eq!(stored.global_position, committed.positions[i]);
    }
    assert_eq!(store.stream_version(&stream).await.expect("version"), 3);
    assert_eq!(
        store
            .stream_version(&unique_stream())
            .await
            .expect("version"),
        0
    );
}

pub async fn wrong_expected_version_appends_nothing<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::NoStream,
            events(0..2),
        ))
        .await
        .expect("first append");
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(3),
    ] {
        let err = store
            .append(AppendRequest::new(
                &stream,
                "test",
                expected,
                events(10..12),
            ))
            .await
            .expect_err("stale expectation must fail");
        match err {
            StoreError::WrongExpectedVersion { actual, .. } => assert_eq!(actual, 2),
            other => panic!("expected a version conflict, got {other:?}"),
        }
    }
    assert_eq!(
        store
            .read_stream(&stream, 1, None)
            .await
            .expect("read")
            .len(),
        2
    );
    assert_eq!(store.outbox_peek(100).await.expect("outbox").len(), 2);
}

pub async fn exact_and_any_versions_append<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let first = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::Exact(0),
            events(0..1),
        ))
        .await
        .expect("exact 0 on a new stream");
    assert_eq!(first.stream_version, 1);
    let second = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::Exact(1),
            events(1..3),
        ))
        .await
        .expect("exact 1");
    assert_eq!(second.stream_version, 3);
    let third = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::Any,
            events(3..4),
        ))
        .await
        .expect("any");
    assert_eq!(third.stream_version, 4);
    let versions: Vec<u64> = store
        .read_stream(&stream, 1, None)
        .await
        .expect("read")
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
}

pub async fn invalid_input_writes_nothing<S: EventStore>(store: Arc<S>) {
    let mut not_object = event(1);
    not_object.payload = serde_json::json!([1, 2]);
    let mut no_type = event(2);
    no_type.event_type.clear();
    let twice = event(3);
    let cases = [
        (
            AppendRequest::new(unique_stream(), "test", ExpectedVersion::Any, vec![]),
            InvalidInput::EmptyAppend,
        ),
        (
            AppendRequest::new("", "test", ExpectedVersion::Any, events(0..1)),
            InvalidInput::EmptyStreamId,
        ),
        (
            AppendRequest::new("x".repeat(201), "test", ExpectedVersion::Any, events(0..1)),
            InvalidInput::StreamIdTooLong { len: 201, max: 200 },
        ),
        (
            AppendRequest::new(unique_stream(), "", ExpectedVersion::Any, events(0..1)),
            InvalidInput::EmptyStreamType,
        ),
        (
            AppendRequest::new(
                unique_stream(),
                "test",
                ExpectedVersion::Any,
                vec![event(0), not_object],
            ),
            InvalidInput::PayloadNotObject {
                index: 1,
                event_type: "Counted".into(),
            },
        ),
        (
            AppendRequest::new(unique_stream(), "test", ExpectedVersion::Any, vec![no_type]),
            InvalidInput::EmptyEventType { index: 0 },
        ),
        (
            AppendRequest::new(
                unique_stream(),
                "test",
                ExpectedVersion::Any,
                vec![twice.clone(), twice],
            ),
            InvalidInput::DuplicateEventId,
        ),
    ];
    for (request, expected) in cases {
        match store.append(request).await {
            Err(StoreError::InvalidInput(got)) => assert_eq!(got, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
    let all = store
        .read_all(crate::GlobalCheckpoint::START, 100)
        .await
        .expect("read all");
    assert!(
        all.events.is_empty(),
        "invalid appends wrote {:?}",
        all.events
    );
    assert!(store.outbox_peek(10).await.expect("outbox").is_empty());
}
