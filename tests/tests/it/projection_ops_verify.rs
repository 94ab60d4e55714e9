//! `keel projections verify search` against a projected model: clean at first; then one
//! document deleted, another's status changed at the same version, and a document added
//! without a stream: exit 1, each named with what differs, counted by kind.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::projection_ops_support::{put_document, run, Generations};
use super::projection_support::{stream_id, write_lives, ProjectionFixture};
use keel_tests::elasticsearch_url;

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_missing_a_changed_and_a_stray_document() {
    let fixture = ProjectionFixture::new("ops-verify").await;
    let _generations = Generations::of(&fixture);
    let alias = fixture.index.alias.clone();
    let _relay = fixture.spawn_relay();
    let _projector = fixture.spawn_projector("live", &[]);
    let orders = write_lives(fixture.store.clone(), 40, Duration::ZERO).await;
    let documents = fixture.wait_projected(&orders, WITHIN).await;

    let clean = run(&fixture, &["verify", "search"]).await;
    assert!(clean.success(), "{clean}");
    assert!(clean.stdout.contains("40 streams, 40 documents"), "{clean}");

    let (deleted, changed) = (orders[0], orders[1]);
    let response = reqwest::Client::new()
        .delete(format!(
            "{}/{alias}/_doc/{deleted}?refresh=true",
            elasticsearch_url()
        ))
        .send()
        .await
        .expect("DELETE document");
    assert!(response.status().is_success());
    let mut source = documents[&changed].source.clone();
    let status = source["status"].as_str().unwrap_or_default().to_owned();
    let other = if status == "cancelled" {
        "delivered"
    } else {
        "cancelled"
    };
    source["status"] = json!(other);
    put_document(&alias, &source).await;
    let stray = Uuid::new_v4();
    let mut copy = documents[&changed].source.clone();
    copy["order_id"] = json!(stray.to_string());
    copy["version"] = json!(1);
    put_document(&alias, &copy).await;

    let found = run(&fixture, &["verify", "search"]).await;
    assert_eq!(found.code, Some(1), "{found}");
    let line = |subject: &str| {
        found
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(subject))
            .unwrap_or_else(|| panic!("no line for {subject} in {found}"))
            .to_owned()
    };
    assert!(
        line(&stream_id(deleted)).contains(": missing: no document"),
        "{found}"
    );
    let status_line = line(&stream_id(changed));
    assert!(
        status_line.contains(&format!(
            ": fields: status: document \"{other}\", events \"{status}\""
        )),
        "{status_line}"
    );
    assert!(
        line(&stray.to_string()).contains(": orphan: document at version 1 without a stream"),
        "{found}"
    );
    assert!(
        found
            .stdout
            .contains("3 differences: 1 missing, 1 fields, 1 orphan"),
        "{found}"
    );

    let limited = run(&fixture, &["verify", "search", "--limit", "1"]).await;
    assert_eq!(limited.code, Some(1), "{limited}");
    assert!(limited.stdout.contains("... and 2 more"), "{limited}");
}
