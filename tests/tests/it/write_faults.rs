//! The PostgreSQL store under contention and faults: batches that share streams, a stream
//! held by an open transaction, a full queue, dead workers, and transactions that wrote
//! before appending. Each case failed before the store's error model and group commit
//! were reworked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use keel_eventstore::{
    contract::{event, events, unique_stream},
    AppendRequest, EventStore, ExpectedVersion, GlobalCheckpoint, GroupCommit, PgEventStore,
    SessionTimeouts, StoreError,
};
use keel_tests::{eventually, TestDatabase};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

async fn store_with(
    db: &TestDatabase,
    timeouts: SessionTimeouts,
    settings: GroupCommit,
) -> PgEventStore {
    let options: PgConnectOptions = db.url.parse().expect("test database URL");
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(timeouts.apply(options))
        .await
        .expect("connect");
    let store = PgEventStore::with_group_commit(pool, settings);
    store.migrate().await.expect("migrate");
    store
}

async fn default_store(db: &TestDatabase) -> PgEventStore {
    store_with(db, SessionTimeouts::default(), GroupCommit::default()).await
}

/// Appends that each take two events on one of four streams, many at once: batches
/// interleave on the same streams. Every append succeeds (no deadlock, no 500) and each
/// stream's versions have no holes.
#[tokio::test]
async fn batches_sharing_streams_never_deadlock_or_fail() {
    let db = TestDatabase::create().await;
    let store = Arc::new(default_store(&db).await);
    let streams: Vec<String> = (0..4).map(|_| unique_stream()).collect();
    for round in 0..4u64 {
        let appends = (0..120u64).map(|n| {
            let store = Arc::clone(&store);
            // Shuffled per round so that batches meet the streams in different orders.
            let stream = streams[((n * 7 + round * 3) % 4) as usize].clone();
            async move {
                store
                    .append(AppendRequest::new(
                        stream,
                        "deadlock",
                        ExpectedVersion::Any,
                        events(n..n + 2),
                    ))
                    .await
            }
        });
        for result in join_all(appends).await {
            result.expect("every append succeeds");
        }
    }
    for stream in &streams {
        let versions: Vec<u64> = store
            .read_stream(stream, 1, None)
            .await
            .expect("read")
            .iter()
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
        assert_eq!(versions.len(), 240);
    }
}

/// A transaction that holds a stream's next version open: appends to that stream fail
/// within the lock timeout instead of hanging, and appends to other streams go on.
#[tokio::test]
async fn a_stream_held_by_an_open_transaction_stalls_nothing_else() {
    let db = TestDatabase::create().await;
    let timeouts = SessionTimeouts {
        statement: Duration::from_secs(5),
        lock: Duration::from_millis(400),
    };
    let store = Arc::new(store_with(&db, timeouts, GroupCommit::default()).await);
    let held = unique_stream();
    let mut tx = store.pool().begin().await.expect("begin");
    store
        .append_in(
            &mut tx,
            AppendRequest::new(&held, "stuck", ExpectedVersion::NoStream, events(0..1)),
        )
        .await
        .expect("append in the open transaction");

    let started = Instant::now();
    let blocked = {
        let store = Arc::clone(&store);
        let held = held.clone();
        tokio::spawn(async move {
            let request = AppendRequest::new(held, "stuck", ExpectedVersion::Any, events(1..2));
            store.append(request).await
        })
    };
    let others = join_all((0..40u64).map(|n| {
        let store = Arc::clone(&store);
        async move {
            let request = AppendRequest::new(
                unique_stream(),
                "free",
                ExpectedVersion::NoStream,
                events(n..n + 1),
            );
            store.append(request).await
        }
    }))
    .await;
    for result in others {
        result.expect("appends to other streams succeed");
    }
    let blocked = blocked.await.expect("task");
    let waited = started.elapsed();
    assert!(
        matches!(blocked, Err(StoreError::Timeout(_))),
        "the held stream's append: {blocked:?}"
    );
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.stream_version(&held).await.expect("version"), 0);
}

