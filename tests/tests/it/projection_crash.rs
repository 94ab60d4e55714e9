//! Search projector test (c): SIGKILL the projector at random moments while orders are
//! written and relayed, restarting it each time: every order's document ends at its
//! stream's version with the status its events fold to (compared with the event store).
//!
//! The projector runs with static group membership (`group.instance.id`), as it would
//! under an orchestrator with stable pod names: a restarted instance takes its killed
//! predecessor's place at once instead of waiting for the broker to time the dead member
//! out of the group.

use std::time::{Duration, Instant};

use super::projection_support::{random_between, write_lives, ProjectionFixture};

const KILLS: usize = 6;
const WRITERS: usize = 3;
const ORDERS_PER_WRITER: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projector_killed_at_random_moments_ends_with_every_document_at_its_version() {
    let fixture = ProjectionFixture::new("crash").await;
    let started = Instant::now();
    let _relay = fixture.spawn_relay();
    let member = format!("group.instance.id={}-member", fixture.name);
    let extra = ["--consumer-setting", member.as_str(), "--batch-size", "50"];
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            tokio::spawn(write_lives(
                fixture.store.clone(),
                ORDERS_PER_WRITER,
                Duration::from_millis(25),
            ))
        })
        .collect();
    let mut applied_before_kill = Vec::new();
    for kill in 0..KILLS {
        let projector = fixture.spawn_projector(&format!("run{kill}"), &extra);
        // The fault: a SIGKILL at a random moment, from the start (joining, fetching
        // offsets) or mid-batch (between the bulk write and the offset commit).
        tokio::time::sleep(random_between(
            Duration::from_millis(200),
            Duration::from_millis(1_500),
        ))
        .await;
        applied_before_kill.push(
            projector
                .metric("keel_projector_events_applied_total")
                .await,
        );
        projector.kill();
    }
    let mut orders = Vec::new();
    for writer in writers {
        orders.extend(writer.await.expect("writer"));
    }
    let projector = fixture.spawn_projector("final", &extra);
    let docs = fixture
        .wait_projected(&orders, Duration::from_secs(45))
        .await;
    assert_eq!(docs.len(), WRITERS * ORDERS_PER_WRITER);
    let events: u64 = docs.values().map(|d| d.version).sum();
    assert_eq!(
        projector.metric("keel_projector_dead_letters_total").await,
        0.0
    );
    eprintln!(
        "projector crash test: {KILLS} SIGKILLs, {} orders, {events} events, applied per run \
         before its kill {applied_before_kill:?}, {:.1}s",
        orders.len(),
        started.elapsed().as_secs_f64()
    );
}
