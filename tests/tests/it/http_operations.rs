//! What operators see: health, metrics by route template, the OpenAPI document matching the
//! routes, and a graceful stop.

use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::StatusCode;
use serde_json::Value;

use crate::http_support::{expect_json, place_order};

#[tokio::test]
async fn metrics_count_requests_by_route_template_appends_and_conflicts() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = place_order(&service).await;
    service.get(&format!("/orders/{id}")).send().await.unwrap();
    let response = service
        .post(
            &format!("/orders/{id}/cancel"),
            &serde_json::json!({"reason": "x"}),
        )
        .header("If-Match", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let response = service
        .client
        .get(service.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        r#"keel_http_requests_total{method="POST",route="/orders",status="201"} 1"#,
        r#"keel_http_requests_total{method="GET",route="/orders/{id}",status="200"} 1"#,
        r#"keel_http_request_errors_total{method="POST",route="/orders/{id}/cancel",status="409"} 1"#,
        r#"keel_http_request_duration_seconds_count{method="POST",route="/orders"} 1"#,
        r#"keel_events_appended_total{stream_type="order"} 1"#,
        r#"keel_command_conflicts_total{stream_type="order"} 1"#,
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(!text.contains(&id), "raw paths must not become labels");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    for (kind, paths) in [
        (
            ServiceKind::Orders,
            &[
                "/orders",
                "/orders/{id}",
                "/orders/{id}/events",
                "/orders/{id}/payment-authorized",
                "/orders/{id}/confirm",
                "/orders/{id}/ship",
                "/orders/{id}/deliver",
                "/orders/{id}/cancel",
            ][..],
        ),
        (
            ServiceKind::Payments,
            &[
                "/payments",
                "/payments/{id}",
                "/payments/{id}/events",
                "/payments/{id}/authorize",
                "/payments/{id}/decline",
                "/payments/{id}/capture",
                "/payments/{id}/refund",
                "/payments/{id}/void",
            ][..],
        ),
    ] {
        let service = TestService::spawn(kind).await;
        let response = service
            .client
            .get(service.url("/openapi.json"))
            .send()
            .await
            .unwrap();
        let doc: Value = expect_json(response, StatusCode::OK).await;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let documented = doc["paths"].as_object().unwrap();
        for path in
            paths
                .iter()
                .chain(&["/health/live", "/health/ready", "/metrics", "/openapi.json"])
        {
            assert!(
                documented.contains_key(*path),
                "{kind}: {path} not documented"
            );
        }
        assert_eq!(
            documented.len(),
            paths.len() + 4,
            "{kind}: undocumented extras"
        );
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}

#[tokio::test]
async fn a_stopped_service_finishes_and_exits_cleanly() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    place_order(&service).await;
    let url = service.url("/health/live");
    let client = service.client.clone();
    service
        .stop()
        .await
        .expect("the server stops without error");
    assert!(client.get(url).send().await.is_err(), "no longer accepting");
}
