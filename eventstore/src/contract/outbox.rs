use std::sync::Arc;

use crate::{AppendRequest, EventStore, ExpectedVersion};

use super::{events, unique_stream};

pub async fn outbox_holds_exactly_the_committed_events<S: EventStore>(store: Arc<S>) {
    let a = unique_stream();
    let b = unique_stream();
    store
        .append(AppendRequest::new(
            &a,
            "test",
            ExpectedVersion::NoStream,
            events(0..2),
        ))
        .await
        .expect("append a");
    store
        .append(AppendRequest::new(
            &b,
            "test",
            ExpectedVersion::NoStream,
            events(0..1),
        ))
        .await
        .expect("append b");
    store
        .append(AppendRequest::new(
            &b,
            "test",
            ExpectedVersion::NoStream,
            events(5..6),
        ))
        .await
        .expect_err("conflict");

    let pending = store.outbox_peek(10).await.expect("peek");
    let order: Vec<(String, u64)> = pending
        .iter()
        .map(|p| (p.event.stream_id.clone(), p.event.stream_version))
        .collect();
    assert_eq!(order, vec![(a.clone(), 1), (a.clone(), 2), (b.clone(), 1)]);
    assert!(pending.windows(2).all(|w| w[0].id < w[1].id));

    let oldest = store.outbox_peek(2).await.expect("peek 2");
    assert_eq!(oldest, pending[..2].to_vec());
    let ids: Vec<u64> = oldest.iter().map(|p| p.id).collect();
    assert_eq!(store.outbox_remove(&ids).await.expect("remove"), 2);
    assert_eq!(store.outbox_remove(&ids).await.expect("remove again"), 0);
    let rest = store.outbox_peek(10).await.expect("peek");
    assert_eq!(rest, pending[2..].to_vec());
}
