//! An interrupted rebuild: `keel projections rebuild search` is SIGKILLed (by pid) once
//! its new generation has documents and a resume point. The next run without flags refuses
//! and names `--resume` and `--discard`; `--resume` continues after the resume point, the
//! alias moves to the new generation, and verify finds no difference.

use std::time::Duration;

use keel_tests::eventually;

use super::projection_ops_support::{
    append_orders, command, documents_written, finish, index_status, marker_last_stream, run,
    summary_number, Generations,
};
use super::projection_support::ProjectionFixture;

const ORDERS: usize = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_rebuild_is_refused_until_resumed_then_verifies_clean() {
    let fixture = ProjectionFixture::new("ops-interrupted").await;
    let _generations = Generations::of(&fixture);
    let alias = fixture.index.alias.clone();
    let next = format!("{alias}-v2");
    append_orders(&fixture.store, ORDERS, 16).await;

    // Slowed down (small requests, one at a time, a rate limit) so that it is still loading
    // when it is killed.
    let mut rebuild = command(
        &fixture,
        &[
            "rebuild",
            "search",
            "--max-rate",
            "1500",
            "--batch-bytes",
            "32kb",
            "--requests-in-flight",
            "1",
        ],
    )
    .spawn()
    .expect("start the rebuild");
    let what = || format!("{next} never had documents and a resume point");
    let resume_point = eventually(Duration::from_secs(20), what, || async {
        if documents_written(&next).await == 0 {
            return None;
        }
        marker_last_stream(&next).await
    })
    .await;
    rebuild.start_kill().expect("SIGKILL the rebuild");
    let killed = finish(rebuild).await;
    assert!(!killed.success(), "the rebuild was killed: {killed}");
    assert_eq!(
        index_status(&next).await,
        200,
        "the unfinished generation stays"
    );
    assert_eq!(fixture.index.indexes().await, vec![format!("{alias}-v1")]);

    let refused = run(&fixture, &["rebuild", "search"]).await;
    assert!(!refused.success(), "{refused}");
    for words in [next.as_str(), "--resume", "--discard", "interrupted"] {
        assert!(refused.stderr.contains(words), "`{words}` in {refused}");
    }
    let status = run(&fixture, &["status", "search"]).await;
    assert!(
        status
            .stdout
            .contains(&format!("unfinished rebuild {next}")),
        "{status}"
    );

    let resumed = run(&fixture, &["rebuild", "search", "--resume"]).await;
    assert!(resumed.success(), "{resumed}");
    let after = resumed
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("resumed after "))
        .unwrap_or_else(|| panic!("no resume point in {resumed}"));
    assert!(
        after >= resume_point.as_str(),
        "{after} is before {resume_point}"
    );
    let rest = summary_number(&resumed.stdout, "orders");
    assert!(
        rest < ORDERS as u64,
        "the resumed load continued ({rest} of {ORDERS} orders): {resumed}"
    );
    assert!(
        resumed
            .stdout
            .contains(&format!("switched {alias}-v1 → {next}")),
        "{resumed}"
    );
    assert_eq!(fixture.index.indexes().await, vec![next.clone()]);
    assert_eq!(index_status(&format!("{alias}-v1")).await, 404);

    let verify = run(&fixture, &["verify", "search"]).await;
    assert!(verify.success(), "{verify}");
    assert!(
        verify.stdout.contains(&format!("{ORDERS} streams"))
            || verify
                .stdout
                .contains(&format!("{},{:03} streams", ORDERS / 1000, ORDERS % 1000)),
        "{verify}"
    );
}
