//! `keel projections rebuild search` while orders keep arriving: the event store is written
//! to all along (through the relay to a live projector writing through the alias), and a
//! search for an order that exists the whole time never fails and never comes back empty.
//! After the switch the alias points at the new generation only, the old one is gone, and
//! verify finds no difference.

use std::time::Duration;

use super::projection_ops_support::{
    index_status, run, summary_number, Generations, SearchLoop, Writer,
};
use super::projection_support::{write_lives, ProjectionFixture};

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_while_orders_arrive_switches_without_a_gap_and_verifies_clean() {
    let fixture = ProjectionFixture::new("ops-rebuild").await;
    let _generations = Generations::of(&fixture);
    let alias = fixture.index.alias.clone();
    let _relay = fixture.spawn_relay();
    let _projector = fixture.spawn_projector("live", &[]);
    let seeded = write_lives(fixture.store.clone(), 200, Duration::ZERO).await;
    fixture.wait_projected(&seeded, WITHIN).await;

    let searches = SearchLoop::start(&alias, seeded[0]).await;
    let writer = Writer::start(fixture.store.clone());
    let rebuild = run(&fixture, &["rebuild", "search"]).await;
    let written = writer.stop().await;
    let (count, failures) = searches.finish().await;

    assert!(rebuild.success(), "{rebuild}");
    assert!(
        rebuild.stdout.contains(&format!(
            "switched {alias}-v1 → {alias}-v2 ({alias}-v1 deleted)"
        )),
        "{rebuild}"
    );
    assert!(
        summary_number(&rebuild.stdout, "orders") >= seeded.len() as u64,
        "{rebuild}"
    );
    assert!(
        summary_number(&rebuild.stdout, "caught-up events") > 0,
        "orders arrived during the rebuild, so the catch-up had events to apply: {rebuild}"
    );
    assert!(!written.is_empty(), "the writer wrote during the rebuild");
    assert!(
        failures.is_empty(),
        "{} of {count} searches failed: {failures:?}",
        failures.len()
    );
    assert!(count > 20, "only {count} searches ran");

    let mut orders = seeded;
    orders.extend(written);
    fixture.wait_projected(&orders, WITHIN).await;
    let verify = run(&fixture, &["verify", "search"]).await;
    assert!(verify.success(), "{verify}");
    assert!(verify.stdout.contains("no differences"), "{verify}");
    assert_eq!(fixture.index.indexes().await, vec![format!("{alias}-v2")]);
    assert_eq!(index_status(&format!("{alias}-v1")).await, 404);
}
