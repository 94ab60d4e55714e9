use std::sync::Arc;

use futures::future::join_all;
use serde_json::json;

use crate::{
    AppendRequest, EventStore, ExpectedVersion, IdempotencyKey, IdempotencyRecord, InvalidInput,
    StoreError,
};

use super::{event, events, unique_stream};

/// A request the database could not store (PostgreSQL's jsonb refuses U+0000) fails alone,
/// before anything is written; appends sent beside it, which a store may batch with it,
/// succeed.
pub async fn a_bad_request_fails_alone<S: EventStore + 'static>(store: Arc<S>) {
    let mut requests = Vec::new();
    for n in 0..30 {
        let mut e = event(n);
        if n % 10 == 3 {
            e.payload = json!({ "name": "nul\u{0}x", "nested": [{ "ok": 1 }] });
        }
        requests.push(AppendRequest::new(
            unique_stream(),
            "test",
            ExpectedVersion::NoStream,
            vec![e],
        ));
    }
    let results = join_all(requests.into_iter().map(|r| {
        let store = Arc::clone(&store);
        async move { store.append(r).await }
    }))
    .await;
    for (n, result) in results.iter().enumerate() {
        if n % 10 == 3 {
            match result {
                Err(StoreError::InvalidInput(InvalidInput::NulCharacter { index: 0, path })) => {
                    assert_eq!(path, "payload.name")
                }
                other => panic!("append {n}: expected a NUL refusal, got {other:?}"),
            }
        } else {
            assert!(
                result.is_ok(),
                "append {n} failed beside a bad one: {result:?}"
            );
        }
    }
    assert_eq!(store.outbox_peek(100).await.expect("outbox").len(), 27);
    let mut key = event(99);
    key.metadata.actor = Some("a\u{0}b".into());
    let refused = store
        .append(AppendRequest::new(
            unique_stream(),
            "test",
            ExpectedVersion::Any,
            vec![key],
        ))
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::InvalidInput(InvalidInput::NulCharacter { .. }))
        ),
        "{refused:?}"
    );
}

/// A retry is recognised by all of its event ids, in its stream: reusing one id beside
/// new events, or for another stream, is refused instead of reported as done.
pub async fn partly_stored_event_ids_are_refused<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let first = events(0..2);
    store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::NoStream,
            first.clone(),
        ))
        .await
        .expect("first");
    let mixed = vec![first[0].clone(), event(7)];
    let elsewhere =
        AppendRequest::new(unique_stream(), "test", ExpectedVersion::Any, first.clone());
    for request in [
        AppendRequest::new(&stream, "test", ExpectedVersion::Any, mixed),
        elsewhere,
    ] {
        match store.append(request).await {
            Err(StoreError::InvalidInput(InvalidInput::EventIdTaken { event_id })) => {
                assert!(first.iter().any(|e| e.event_id == event_id))
            }
            other => panic!("expected EventIdTaken, got {other:?}"),
        }
    }
    assert_eq!(store.stream_version(&stream).await.expect("version"), 2);
    let whole = store
        .append(AppendRequest::new(
            &stream,
            "test",
            ExpectedVersion::Any,
            first,
        ))
        .await
        .expect("the whole request again");
    assert!(whole.deduplicated);
    assert_eq!(whole.stream_version, 2);
}

/// An answer recorded without an append (a refusal) holds its key: the first one recorded
/// wins, and an append under the key replays it instead of appending.
pub async fn answers_recorded_without_an_append_hold_their_key<S: EventStore>(store: Arc<S>) {
    let stream = unique_stream();
    let key = format!("refused-{stream}");
    let record = |answer: &str| IdempotencyRecord {
        key: key.clone(),
        request_hash: "h".into(),
        stream_id: stream.clone(),
        stream_version: 0,
        answer: Some(json!({ "status": 422, "said": answer })),
    };
    let first = store.record_answer(record("first")).await.expect("record");
    assert_eq!(first, record("first"));
    let second = store.record_answer(record("second")).await.expect("record");
    assert_eq!(second, record("first"), "the first answer keeps the key");
    assert_eq!(
        store.find_idempotency(&key).await.expect("find"),
        Some(record("first"))
    );
    let again = store
        .append(
            AppendRequest::new(&stream, "test", ExpectedVersion::Any, events(0..1))
                .with_idempotency(IdempotencyKey {
                    key: key.clone(),
                    request_hash: "h".into(),
                }),
        )
        .await
        .expect("a replay");
    assert!(again.deduplicated);
    assert_eq!(store.stream_version(&stream).await.expect("version"), 0);
}
