//! Every error status of the command services: a problem body with a stable type, the
//! field at fault where there is one, and nothing appended.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use keel_services::http::auth::Scope;
use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::http_support::{expect_problem, order_body, place_order};

#[tokio::test]
async fn malformed_bodies_are_400_with_the_field_at_fault() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let before = service.event_count().await;

    let response = service
        .request(Method::POST, "/orders")
        .header("content-type", "application/json")
        .body("{\"customer_id\": ")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST, "malformed-body").await;

    let mut body = order_body();
    body["lines"][1]["quantity"] = json!("two");
    let response = service.post("/orders", &body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "malformed-body").await;
    assert_eq!(problem["field"], "lines[1].quantity");

    let mut body = order_body();
    body.as_object_mut().unwrap().remove("customer_name");
    let response = service.post("/orders", &body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "malformed-body").await;
    assert_eq!(problem["field"], "customer_name");

    let mut body = order_body();
    body["surprise"] = json!(1);
    let response = service.post("/orders", &body).send().await.unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST, "malformed-body").await;

    let mut body = order_body();
    body["lines"][0]["quantity"] = json!(0);
    let response = service.post("/orders", &body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "invalid-field").await;
    assert_eq!(problem["field"], "lines[0].quantity");

    let mut body = order_body();
    body["currency"] = json!("eur");
    let response = service.post("/orders", &body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "invalid-field").await;
    assert_eq!(problem["field"], "currency");

    let response = service.get("/orders/not-a-uuid").send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "invalid-path-parameter").await;
    assert_eq!(problem["field"], "id");

    let id = place_order(&service).await;
    let response = service
        .get(&format!("/orders/{id}?at_version=x"))
        .send()
        .await
        .unwrap();
    let problem =
        expect_problem(response, StatusCode::BAD_REQUEST, "invalid-query-parameter").await;
    assert_eq!(problem["field"], "at_version");

    for (header, value) in [
        ("If-Match", "version-3"),
        ("Idempotency-Key", "has space"),
        ("X-Correlation-Id", "nope"),
    ] {
        let response = service
            .post(&format!("/orders/{id}/confirm"), &json!({}))
            .header(header, value)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::BAD_REQUEST, "invalid-header").await;
        assert_eq!(problem["field"], format!("header:{header}"));
    }
    assert_eq!(
        service.event_count().await,
        before + 1,
        "only the one order placed"
    );
}

#[tokio::test]
async fn missing_forged_expired_and_unsigned_tokens_are_401() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    // Otherwise valid claims, so each case fails for the one reason it names.
    let claims = |exp: u64| json!({"sub": "mallory", "exp": exp, "iss": "keel", "aud": "keel", "scope": "commands queries"});
    let far = 4_000_000_000u64;
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(far),
        &EncodingKey::from_secret(b"another key"),
    )
    .unwrap();
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(1_000),
        &EncodingKey::from_secret(keel_tests::TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    // {"alg":"none"}.{"sub":"mallory","exp":4000000000}.
    let unsigned =
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtYWxsb3J5IiwiZXhwIjo0MDAwMDAwMDAwfQ.";
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(far),
        &EncodingKey::from_secret(keel_tests::TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();

    let url = service.url("/orders");
    let cases = [
        ("missing", None),
        ("not bearer", Some("Basic a2VlbDprZWVs".to_owned())),
        ("forged", Some(format!("Bearer {forged}"))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("alg none", Some(format!("Bearer {unsigned}"))),
        ("other algorithm", Some(format!("Bearer {hs512}"))),
        ("garbage", Some("Bearer abc.def".to_owned())),
    ];
    for (case, authorization) in cases {
        let mut request = service.client.post(&url).json(&order_body());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{case}"
        );
        let problem = expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert_eq!(problem["field"], "header:Authorization", "{case}");
    }
    let response = service
        .client
        .get(service.url(&format!("/orders/{}", uuid::Uuid::new_v4())))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(service.event_count().await, 0);

    // Health, metrics and the OpenAPI document stay open.
    for path in ["/health/live", "/health/ready", "/metrics", "/openapi.json"] {
        let response = service.client.get(service.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

/// A token signed with the test key holding exactly `claims`.
fn signed(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(keel_tests::TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn tokens_for_another_audience_or_issuer_are_401_and_missing_scopes_403() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = place_order(&service).await;
    let before = service.event_count().await;
    let far = 4_000_000_000u64;
    let claims = |iss: Option<&str>, aud: Option<&str>| {
        let mut claims = json!({"sub": "mallory", "exp": far, "scope": "commands queries"});
        if let Some(iss) = iss {
            claims["iss"] = json!(iss);
        }
        if let Some(aud) = aud {
            claims["aud"] = json!(aud);
        }
        signed(claims)
    };
    for (case, token, says) in [
        (
            "wrong audience",
            claims(Some("keel"), Some("billing")),
            "audience (`aud`) must be `keel`",
        ),
        ("no audience", claims(Some("keel"), None), "no `aud` claim"),
        (
            "wrong issuer",
            claims(Some("mallory"), Some("keel")),
            "not issued by `keel`",
        ),
        ("no issuer", claims(None, Some("keel")), "no `iss` claim"),
    ] {
        let response = service
            .client
            .post(service.url("/orders"))
            .bearer_auth(&token)
            .json(&order_body())
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{case}: {detail}");
    }

    // A query-only token reads but cannot command; a command-only token cannot read.
    let queries = service.token_with(&[Scope::Queries]);
    let commands = service.token_with(&[Scope::Commands]);
    let response = service
        .client
        .get(service.url(&format!("/orders/{id}")))
        .bearer_auth(&queries)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for (path, body) in [
        ("/orders".to_owned(), order_body()),
        (
            format!("/orders/{id}/cancel"),
            json!({"reason": "not mine"}),
        ),
    ] {
        let response = service
            .client
            .post(service.url(&path))
            .bearer_auth(&queries)
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("`commands` scope"), "{detail}");
    }
    let response = service
        .client
        .get(service.url(&format!("/orders/{id}/events")))
        .bearer_auth(&commands)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("`queries` scope"));
    // No scope claim at all: nothing is allowed.
    let unscoped = signed(json!({"sub": "mallory", "exp": far, "iss": "keel", "aud": "keel"}));
    let response = service
        .client
        .get(service.url(&format!("/orders/{id}")))
        .bearer_auth(&unscoped)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        service.event_count().await,
        before,
        "refused commands append nothing"
    );
}

#[tokio::test]
async fn the_issuer_and_audience_are_configurable() {
    let service = TestService::spawn_with(ServiceKind::Payments, |config| {
        config.jwt.issuer = "https://auth.example".into();
        config.jwt.audience = "payments".into();
    })
    .await;
    // The helper's token is minted for the configured issuer and audience.
    let response = service
        .get(&format!("/payments?order_id={}", uuid::Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Tokens for the default issuer or audience are for someone else here.
    for (iss, aud, says) in [
        ("keel", "payments", "`https://auth.example`"),
        ("https://auth.example", "keel", "`payments`"),
    ] {
        let token = signed(json!({
            "sub": "a", "exp": 4_000_000_000u64, "iss": iss, "aud": aud, "scope": "queries"
        }));
        let response = service
            .client
            .get(service.url(&format!("/payments?order_id={}", uuid::Uuid::new_v4())))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "iss {iss}, aud {aud}: {detail}");
    }
}

#[tokio::test]
async fn unknown_ids_routes_and_versions_are_404_and_wrong_methods_405() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/orders/{unknown}"),
        format!("/orders/{unknown}/events"),
    ] {
        let response = service.get(&path).send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, "not-found").await;
    }
    let response = service
        .post(
            &format!("/orders/{unknown}/ship"),
            &json!({"carrier": "DHL", "tracking_number": "1"}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "not-found").await;
    let response = service
        .post(&format!("/orders/{unknown}/confirm"), &json!({}))
        .header("If-Match", "1")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "not-found").await;

    let id = place_order(&service).await;
    let response = service
        .get(&format!("/orders/{id}?at_version=2"))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::NOT_FOUND, "version-not-found").await;
    assert_eq!(problem["current_version"], 1);

    let response = service.get("/no/such/route").send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "route-not-found").await;
    let response = service
        .request(Method::DELETE, &format!("/orders/{id}"))
        .send()
        .await
        .unwrap();
    expect_problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    )
    .await;
    assert_eq!(service.event_count().await, 1);
}

