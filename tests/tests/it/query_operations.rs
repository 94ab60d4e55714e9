//! The query service's operator surface: health, metrics per route template, the OpenAPI
//! document, unknown routes and methods, and graceful shutdown.

use keel_tests::{order_document, TestQueryService};
use reqwest::StatusCode;
use serde_json::Value;

use crate::http_support::{expect_json, expect_problem};

#[tokio::test]
async fn health_metrics_and_openapi_are_open() {
    let service = TestQueryService::spawn().await;
    let document = order_document("Ada", "2025-01-01T00:00:00Z", &[("A", "B", 1, 1)]);
    service.index().put(std::slice::from_ref(&document)).await;

    for path in ["/health/live", "/health/ready"] {
        let response = service.client.get(service.url(path)).send().await.unwrap();
        assert_eq!(expect_json(response, StatusCode::OK).await["status"], "ok");
    }

    service.search("q=ada").await;
    service.search("status=placed").await;
    let id = document.order_id;
    let response = service.get(&format!("/orders/{id}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = service.get("/search/orders?page=0").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let metrics = service
        .client
        .get(service.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"keel_http_requests_total{method="GET",route="/search/orders",status="200"} 2"#,
        r#"keel_http_requests_total{method="GET",route="/search/orders",status="400"} 1"#,
        r#"keel_http_requests_total{method="GET",route="/orders/{id}",status="200"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    assert!(!metrics.contains(&id.to_string()), "templates, not paths");

    let response = service
        .client
        .get(service.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    let doc: Value = expect_json(response, StatusCode::OK).await;
    assert_eq!(doc["info"]["title"], "keel query service");
    let search = &doc["paths"]["/search/orders"]["get"];
    let parameters: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        parameters,
        [
            "q",
            "status",
            "customer_id",
            "placed_from",
            "placed_to",
            "min_total",
            "max_total",
            "sort",
            "page",
            "per_page"
        ]
    );
    assert!(doc["paths"]["/orders/{id}"]["get"].is_object());
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let service = TestQueryService::spawn().await;
    let response = service.get("/search/payments").send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "route-not-found").await;
    let response = service
        .client
        .post(service.url("/search/orders"))
        .bearer_auth(&service.token)
        .send()
        .await
        .unwrap();
    expect_problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    )
    .await;
}

#[tokio::test]
async fn stops_gracefully() {
    let service = TestQueryService::spawn().await;
    service.search("").await;
    let url = service.url("/health/live");
    let client = service.client.clone();
    service.stop().await.expect("a clean stop");
    assert!(client.get(url).send().await.is_err(), "no longer listening");
}
