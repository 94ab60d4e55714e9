//! Search projector test (e): two projector processes in one consumer group share the
//! partitions under load; one of them leaves (SIGTERM) and comes back mid-load, moving
//! partitions both ways. Every document ends at its stream's version, a watcher reading the
//! documents all along never sees a version go back, and both instances did part of the
//! work.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use keel_tests::{eventually, metric_value, VersionWatcher};
use sqlx::PgPool;
use uuid::Uuid;

use super::projection_support::{group_members, write_lives, ProjectionFixture};

const WRITERS: usize = 3;
const ORDERS_PER_WRITER: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_projectors_in_one_group_share_the_work_and_never_regress_a_document() {
    let fixture = ProjectionFixture::new("group").await;
    let _relay = fixture.spawn_relay();
    // A member that leaves without a word is noticed after this long (the broker's minimum).
    let extra = [
        "--consumer-setting",
        "session.timeout.ms=6000",
        "--batch-size",
        "50",
    ];
    let a = fixture.spawn_projector("a", &extra);
    let b = fixture.spawn_projector("b", &extra);
    let what = || "the group never had two stable members".to_owned();
    eventually(Duration::from_secs(30), what, || async {
        (group_members(&fixture.brokers, &fixture.group).await == 2).then_some(())
    })
    .await;

    let watcher = VersionWatcher::start(&fixture.index);
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            tokio::spawn(write_lives(
                fixture.store.clone(),
                ORDERS_PER_WRITER,
                Duration::from_millis(20),
            ))
        })
        .collect();
    // Watch the orders as they appear in the store (the writers return their ids at the end).
    let (pool, known) = (fixture.store.pool().clone(), Mutex::new(HashSet::new()));
    let load = Instant::now();
    let (mut b, mut left) = (Some(b), false);
    while !writers.iter().all(|w| w.is_finished()) {
        add_new_orders(&pool, &known, &watcher).await;
        // Mid-load: b leaves gracefully (its partitions move to a), then comes back (some
        // move back).
        if load.elapsed() > Duration::from_millis(1_500) && !left {
            left = true;
            if let Some(leaving) = b.take() {
                assert!(leaving.terminate(), "a graceful stop exits 0");
            }
        }
        if load.elapsed() > Duration::from_secs(3) && b.is_none() {
            b = Some(fixture.spawn_projector("b2", &extra));
        }
        // Pacing the id sampling, not synchronising.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut orders = Vec::new();
    for writer in writers {
        orders.extend(writer.await.expect("writer"));
    }
    for id in &orders {
        watcher.watch(*id);
    }
    let b = b.unwrap_or_else(|| fixture.spawn_projector("b3", &extra));
    let docs = fixture
        .wait_projected(&orders, Duration::from_secs(45))
        .await;
    assert_eq!(docs.len(), WRITERS * ORDERS_PER_WRITER);
    let (regressions, reads) = watcher.finish().await;
    assert!(
        regressions.is_empty(),
        "documents went back: {regressions:?}"
    );
    assert!(reads > 0, "the watcher read documents");

    let (ma, mb) = (a.metrics().await, b.metrics().await);
    let applied = |m: &str| metric_value(m, "keel_projector_events_applied_total");
    assert!(applied(&ma) > 0.0, "a applied nothing:\n{ma}");
    assert_eq!(metric_value(&ma, "keel_projector_dead_letters_total"), 0.0);
    assert_eq!(metric_value(&mb, "keel_projector_dead_letters_total"), 0.0);
    eprintln!(
        "projector group test: {} orders, applied by a {}, by the last b {}, watcher reads {reads}, \
         version conflicts a {} b {}",
        orders.len(),
        applied(&ma),
        applied(&mb),
        metric_value(&ma, "keel_projector_search_version_conflicts_total"),
        metric_value(&mb, "keel_projector_search_version_conflicts_total"),
    );
}

/// Adds the orders the store holds that the watcher does not watch yet.
async fn add_new_orders(pool: &PgPool, known: &Mutex<HashSet<Uuid>>, watcher: &VersionWatcher) {
    let streams: Vec<String> = sqlx::query_scalar("SELECT DISTINCT stream_id FROM events")
        .fetch_all(pool)
        .await
        .unwrap_or_default();
    let mut known = known.lock().expect("known ids");
    for stream in streams {
        if let Some(id) = stream.strip_prefix("order-").and_then(|id| id.parse().ok()) {
            if known.insert(id) {
                watcher.watch(id);
            }
        }
    }
}