/// With every writer stuck behind a table lock: a full queue answers `Overloaded` at once,
/// and a queued append whose time ran out is dropped and never appended, also after the
/// lock is gone.
#[tokio::test]
async fn a_full_queue_refuses_and_an_expired_append_is_never_written() {
    let db = TestDatabase::create().await;
    let timeouts = SessionTimeouts {
        statement: Duration::from_secs(10),
        lock: Duration::from_secs(5),
    };
    let settings = GroupCommit {
        workers: 1,
        max_queued: 8,
        queue_timeout: Duration::from_millis(300),
        ..GroupCommit::default()
    };
    let store = Arc::new(store_with(&db, timeouts, settings).await);
    let mut lock = store.pool().begin().await.expect("begin");
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock the events table");
    // Two at once: one takes the lone-writer path, the other the only worker; both wait.
    let stuck: Vec<_> = (0..2)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let request = AppendRequest::new(
                    unique_stream(),
                    "stuck",
                    ExpectedVersion::Any,
                    events(0..1),
                );
                store.append(request).await
            })
        })
        .collect();
    wait_for_lock_waiters(&db, 2).await;
    let queued: Vec<String> = (0..30).map(|_| unique_stream()).collect();
    let results = join_all(queued.iter().map(|stream| {
        let store = Arc::clone(&store);
        let request = AppendRequest::new(
            stream.clone(),
            "queued",
            ExpectedVersion::NoStream,
            events(0..1),
        );
        async move { store.append(request).await }
    }))
    .await;
    let overloaded = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Overloaded { .. })))
        .count();
    let timed_out = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Timeout(_))))
        .count();
    assert_eq!((overloaded, timed_out), (22, 8), "{results:?}");
    lock.rollback().await.expect("unlock");
    for stuck in stuck {
        stuck
            .await
            .expect("task")
            .expect("the stalled appends finish");
    }
    for stream in &queued {
        let stored = store.stream_version(stream).await.expect("version");
        assert_eq!(stored, 0, "{stream} was appended after it was refused");
    }
}

/// Waits until `n` sessions of the test database wait for a lock.
async fn wait_for_lock_waiters(db: &TestDatabase, n: i64) {
    let pool = db.pool(1).await;
    let what = || format!("fewer than {n} writers wait for the lock");
    eventually(Duration::from_secs(10), what, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&db.name)
        .fetch_one(&pool)
        .await
        .expect("pg_stat_activity");
        (waiting >= n).then_some(())
    })
    .await;
}

/// The workers run on the runtime of the append that started them; when that runtime
/// ends, the next append starts new ones instead of failing for ever.
#[tokio::test]
async fn append_workers_are_replaced_when_their_runtime_ends() {
    let db = TestDatabase::create().await;
    let store = Arc::new(default_store(&db).await);
    let first = Arc::clone(&store);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let appends = (0..8u64).map(|n| {
                let request = AppendRequest::new(
                    unique_stream(),
                    "t",
                    ExpectedVersion::Any,
                    events(n..n + 1),
                );
                first.append(request)
            });
            for result in join_all(appends).await {
                result.expect("append on the first runtime");
            }
        });
        drop(runtime);
    })
    .join()
    .expect("the first runtime's thread");
    assert_eq!(
        store.append_workers_alive(),
        Some(0),
        "its workers ended with it"
    );
    let appends = (0..16u64).map(|n| {
        let request =
            AppendRequest::new(unique_stream(), "t", ExpectedVersion::Any, events(n..n + 1));
        store.append(request)
    });
    for result in join_all(appends).await {
        result.expect("append after the first runtime ended");
    }
    assert_eq!(store.append_workers_alive(), Some(2));
}

