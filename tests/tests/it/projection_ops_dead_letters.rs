//! `keel projections dead-letters search` and `status`: the poison of projection_poison.rs
//! (a value that is not an event envelope) and an event whose earlier history is missing
//! from the event store land in the dead-letter topic; the listing names each, and status
//! counts them. Once the missing history is restored, `--redrive` applies that one through
//! the projector and honestly reports the garbage as still failing (exit 1), which stays
//! pending.

use std::time::Duration;

use keel_services::http::response::EventView;
use keel_tests::DeadLetterWatcher;
use uuid::Uuid;

use super::projection_ops_support::run;
use super::projection_support::{life, placed, stream_id, ProjectionFixture};

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_counted_and_re_driven_once_fixed() {
    let fixture = ProjectionFixture::new("ops-dead-letters").await;
    let dead_letters = DeadLetterWatcher::start(&fixture.brokers, &fixture.dead_letter_topic);
    // No relay: the test publishes what the projector is to see.
    let _projector = fixture.spawn_projector("live", &[]);
    let first = Uuid::new_v4();
    fixture.append(first, life(first, 2)).await;
    fixture.produce_events(&fixture.stream(first).await).await;
    fixture.wait_projected(&[first], WITHIN).await;

    let broken = Uuid::new_v4();
    fixture
        .produce(&stream_id(broken), b"this is not an event")
        .await;
    // Version 2 of an order whose version 1 is not in the event store (yet).
    let orphaned = Uuid::new_v4();
    let mut event = fixture.stream(first).await[1].clone();
    event.event_id = Uuid::now_v7();
    event.stream_id = stream_id(orphaned);
    let value = serde_json::to_vec(&EventView::from(event.clone())).expect("JSON");
    fixture.produce(&stream_id(orphaned), &value).await;
    dead_letters.wait_for(2, WITHIN).await;

    let listed = run(&fixture, &["dead-letters", "search"]).await;
    assert!(listed.success(), "{listed}");
    assert!(
        listed.stdout.contains(&format!(
            "search: 2 dead letters not re-driven in {}",
            fixture.dead_letter_topic
        )),
        "{listed}"
    );
    let line = |subject: &str| {
        listed
            .stdout
            .lines()
            .find(|l| l.contains(subject))
            .unwrap_or_else(|| panic!("no line for {subject} in {listed}"))
            .to_owned()
    };
    let garbage = line(&stream_id(broken));
    assert!(garbage.contains("not an event envelope"), "{garbage}");
    let missing = line(&stream_id(orphaned));
    assert!(
        missing.contains(&format!("v2  event {}", event.event_id)),
        "{missing}"
    );
    assert!(
        missing.contains("missing from the event store"),
        "{missing}"
    );

    let status = run(&fixture, &["status", "search"]).await;
    assert!(status.success(), "{status}");
    for words in [
        format!("consumer group {}: Stable, 1 member", fixture.group),
        format!("{}/0", fixture.topic),
        format!(
            "dead letters: 2 in {} (2 not re-driven)",
            fixture.dead_letter_topic
        ),
        // The count is of searchable documents: the one written may await its refresh.
        format!(
            "alias {} → {}-v1: ",
            fixture.index.alias, fixture.index.alias
        ),
    ] {
        assert!(status.stdout.contains(&words), "`{words}` in {status}");
    }

    // The operator restores the missing history; the garbage cannot be fixed.
    fixture.append(orphaned, vec![placed(orphaned)]).await;
    fixture
        .append(orphaned, life(orphaned, 1)[1..2].to_vec())
        .await;
    let redrive = run(&fixture, &["dead-letters", "search", "--redrive"]).await;
    assert_eq!(redrive.code, Some(1), "{redrive}");
    assert!(
        redrive
            .stdout
            .contains("re-drove 2 dead letters of search: 1 applied, 1 still failing"),
        "{redrive}"
    );
    assert!(redrive.stdout.contains(&stream_id(broken)), "{redrive}");
    let document = fixture.index.document(orphaned).await.expect("re-driven");
    assert_eq!(document.version, 2);
    assert_eq!(document.source["status"], "payment_authorised");

    let pending = run(&fixture, &["dead-letters", "search"]).await;
    assert!(
        pending
            .stdout
            .contains("search: 1 dead letters not re-driven"),
        "{pending}"
    );
    assert!(pending.stdout.contains(&stream_id(broken)), "{pending}");
    let all = run(&fixture, &["dead-letters", "search", "--all"]).await;
    assert!(all.stdout.contains("search: 2 dead letters in"), "{all}");
}