#[tokio::test]
async fn a_stale_if_match_is_409_with_the_current_version() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = place_order(&service).await;
    let response = service
        .post(&format!("/orders/{id}/cancel"), &json!({"reason": "late"}))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::CONFLICT, "version-conflict").await;
    assert_eq!(problem["current_version"], 1);
    assert_eq!(service.event_count().await, 1);
}

#[tokio::test]
async fn oversized_and_non_json_bodies_are_413_and_415() {
    let service = TestService::spawn_with(ServiceKind::Orders, |c| c.max_body_bytes = 1024).await;
    let mut body = order_body();
    body["customer_name"] = json!("x".repeat(2000));
    let response = service.post("/orders", &body).send().await.unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;

    let response = service
        .request(Method::POST, "/orders")
        .header("content-type", "text/plain")
        .body(order_body().to_string())
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    assert_eq!(problem["field"], "header:Content-Type");
    assert_eq!(service.event_count().await, 0);
}

#[tokio::test]
async fn domain_rules_and_reused_keys_are_422() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let mut body = order_body();
    body["lines"] = json!([]);
    let response = service.post("/orders", &body).send().await.unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule:order-empty",
    )
    .await;
    assert_eq!(problem["field"], "lines");

    let id = place_order(&service).await;
    // Delivering an order that was never shipped breaks a rule of the order's life.
    let response = service
        .post(&format!("/orders/{id}/deliver"), &json!({}))
        .send()
        .await
        .unwrap();
    expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule:order-not-shipped",
    )
    .await;

    let response = service
        .post(&format!("/orders/{id}/cancel"), &json!({"reason": "one"}))
        .header("Idempotency-Key", "cancel-key")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let after_cancel = service.event_count().await;
    let response = service
        .post(&format!("/orders/{id}/cancel"), &json!({"reason": "two"}))
        .header("Idempotency-Key", "cancel-key")
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
    assert_eq!(problem["field"], "header:Idempotency-Key");
    assert_eq!(service.event_count().await, after_cancel);
    assert_eq!(after_cancel, 2);
}

#[tokio::test]
async fn readiness_fails_with_503_when_the_database_is_gone() {
    let service = TestService::spawn(ServiceKind::Payments).await;
    let response = service
        .client
        .get(service.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Drop the service's database under it (FORCE ends its connections).
    let name = service.db.name.clone();
    let admin = keel_tests::TestDatabase::create().await;
    let pool = admin.pool(1).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&pool)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = service
            .client
            .get(service.url("/health/ready"))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            expect_problem(response, StatusCode::SERVICE_UNAVAILABLE, "not-ready").await;
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still ready after the database was dropped"
        );
        tokio::task::yield_now().await;
    }
    let response = service
        .client
        .get(service.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
