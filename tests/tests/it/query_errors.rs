//! Every refusal of the query service: a 400 naming each bad parameter, 401 without a
//! token, 403 without the `queries` scope, and 503 with `Retry-After` when Elasticsearch is
//! unreachable or too slow (or the request outlives its deadline).

use std::time::Duration;

use keel_services::http::auth::Scope;
use keel_tests::TestQueryService;
use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::http_support::expect_problem;

#[tokio::test]
async fn each_bad_parameter_is_a_400_naming_it() {
    let service = TestQueryService::spawn().await;
    let customer = "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a";
    let long_q = format!("q={}", "x".repeat(201));
    let customer_twice = format!("customer_id={customer}&customer_id={customer}");
    let cases = [
        ("size=10", "size"),
        ("q=a&q=b", "q"),
        (long_q.as_str(), "q"),
        ("status=lost", "status"),
        ("status=placed,shipped", "status"),
        ("status=", "status"),
        ("customer_id=42", "customer_id"),
        (customer_twice.as_str(), "customer_id"),
        ("placed_from=yesterday", "placed_from"),
        ("placed_from=2025-01-01", "placed_from"),
        // An unencoded `+` arrives as a space.
        ("placed_to=2025-01-01T00:00:00+01:00", "placed_to"),
        (
            "placed_from=2025-02-01T00:00:00Z&placed_to=2025-01-01T00:00:00Z",
            "placed_from",
        ),
        ("min_total=-1", "min_total"),
        ("min_total=1.5", "min_total"),
        ("max_total=9007199254740992", "max_total"),
        ("max_total=lots", "max_total"),
        ("min_total=5&max_total=4", "min_total"),
        ("sort=price", "sort"),
        ("sort=-relevance", "sort"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=101&per_page=100", "page"),
    ];
    for (query, field) in cases {
        let response = service
            .get(&format!("/search/orders?{query}"))
            .send()
            .await
            .unwrap();
        let problem =
            expect_problem(response, StatusCode::BAD_REQUEST, "invalid-query-parameter").await;
        assert_eq!(problem["field"], field, "?{query}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(field), "?{query}: {detail}");
    }
    let response = service
        .get("/search/orders?page=10001&per_page=1")
        .send()
        .await
        .unwrap();
    let problem =
        expect_problem(response, StatusCode::BAD_REQUEST, "invalid-query-parameter").await;
    assert_eq!(problem["field"], "page");
    let response = service
        .get("/search/orders?page=201&per_page=50")
        .send()
        .await
        .unwrap();
    let problem =
        expect_problem(response, StatusCode::BAD_REQUEST, "invalid-query-parameter").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("page too deep"),
        "{problem}"
    );
}

#[tokio::test]
async fn without_a_token_401_and_without_the_queries_scope_403() {
    let service = TestQueryService::spawn().await;
    let id = uuid::Uuid::new_v4();
    for path in ["/search/orders".to_owned(), format!("/orders/{id}")] {
        let response = service.client.get(service.url(&path)).send().await.unwrap();
        assert!(response.headers().contains_key("www-authenticate"));
        expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;

        let forged = service
            .client
            .get(service.url(&path))
            .bearer_auth("not.a.token")
            .send()
            .await
            .unwrap();
        expect_problem(forged, StatusCode::UNAUTHORIZED, "unauthorized").await;

        for scopes in [&[Scope::Commands][..], &[Scope::Operator], &[]] {
            let response = service
                .client
                .get(service.url(&path))
                .bearer_auth(service.token_with(scopes))
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
            assert!(
                problem["detail"].as_str().unwrap().contains("`queries`"),
                "{problem}"
            );
        }
    }
    // Bad parameters are not even looked at without a token.
    let response = service
        .client
        .get(service.url("/search/orders?per_page=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

async fn assert_unavailable(service: &TestQueryService, slug: &str) {
    let id = uuid::Uuid::new_v4();
    for path in ["/search/orders?q=ada".to_owned(), format!("/orders/{id}")] {
        let response = service.get(&path).send().await.unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "{path}: {retry_after:?}"
        );
        expect_problem(response, StatusCode::SERVICE_UNAVAILABLE, slug).await;
    }
}

#[tokio::test]
async fn elasticsearch_unreachable_is_503_with_retry_after_and_not_ready() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let service = TestQueryService::spawn_on(&url, "orders", |_| {}).await;
    assert_unavailable(&service, "unavailable").await;

    let ready = service
        .client
        .get(service.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert!(ready.headers().contains_key("retry-after"));
    let problem = expect_problem(ready, StatusCode::SERVICE_UNAVAILABLE, "not-ready").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Elasticsearch") && detail.contains(&url),
        "{detail}"
    );
    let live = service
        .client
        .get(service.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

/// Accepts connections and never answers: a cluster that hangs.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test]
async fn elasticsearch_too_slow_is_503_timeout() {
    let (url, silent) = silent_server().await;
    let service = TestQueryService::spawn_on(&url, "orders", |config| {
        config.search_timeout = Duration::from_millis(300);
    })
    .await;
    assert_unavailable(&service, "timeout").await;
    let ready = service
        .client
        .get(service.url("/health/ready"))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(ready, StatusCode::SERVICE_UNAVAILABLE, "not-ready").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Elasticsearch"),
        "{problem}"
    );
    silent.abort();
}

/// The request's deadline holds even when the Elasticsearch timeout is longer.
#[tokio::test]
async fn the_request_deadline_bounds_a_search() {
    let (url, silent) = silent_server().await;
    let service = TestQueryService::spawn_on(&url, "orders", |config| {
        config.request_timeout = Duration::from_millis(200);
        config.search_timeout = Duration::from_secs(30);
    })
    .await;
    let started = std::time::Instant::now();
    assert_unavailable(&service, "timeout").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    silent.abort();
}
