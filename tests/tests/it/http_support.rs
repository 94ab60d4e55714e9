//! Request bodies and checks shared by the `http_*` tests.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use keel_tests::TestService;

pub fn order_body() -> Value {
    json!({
        "customer_id": "0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59",
        "customer_name": "Ada Lovelace",
        "currency": "EUR",
        "lines": [
            {"sku": "SKU-1", "name": "Notebook", "quantity": 2, "unit_price": 1250},
            {"sku": "SKU-2", "name": "Pencil", "quantity": 3, "unit_price": 99}
        ]
    })
}

pub fn payment_body(order_id: &str) -> Value {
    json!({"order_id": order_id, "amount": 2797, "currency": "EUR"})
}

/// The JSON body of a response that must have `status`.
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A problem response: the status, `application/problem+json`, and the `type` slug.
pub async fn expect_problem(response: Response, status: StatusCode, slug: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = expect_json(response, status).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["type"], format!("urn:keel:problem:{slug}"), "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body
}

/// Places an order and returns its id.
pub async fn place_order(service: &TestService) -> String {
    let response = service
        .post("/orders", &order_body())
        .send()
        .await
        .expect("POST /orders");
    let body = expect_json(response, StatusCode::CREATED).await;
    body["id"].as_str().expect("id").to_owned()
}

/// Sends a command to an existing order and returns the new state.
pub async fn order_command(service: &TestService, id: &str, command: &str, body: Value) -> Value {
    let response = service
        .post(&format!("/orders/{id}/{command}"), &body)
        .send()
        .await
        .expect("command");
    expect_json(response, StatusCode::OK).await
}
