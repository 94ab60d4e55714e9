use std::collections::HashSet;
use std::sync::Arc;

use futures::future::join_all;

use crate::{AppendRequest, EventStore, ExpectedVersion, IdempotencyKey, StoreError};

use super::{event, events, unique_stream};

/// Many appends at once (which a store may group into shared statements) keep every
/// guarantee of a lone append: one winner per expected version, no holes, one commit per
/// idempotency key or event id.
pub async fn concurrent_appends_keep_every_guarantee<S: EventStore + 'static>(store: Arc<S>) {
    let mut requests = Vec::new();
    // Five writers race to create each of ten streams.
    let racing: Vec<String> = (0..10).map(|_| unique_stream()).collect();
    for stream in &racing {
        for n in 0..5 {
            requests.push(AppendRequest::new(
                stream,
                "test",
                ExpectedVersion::NoStream,
                events(n..n + 2),
            ));
        }
    }
    // Twenty writers append to one stream whatever its version.
    let shared = unique_stream();
    for n in 0..20 {
        requests.push(AppendRequest::new(
            &shared,
            "test",
            ExpectedVersion::Any,
            vec![event(n)],
        ));
    }
    // Ten retries of one create, each deciding a new stream id, under one idempotency key.
    let key = IdempotencyKey {
        key: format!("race-{}", unique_stream()),
        request_hash: "h".into(),
    };
    for n in 0..10 {
        requests.push(
            AppendRequest::new(
                unique_stream(),
                "test",
                ExpectedVersion::NoStream,
                vec![event(n)],
            )
            .with_idempotency(key.clone()),
        );
    }
    // Five retries of the very same events.
    let retried = unique_stream();
    let same = events(0..3);
    for _ in 0..5 {
        requests.push(AppendRequest::new(
            &retried,
            "test",
            ExpectedVersion::NoStream,
            same.clone(),
        ));
    }

    let results = join_all(requests.into_iter().map(|r| {
        let store = Arc::clone(&store);
        async move { store.append(r).await }
    }))
    .await;

    let (race, rest) = results.split_at(50);
    for (i, per_stream) in race.chunks(5).enumerate() {
        let winners = per_stream.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "stream {}: {per_stream:?}", racing[i]);
        for r in per_stream.iter().filter(|r| r.is_err()) {
            assert!(
                matches!(r, Err(StoreError::WrongExpectedVersion { actual: 2, .. })),
                "{r:?}"
            );
        }
    }
    let (any, rest) = rest.split_at(20);
    let versions: HashSet<u64> = any
        .iter()
        .map(|r| r.as_ref().expect("any").stream_version)
        .collect();
    assert_eq!(
        versions,
        (1..=20).collect(),
        "Any appends must take distinct versions"
    );
    let (keyed, retries) = rest.split_at(10);
    let keyed: Vec<_> = keyed.iter().map(|r| r.as_ref().expect("keyed")).collect();
    assert_eq!(keyed.iter().filter(|c| !c.deduplicated).count(), 1);
    assert_eq!(
        keyed
            .iter()
            .map(|c| &c.stream_id)
            .collect::<HashSet<_>>()
            .len(),
        1
    );
    let retries: Vec<_> = retries.iter().map(|r| r.as_ref().expect("retry")).collect();
    assert_eq!(retries.iter().filter(|c| !c.deduplicated).count(), 1);
    assert!(retries.iter().all(|c| c.stream_version == 3));

    let shared_versions: Vec<u64> = store
        .read_stream(&shared, 1, None)
        .await
        .expect("read")
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(shared_versions, (1..=20).collect::<Vec<_>>());
    // 10 streams x 2 + 20 + 1 + 3 events, each with one outbox row.
    assert_eq!(store.outbox_peek(1000).await.expect("outbox").len(), 44);
}