/// The global log is read by (transaction id, position). A transaction that wrote before
/// appending holds an older transaction id than an append that committed meanwhile: its
/// append is refused (retry the transaction), so no stream ever goes out of order.
#[tokio::test]
async fn a_transaction_that_wrote_first_cannot_put_a_stream_out_of_order() {
    let db = TestDatabase::create().await;
    let store = default_store(&db).await;
    sqlx::query("CREATE TABLE side_effects (id bigserial PRIMARY KEY, note text)")
        .execute(store.pool())
        .await
        .expect("side table");
    let stream = unique_stream();
    let mut tx = store.pool().begin().await.expect("begin");
    sqlx::query("INSERT INTO side_effects (note) VALUES ('first')")
        .execute(&mut *tx)
        .await
        .expect("an earlier write takes a transaction id");
    store
        .append(AppendRequest::new(
            &stream,
            "o",
            ExpectedVersion::NoStream,
            events(0..1),
        ))
        .await
        .expect("a younger transaction appends v1");
    let refused = store
        .append_in(
            &mut tx,
            AppendRequest::new(&stream, "o", ExpectedVersion::Exact(1), events(1..2)),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Transient(_))),
        "{refused:?}"
    );
    tx.rollback().await.expect("rollback");

    // Run again, the transaction appends after v1 in the log's order too.
    let mut tx = store.pool().begin().await.expect("begin");
    sqlx::query("INSERT INTO side_effects (note) VALUES ('again')")
        .execute(&mut *tx)
        .await
        .expect("write");
    store
        .append_in(
            &mut tx,
            AppendRequest::new(&stream, "o", ExpectedVersion::Exact(1), events(1..2)),
        )
        .await
        .expect("append after the retry");
    tx.commit().await.expect("commit");
    assert_eq!(stream_order_in_log(&store).await[&stream], vec![1, 2]);
}

/// Many writers share three streams; half of them write something else in their
/// transaction before `append_in` and retry when refused. The global log keeps every
/// stream in version order.
#[tokio::test]
async fn writers_sharing_streams_keep_each_stream_in_order_in_the_global_log() {
    let db = TestDatabase::create().await;
    let store = Arc::new(default_store(&db).await);
    sqlx::query("CREATE TABLE side_effects (id bigserial PRIMARY KEY, writer int)")
        .execute(store.pool())
        .await
        .expect("side table");
    let streams: Arc<Vec<String>> = Arc::new((0..3).map(|_| unique_stream()).collect());
    let writers = (0..8i32).map(|w| {
        let (store, streams) = (Arc::clone(&store), Arc::clone(&streams));
        tokio::spawn(async move {
            for n in 0..25usize {
                let stream = &streams[(w as usize + n) % 3];
                if w % 2 == 0 {
                    store
                        .append(AppendRequest::new(
                            stream,
                            "o",
                            ExpectedVersion::Any,
                            vec![event(0)],
                        ))
                        .await
                        .expect("plain append");
                    continue;
                }
                loop {
                    let mut tx = store.pool().begin().await.expect("begin");
                    sqlx::query("INSERT INTO side_effects (writer) VALUES ($1)")
                        .bind(w)
                        .execute(&mut *tx)
                        .await
                        .expect("side write");
                    tokio::task::yield_now().await;
                    let request =
                        AppendRequest::new(stream, "o", ExpectedVersion::Any, vec![event(1)]);
                    match store.append_in(&mut tx, request).await {
                        Ok(_) => {
                            tx.commit().await.expect("commit");
                            break;
                        }
                        Err(StoreError::Transient(_) | StoreError::WrongExpectedVersion { .. }) => {
                            tx.rollback().await.expect("rollback");
                        }
                        Err(e) => panic!("append_in: {e}"),
                    }
                }
            }
        })
    });
    for writer in join_all(writers).await {
        writer.expect("writer");
    }
    let order = stream_order_in_log(&store).await;
    let total: usize = order.values().map(Vec::len).sum();
    assert_eq!(total, 200);
    for (stream, versions) in order {
        assert_eq!(
            versions,
            (1..=versions.len() as u64).collect::<Vec<_>>(),
            "{stream} out of order in the global log"
        );
    }
}

/// Each stream's versions in the order the global log delivers them.
async fn stream_order_in_log(store: &PgEventStore) -> HashMap<String, Vec<u64>> {
    let mut order: HashMap<String, Vec<u64>> = HashMap::new();
    let mut checkpoint = GlobalCheckpoint::START;
    let deadline = Instant::now() + Duration::from_secs(20);
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(store.pool())
        .await
        .expect("count");
    let mut seen = 0;
    while seen < expected {
        assert!(Instant::now() < deadline, "read {seen} of {expected}");
        let batch = store.read_all(checkpoint, 100).await.expect("read all");
        checkpoint = batch.checkpoint;
        if batch.events.is_empty() {
            // Another transaction on the server holds the horizon back for a moment.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for global in batch.events {
            seen += 1;
            let e = global.event;
            order.entry(e.stream_id).or_default().push(e.stream_version);
        }
    }
    order
}
