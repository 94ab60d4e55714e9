//! Concurrent clients: many retries of one command with the same `Idempotency-Key` append
//! one set of events; two clients racing on the same `If-Match` get one 2xx and one 409.

use futures::future::join_all;
use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::http_support::{order_body, place_order};

const CLIENTS: usize = 50;

/// Sends the same request `CLIENTS` times at once; returns each status and body.
async fn burst(
    service: &TestService,
    path: &str,
    body: &Value,
    key: &str,
) -> Vec<(StatusCode, Value)> {
    let requests = (0..CLIENTS).map(|_| async {
        let response = service
            .post(path, body)
            .header("Idempotency-Key", key)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json::<Value>().await.expect("JSON body"))
    });
    join_all(requests).await
}

#[tokio::test]
async fn fifty_concurrent_creates_with_one_key_place_one_order() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let answers = burst(&service, "/orders", &order_body(), "create-once").await;
    let first = &answers[0].1;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["id"], first["id"], "every retry names the same order");
        assert_eq!(body["version"], 1);
    }
    assert_eq!(service.event_count().await, 1);
}

#[tokio::test]
async fn fifty_concurrent_commands_with_one_key_append_once() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = place_order(&service).await;
    let path = format!("/orders/{id}/cancel");
    let answers = burst(
        &service,
        &path,
        &json!({"reason": "duplicate order"}),
        "cancel-once",
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["version"], 2, "{body}");
        assert_eq!(body["status"], "cancelled");
    }
    assert_eq!(service.event_count().await, 2);
}

#[tokio::test]
async fn two_clients_racing_on_one_version_get_one_success_and_one_conflict() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    for _ in 0..5 {
        let id = place_order(&service).await;
        let path = format!("/orders/{id}/cancel");
        let send = |reason: &'static str| {
            let request = service
                .post(&path, &json!({"reason": reason}))
                .header("If-Match", "1");
            async move {
                let response = request.send().await.expect("request");
                let status = response.status();
                (status, response.json::<Value>().await.expect("JSON body"))
            }
        };
        let (a, b) = tokio::join!(send("client a"), send("client b"));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{a:?} {b:?}"
        );
        let conflict = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert_eq!(conflict["type"], "urn:keel:problem:version-conflict");
        assert_eq!(conflict["current_version"], 2);
    }
    assert_eq!(service.event_count().await, 10);
}
