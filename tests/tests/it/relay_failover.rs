//! Test 4 of the relay: two relay processes on one database. Exactly one leads (the other
//! is alive and not ready: standby). Killing the leader hands over within the failover
//! timeout. A leader paused with SIGSTOP loses its lease after the failover timeout; the
//! standby takes over; resumed with SIGCONT, the old leader (a zombie now) publishes nothing
//! a read_committed consumer sees (Kafka fenced it) and steps down to standby by itself.
//! Writers keep appending all along; every event arrives exactly once, in stream order.

use std::time::{Duration, Instant};

use keel_tests::{assert_exactly_once_in_order, eventually, KeelProcess};

use super::relay_support::{write, Ledger, RelayFixture};

const FAILOVER: &str = "2s";
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(2);
/// What a new leader needs after getting the lease: a producer, init_transactions (which
/// waits for the old producer's transaction to be settled), the progress record.
const TAKEOVER_SLACK: Duration = Duration::from_secs(8);

/// Which of `relays` is ready (the leader), waiting up to `within`.
async fn leader_of(relays: &[&KeelProcess], within: Duration) -> usize {
    let what = || "no relay became leader".to_owned();
    eventually(within, what, || async {
        for (i, relay) in relays.iter().enumerate() {
            if relay.readiness().await.is_some_and(|r| r.ready()) {
                return Some(i);
            }
        }
        None
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn standby_takes_over_and_a_paused_leader_is_fenced() {
    let fixture = RelayFixture::new("failover").await;
    let flags = ["--failover-timeout", FAILOVER];
    let watcher = fixture.watch();
    let ledger = Ledger::default();
    let writer = tokio::spawn(write(
        fixture.store.clone(),
        ledger.clone(),
        50,
        2_000,
        3,
        Duration::from_millis(5),
    ));

    // Two relays: one leads, the other stands by (alive, not ready, and says why).
    let a = fixture.spawn_relay("a", &flags);
    let b = fixture.spawn_relay("b", &flags);
    let first = leader_of(&[&a, &b], Duration::from_secs(30)).await;
    let (leader, standby) = if first == 0 { (a, b) } else { (b, a) };
    let standby_says = standby.readiness().await.expect("standby answers");
    assert_eq!(standby_says.status, 503);
    assert!(
        standby_says.body.contains("standby"),
        "{}",
        standby_says.body
    );
    watcher.wait_for(300, Duration::from_secs(30)).await;

    // Kill the leader: the standby takes over.
    leader.kill();
    let killed_at = Instant::now();
    let took = standby
        .wait_ready(true, FAILOVER_TIMEOUT + TAKEOVER_SLACK)
        .await;
    eprintln!("failover after SIGKILL: {took:?}");
    let leader = standby;
    let count = watcher.count();
    watcher.wait_for(count + 300, Duration::from_secs(30)).await;
    assert!(killed_at.elapsed() < Duration::from_secs(40));

    // A new standby; then pause the leader until the standby has taken over.
    let standby = fixture.spawn_relay("c", &flags);
    standby.wait_ready(false, Duration::from_secs(10)).await;
    leader.pause();
    let paused_at = Instant::now();
    let took = standby
        .wait_ready(true, FAILOVER_TIMEOUT + TAKEOVER_SLACK)
        .await;
    eprintln!("failover after SIGSTOP: {took:?} (failover timeout {FAILOVER_TIMEOUT:?})");
    assert!(paused_at.elapsed() >= FAILOVER_TIMEOUT / 2);
    let count = watcher.count();
    watcher.wait_for(count + 300, Duration::from_secs(30)).await;

    // Resume the zombie: it must step down by itself (and stay alive, on standby).
    leader.resume();
    let stepped_down = leader.wait_ready(false, Duration::from_secs(15)).await;
    eprintln!("zombie stepped down {stepped_down:?} after SIGCONT");
    let zombie_says = leader.readiness().await.expect("zombie answers");
    assert!(zombie_says.body.contains("standby"), "{}", zombie_says.body);
    assert!(standby.readiness().await.is_some_and(|r| r.ready()));
    let zombie_metrics = leader.metrics().await;
    assert!(
        zombie_metrics
            .lines()
            .any(|l| l.starts_with("keel_relay_leader{") && l.ends_with(" 0")),
        "{zombie_metrics}"
    );
    let zombie_log = std::fs::read_to_string(&leader.log).unwrap_or_default();
    assert!(
        zombie_log.contains("stepping down"),
        "the zombie's log ({}) does not say it stepped down",
        leader.log.display()
    );

    writer.await.expect("writer");
    watcher
        .wait_for(ledger.len(), Duration::from_secs(60))
        .await;
    fixture.wait_drained(Duration::from_secs(30)).await;
    watcher.settle(Duration::from_secs(1)).await;
    // Nothing of the zombie's is visible: no duplicate, no loss, order kept.
    assert_exactly_once_in_order(&watcher.received(), &ledger.ids());
    let mut zombie = leader;
    assert!(zombie.is_running(), "the zombie stepped down without dying");
}
