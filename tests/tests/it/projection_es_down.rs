//! Search projector test (3, second half): Elasticsearch unreachable for 30 s under load,
//! then back. The projector reaches Elasticsearch through a TCP proxy the test cuts (the
//! shared server keeps running for the tests beside this one): readiness goes false and
//! back to true, every order's document ends at its stream's version, and
//! `keel projections verify` finds no difference.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use keel_tests::{elasticsearch_url, TcpProxy};

use super::projection_ops_support::run;
use super::projection_support::{write_lives, ProjectionFixture};

const OUTAGE: Duration = Duration::from_secs(30);

fn elasticsearch_address() -> SocketAddr {
    let url = elasticsearch_url();
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("an authority")
        .to_owned();
    authority
        .to_socket_addrs()
        .expect("resolve ELASTICSEARCH_URL")
        .next()
        .expect("an address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elasticsearch_away_for_thirty_seconds_loses_and_duplicates_nothing() {
    let fixture = ProjectionFixture::new("es-down").await;
    let mut proxy = TcpProxy::start(elasticsearch_address()).await;
    let through_proxy = format!("http://127.0.0.1:{}", proxy.port);
    let _relay = fixture.spawn_relay();
    let projector = fixture.spawn_projector(
        "live",
        &["--elasticsearch-url", &through_proxy, "--max-backoff", "2s"],
    );
    let writers: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(write_lives(
                fixture.store.clone(),
                60,
                Duration::from_millis(60),
            ))
        })
        .collect();
    projector.wait_ready(true, Duration::from_secs(30)).await;
    // Some orders are applied before the fault.
    keel_tests::eventually(
        Duration::from_secs(30),
        || "no event applied before the outage".to_owned(),
        || async {
            let applied = projector
                .metric("keel_projector_events_applied_total")
                .await;
            (applied > 0.0).then_some(())
        },
    )
    .await;

    proxy.cut();
    projector.wait_ready(false, Duration::from_secs(30)).await;
    // The fault lasts this long while the writers go on; not a synchronisation.
    tokio::time::sleep(OUTAGE).await;
    proxy.restore().await;
    projector.wait_ready(true, Duration::from_secs(60)).await;

    let mut orders = Vec::new();
    for writer in writers {
        orders.extend(writer.await.expect("writer"));
    }
    fixture
        .wait_projected(&orders, Duration::from_secs(60))
        .await;
    assert!(
        projector.metric("keel_projector_errors_total").await > 0.0,
        "the outage was seen as errors"
    );
    assert_eq!(
        projector.metric("keel_projector_dead_letters_total").await,
        0.0,
        "an outage is transient: nothing dead-lettered"
    );
    let verified = run(&fixture, &["verify", "search"]).await;
    assert!(verified.success(), "{verified}");
}
