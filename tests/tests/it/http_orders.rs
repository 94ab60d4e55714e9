//! The order service over HTTP: an order's whole life, reads, time travel and the audit trail.

use keel_services::http::idempotency;
use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::StatusCode;
use serde_json::json;

use crate::http_support::{expect_json, order_body, order_command};

#[tokio::test]
async fn an_order_is_placed_paid_confirmed_shipped_and_delivered() {
    let service = TestService::spawn(ServiceKind::Orders).await;

    let response = service
        .post("/orders", &order_body())
        .header("Idempotency-Key", "place-1")
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let placed = expect_json(response, StatusCode::CREATED).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/orders/{id}"));
    assert_eq!(placed["version"], 1);
    assert_eq!(placed["status"], "placed");
    assert_eq!(placed["total"], 2 * 1250 + 3 * 99);
    assert_eq!(placed["currency"], "EUR");

    let payment_id = "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a";
    let paid = order_command(
        &service,
        &id,
        "payment-authorized",
        json!({"payment_id": payment_id}),
    )
    .await;
    assert_eq!(paid["status"], "payment_authorised");
    assert_eq!(paid["payment_id"], payment_id);
    let confirmed = order_command(&service, &id, "confirm", json!({})).await;
    assert_eq!(confirmed["status"], "confirmed");
    let shipped = order_command(
        &service,
        &id,
        "ship",
        json!({"carrier": "DHL", "tracking_number": "JD0146"}),
    )
    .await;
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["shipment"]["tracking_number"], "JD0146");
    // A command without fields needs no body at all.
    let response = service
        .request(reqwest::Method::POST, &format!("/orders/{id}/deliver"))
        .send()
        .await
        .unwrap();
    let delivered = expect_json(response, StatusCode::OK).await;
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(delivered["version"], 5);

    let response = service.get(&location).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "\"5\"");
    let current = expect_json(response, StatusCode::OK).await;
    assert_eq!(current, delivered);

    // Time travel: the state as it was at version 3.
    let response = service
        .get(&format!("{location}?at_version=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"3\"");
    let then = expect_json(response, StatusCode::OK).await;
    assert_eq!(then, confirmed);

    let response = service
        .get(&format!("{location}/events"))
        .send()
        .await
        .unwrap();
    let trail = expect_json(response, StatusCode::OK).await;
    let types: Vec<&str> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "OrderPlaced",
            "PaymentAuthorised",
            "OrderConfirmed",
            "OrderShipped",
            "OrderDelivered"
        ]
    );
    assert_eq!(trail["version"], 5);
    let first = &trail["events"][0];
    // Fingerprints only: the raw subject and key never travel with the events.
    let scoped = idempotency::scoped_key("tester", "place-1");
    assert_eq!(
        first["metadata"]["actor"],
        idempotency::fingerprint("tester")
    );
    assert_eq!(
        first["metadata"]["idempotency_key"],
        idempotency::fingerprint(&scoped)
    );
}

#[tokio::test]
async fn a_placed_order_can_be_cancelled() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = crate::http_support::place_order(&service).await;
    let cancelled = order_command(
        &service,
        &id,
        "cancel",
        json!({"reason": "changed my mind"}),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancellation_reason"], "changed my mind");
}

#[tokio::test]
async fn trace_context_and_ids_go_into_the_event_metadata() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let correlation_id = "6a1f0e1c-3b6f-4e59-9f1e-2b7c3d4e5f60";
    let response = service
        .post("/orders", &order_body())
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("X-Correlation-Id", correlation_id)
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["x-correlation-id"], correlation_id);
    let placed = expect_json(response, StatusCode::CREATED).await;
    let id = placed["id"].as_str().unwrap();

    let response = service
        .get(&format!("/orders/{id}/events"))
        .send()
        .await
        .unwrap();
    let trail = expect_json(response, StatusCode::OK).await;
    let metadata = &trail["events"][0]["metadata"];
    assert_eq!(metadata["correlation_id"], correlation_id);
    assert_eq!(metadata["causation_id"], request_id.as_str());
    let traceparent = metadata["traceparent"].as_str().unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
    assert!(
        !traceparent.contains("00f067aa0ba902b7"),
        "a span of its own: {traceparent}"
    );
}

#[tokio::test]
async fn a_retried_command_returns_the_first_answer_without_new_events() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let send = || {
        service
            .post("/orders", &order_body())
            .header("Idempotency-Key", "retry-me")
            .send()
    };
    let first = send().await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_json(first, StatusCode::CREATED).await;
    let id = first["id"].as_str().unwrap().to_owned();
    order_command(&service, &id, "cancel", json!({"reason": "moved on"})).await;

    // The retry comes after the order moved on: it still gets the first answer (version 1).
    let retry = send().await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(
        retry.headers()["location"].to_str().unwrap(),
        format!("/orders/{id}")
    );
    assert_eq!(expect_json(retry, StatusCode::CREATED).await, first);
    assert_eq!(service.event_count().await, 2);

    // Keys belong to the caller: another subject's same key is a new request.
    let other = service
        .keys
        .mint(
            "someone-else",
            &keel_services::http::auth::Scopes::all(),
            std::time::Duration::from_secs(60),
        )
        .unwrap();
    let response = service
        .client
        .post(service.url("/orders"))
        .bearer_auth(other)
        .header("Idempotency-Key", "retry-me")
        .json(&order_body())
        .send()
        .await
        .unwrap();
    let theirs = expect_json(response, StatusCode::CREATED).await;
    assert_ne!(theirs["id"], first["id"]);
}

#[tokio::test]
async fn snapshots_follow_snapshot_every_and_reads_agree_with_replay() {
    let service = TestService::spawn_with(ServiceKind::Orders, |c| c.snapshot_every = 2).await;
    let id = crate::http_support::place_order(&service).await;
    order_command(
        &service,
        &id,
        "payment-authorized",
        json!({"payment_id": uuid::Uuid::new_v4()}),
    )
    .await;
    let confirmed = order_command(&service, &id, "confirm", json!({})).await;
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM snapshots")
        .fetch_one(&service.pool)
        .await
        .unwrap();
    assert_eq!(snapshots, 1, "one snapshot at version 2");
    let response = service.get(&format!("/orders/{id}")).send().await.unwrap();
    assert_eq!(expect_json(response, StatusCode::OK).await, confirmed);

    let service = TestService::spawn_with(ServiceKind::Orders, |c| c.snapshot_every = 0).await;
    let id = crate::http_support::place_order(&service).await;
    order_command(&service, &id, "cancel", json!({"reason": "no snapshots"})).await;
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM snapshots")
        .fetch_one(&service.pool)
        .await
        .unwrap();
    assert_eq!(snapshots, 0);
}
