//! Test 2 of the relay: SIGKILL the relay process at random moments (at least 10 times)
//! while 20,000 events are written, restarting it each time: a read_committed consumer
//! sees every event exactly once, each stream in order.

use std::time::{Duration, Instant};

use keel_tests::assert_exactly_once_in_order;

use super::relay_support::{write, Ledger, RelayFixture};

const KILLS: usize = 12;
/// 4 writers × 500 appends × 10 events.
const WRITERS: usize = 4;
const APPENDS: usize = 500;
const PER_APPEND: u64 = 10;

/// A pseudo-random duration in `[from, to)` (the moments need not be reproducible).
fn random_between(from: Duration, to: Duration) -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() as u64;
    let span = (to - from).as_millis() as u64;
    from + Duration::from_millis(r % span.max(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_at_random_moments_loses_and_duplicates_nothing() {
    let fixture = RelayFixture::new("crash").await;
    let watcher = fixture.watch();
    let ledger = Ledger::default();
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            tokio::spawn(write(
                fixture.store.clone(),
                ledger.clone(),
                20,
                APPENDS,
                PER_APPEND,
                Duration::from_millis(8),
            ))
        })
        .collect();
    let mut published_between_kills = Vec::new();
    for kill in 0..KILLS {
        let relay = fixture.spawn_relay(&format!("run{kill}"), &[]);
        let before = watcher.count();
        // The fault: a SIGKILL at a random moment. Half of them count from the start
        // (connecting, fencing, recovering), half from the first moment it publishes
        // (mid-transaction, between commit and delete).
        if kill % 2 == 1 {
            relay.wait_ready(true, Duration::from_secs(30)).await;
        }
        tokio::time::sleep(random_between(
            Duration::from_millis(50),
            Duration::from_millis(1500),
        ))
        .await;
        relay.kill();
        published_between_kills.push(watcher.count() - before);
    }
    for w in writers {
        w.await.expect("writer");
    }
    let total = ledger.len();
    assert!(total >= 20_000, "{total} events written");
    let _relay = fixture.spawn_relay("final", &[]);
    watcher.wait_for(total, Duration::from_secs(120)).await;
    fixture.wait_drained(Duration::from_secs(30)).await;
    watcher.settle(Duration::from_secs(1)).await;
    assert_exactly_once_in_order(&watcher.received(), &ledger.ids());
    eprintln!(
        "relay crash test: {KILLS} SIGKILLs, {total} events, published between kills \
         {published_between_kills:?}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
