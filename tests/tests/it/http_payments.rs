//! The payment service over HTTP: request, authorise, capture, refund; decline and void; the
//! payments of an order.

use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::http_support::{expect_json, payment_body};

async fn request_payment(service: &TestService, order_id: &str) -> String {
    let response = service
        .post("/payments", &payment_body(order_id))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body = expect_json(response, StatusCode::CREATED).await;
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/payments/{id}"));
    assert_eq!(body["status"], "requested");
    assert_eq!(body["requested"], 2797);
    id
}

async fn command(service: &TestService, id: &str, name: &str, body: Value) -> Value {
    let response = service
        .post(&format!("/payments/{id}/{name}"), &body)
        .send()
        .await
        .unwrap();
    expect_json(response, StatusCode::OK).await
}

#[tokio::test]
async fn a_payment_is_authorised_captured_and_refunded() {
    let service = TestService::spawn(ServiceKind::Payments).await;
    let order_id = uuid::Uuid::new_v4().to_string();
    let id = request_payment(&service, &order_id).await;

    let authorised = command(
        &service,
        &id,
        "authorize",
        json!({"authorisation_code": "A1B2"}),
    )
    .await;
    assert_eq!(authorised["status"], "authorised");
    assert_eq!(authorised["authorised"], 2797);
    assert_eq!(authorised["authorisation_code"], "A1B2");
    let captured = command(&service, &id, "capture", json!({"amount": 2797})).await;
    assert_eq!(captured["status"], "captured");
    assert_eq!(captured["captured"], 2797);
    let refunded = command(&service, &id, "refund", json!({"amount": 797})).await;
    assert_eq!(refunded["refunded"], 797);
    assert_eq!(refunded["version"], 4);

    let response = service
        .get(&format!("/payments/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"4\"");
    assert_eq!(expect_json(response, StatusCode::OK).await, refunded);
    let response = service
        .get(&format!("/payments/{id}?at_version=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(response, StatusCode::OK).await, authorised);
    let response = service
        .get(&format!("/payments/{id}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(response, StatusCode::OK).await["events"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn payments_are_declined_or_voided_and_listed_by_order() {
    let service = TestService::spawn(ServiceKind::Payments).await;
    let order_id = uuid::Uuid::new_v4().to_string();
    let declined = request_payment(&service, &order_id).await;
    let voided = request_payment(&service, &order_id).await;
    let other_order = request_payment(&service, &uuid::Uuid::new_v4().to_string()).await;

    let body = command(
        &service,
        &declined,
        "decline",
        json!({"reason": "insufficient funds"}),
    )
    .await;
    assert_eq!(body["status"], "declined");
    assert_eq!(body["decline_reason"], "insufficient funds");
    command(&service, &voided, "authorize", json!({})).await;
    let response = service
        .request(reqwest::Method::POST, &format!("/payments/{voided}/void"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(response, StatusCode::OK).await["status"],
        "voided"
    );

    let response = service
        .get(&format!("/payments?order_id={order_id}"))
        .send()
        .await
        .unwrap();
    let list = expect_json(response, StatusCode::OK).await;
    let ids: Vec<&str> = list["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [declined.as_str(), voided.as_str()]);
    assert!(!ids.contains(&other_order.as_str()));
    assert_eq!(list["payments"][0]["status"], "declined");

    let response = service
        .get(&format!("/payments?order_id={}", uuid::Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(response, StatusCode::OK).await["payments"],
        json!([])
    );
}
