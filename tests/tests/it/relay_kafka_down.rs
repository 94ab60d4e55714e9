//! Test 3 of the relay: Kafka stops for 30 s under write load and starts again. The relay
//! turns not ready while Kafka is unreachable (past its threshold), ready again after; the
//! backlog drains; every event arrives exactly once, in stream order. The test runs its own
//! throwaway broker, since stopping the shared one would break every other test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_tests::{assert_exactly_once_in_order, TestKafka};

use super::relay_support::{write, Ledger, RelayFixture};

const DOWN_FOR: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_survives_kafka_going_away_for_thirty_seconds() {
    let mut kafka = tokio::task::spawn_blocking(TestKafka::start)
        .await
        .expect("start a test broker");
    let fixture = RelayFixture::with_brokers("kafka-down", kafka.brokers()).await;
    let relay = fixture.spawn_relay("a", &["--unready-after", "3s", "--kafka-timeout", "5s"]);
    let watcher = fixture.watch();
    relay.wait_ready(true, Duration::from_secs(60)).await;

    let ledger = Ledger::default();
    // About 100 events/s for the whole test (before, during and after the outage).
    let writer = tokio::spawn(write(
        fixture.store.clone(),
        ledger.clone(),
        30,
        1_800,
        2,
        Duration::from_millis(20),
    ));
    watcher.wait_for(200, Duration::from_secs(30)).await;

    // Record every readiness answer while Kafka is away and back.
    let watching = Arc::new(AtomicBool::new(true));
    let saw_unready = Arc::new(AtomicBool::new(false));
    let observer = {
        let (watching, saw_unready) = (watching.clone(), saw_unready.clone());
        let url = relay.base_url.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while watching.load(Ordering::Relaxed) {
                let answer = client
                    .get(format!("{url}/health/ready"))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                if let Ok(r) = answer {
                    if r.status().as_u16() == 503 {
                        let body = r.text().await.unwrap_or_default();
                        if body.contains("kafka unreachable") {
                            saw_unready.store(true, Ordering::Relaxed);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    let kafka = tokio::task::spawn_blocking(move || {
        kafka.stop();
        kafka
    })
    .await
    .expect("stop the broker");
    let stopped_at = Instant::now();
    let backlog_before = fixture.backlog().await;
    // Pacing the fault: Kafka stays away for 30 s while the writers go on.
    tokio::time::sleep(DOWN_FOR).await;
    let backlog_during = fixture.backlog().await;
    assert!(
        saw_unready.load(Ordering::Relaxed),
        "the relay stayed ready with Kafka down for {:?}",
        stopped_at.elapsed()
    );
    let mut kafka = tokio::task::spawn_blocking(move || {
        let mut kafka = kafka;
        kafka.resume();
        kafka
    })
    .await
    .expect("restart the broker");
    let restarted_at = Instant::now();
    let ready_again = relay.wait_ready(true, Duration::from_secs(90)).await;

    writer.await.expect("writer");
    watcher
        .wait_for(ledger.len(), Duration::from_secs(90))
        .await;
    fixture.wait_drained(Duration::from_secs(30)).await;
    watching.store(false, Ordering::Relaxed);
    observer.await.expect("observer");
    watcher.settle(Duration::from_secs(1)).await;
    assert_exactly_once_in_order(&watcher.received(), &ledger.ids());
    assert!(
        backlog_during > backlog_before,
        "the backlog grew while Kafka was away"
    );
    eprintln!(
        "kafka down {DOWN_FOR:?}: backlog {backlog_before} -> {backlog_during}; ready again \
         {ready_again:?} after the restart; drained {:?} after the restart; {} events",
        restarted_at.elapsed(),
        ledger.len()
    );
    tokio::task::spawn_blocking(move || kafka.stop())
        .await
        .expect("stop the broker");
}
