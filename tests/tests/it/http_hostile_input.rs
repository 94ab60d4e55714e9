//! Hostile bodies on every command route of both services: NUL, lone surrogates, 10,000
//! character values, 10,000 levels of nesting, whitespace-only Unicode and control characters
//! in every field, arrays where an object belongs. Each is refused with a 400 (naming the field where the JSON parses), never a
//! 5xx, and a refused request appends nothing.

use keel_services::ServiceKind;
use keel_tests::TestService;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http_support::{order_body, payment_body, place_order};

/// Stands for the hostile value in a serialised body; replaced by the raw JSON token.
const MARK: &str = "\u{E000}hostile\u{E000}";

/// A hostile value as raw JSON text (escapes such as `\u0000` are sent as written), and
/// whether the body still parses as JSON (then the problem names the field).
struct Hostile {
    name: &'static str,
    json: String,
    parses: bool,
}

fn hostile_values() -> Vec<Hostile> {
    let value = |name, json: &str| Hostile {
        name,
        json: json.to_owned(),
        parses: true,
    };
    let unparsable = |name, json: String| Hostile {
        name,
        json,
        parses: false,
    };
    vec![
        value("NUL inside", r#""nul\u0000x""#),
        value("NUL alone", r#""\u0000""#),
        unparsable("lone high surrogate", r#""\ud800""#.to_owned()),
        unparsable("lone low surrogate", r#""x\udc00y""#.to_owned()),
        unparsable("reversed surrogate pair", r#""\udc00\ud800""#.to_owned()),
        value(
            "10,000 ASCII characters",
            &format!("\"{}\"", "x".repeat(10_000)),
        ),
        value(
            "10,000 non-ASCII characters",
            &format!("\"{}\"", "é".repeat(10_000)),
        ),
        unparsable(
            "10,000 levels of nesting",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        unparsable("10,000 unclosed levels", "[".repeat(10_000)),
        value(
            "Unicode whitespace only",
            r#""\u00a0\u1680\u2003\u2028\u2029\u202f\u205f\u3000""#,
        ),
        value("NEL only", r#""\u0085""#),
        value("ASCII whitespace only", r#"" \t\r\n ""#),
        value("BEL", r#""ding\u0007""#),
        value("ESC sequence", r#""\u001b[31mred\u001b[0m""#),
        value("newline inside", r#""two\nlines""#),
        value("tab inside", r#""a\tb""#),
        value("DEL", r#""del\u007f""#),
        value("unit separator", r#""a\u001fb""#),
    ]
}

/// A command route, a valid body for it, and the body's fields as (JSON pointer, the field
/// name a problem gives).
struct Route {
    path: String,
    body: Value,
    fields: Vec<(&'static str, &'static str)>,
}

/// Sends `raw` and checks the answer: a 400 problem (naming `field` when given), nothing
/// appended.
async fn expect_refused(
    service: &TestService,
    path: &str,
    raw: String,
    field: Option<&str>,
    case: &str,
) {
    let before = service.event_count().await;
    let response = service
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(!status.is_server_error(), "{case}: {status} {text}");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {text}");
    let problem: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {text}"));
    if let Some(field) = field {
        assert_eq!(problem["field"], field, "{case}: {text}");
    }
    assert_eq!(
        service.event_count().await,
        before,
        "{case}: appended events"
    );
}

async fn attack(service: &TestService, routes: &[Route]) {
    let hostile = hostile_values();
    for route in routes {
        // The hostile value in each field.
        for (pointer, field) in &route.fields {
            let mut body = route.body.clone();
            *body.pointer_mut(pointer).expect("the field exists") = json!(MARK);
            let template = body.to_string();
            let mark = json!(MARK).to_string();
            for value in &hostile {
                let raw = template.replace(&mark, &value.json);
                let case = format!("POST {} with {} in `{field}`", route.path, value.name);
                let field = value.parses.then_some(*field);
                expect_refused(service, &route.path, raw, field, &case).await;
            }
        }
        // The hostile value as an extra field, and as the whole body.
        for value in &hostile {
            let mut body = route.body.clone();
            body["extra"] = json!(MARK);
            let raw = body
                .to_string()
                .replace(&json!(MARK).to_string(), &value.json);
            let case = format!(
                "POST {} with {} in an unknown field",
                route.path, value.name
            );
            expect_refused(service, &route.path, raw, None, &case).await;
            let case = format!("POST {} with {} as the body", route.path, value.name);
            expect_refused(service, &route.path, value.json.clone(), None, &case).await;
        }
        // Arrays where the schema has an object: serde alone would read a struct from them.
        let values: Vec<Value> = route
            .body
            .as_object()
            .into_iter()
            .flat_map(|o| o.values().cloned())
            .collect();
        for raw in [
            "[]".to_owned(),
            "[{}]".to_owned(),
            Value::Array(values).to_string(),
        ] {
            let case = format!("POST {} with the array {raw} as the body", route.path);
            expect_refused(service, &route.path, raw, None, &case).await;
        }
    }
}

#[tokio::test]
async fn the_order_service_refuses_hostile_bodies_without_a_5xx_or_an_event() {
    let service = TestService::spawn(ServiceKind::Orders).await;
    let id = place_order(&service).await;
    let on = |command: &str| format!("/orders/{id}/{command}");
    let routes = [
        Route {
            path: "/orders".into(),
            body: order_body(),
            fields: vec![
                ("/customer_id", "customer_id"),
                ("/customer_name", "customer_name"),
                ("/currency", "currency"),
                ("/lines/0/sku", "lines[0].sku"),
                ("/lines/0/name", "lines[0].name"),
                ("/lines/1/quantity", "lines[1].quantity"),
                ("/lines/1/unit_price", "lines[1].unit_price"),
            ],
        },
        Route {
            path: on("payment-authorized"),
            body: json!({"payment_id": uuid::Uuid::new_v4()}),
            fields: vec![("/payment_id", "payment_id")],
        },
        Route {
            path: on("confirm"),
            body: json!({}),
            fields: vec![],
        },
        Route {
            path: on("ship"),
            body: json!({"carrier": "DHL", "tracking_number": "JD1"}),
            fields: vec![
                ("/carrier", "carrier"),
                ("/tracking_number", "tracking_number"),
            ],
        },
        Route {
            path: on("deliver"),
            body: json!({}),
            fields: vec![],
        },
        Route {
            path: on("cancel"),
            body: json!({"reason": "changed my mind"}),
            fields: vec![("/reason", "reason")],
        },
    ];
    attack(&service, &routes).await;
    assert_eq!(
        service.event_count().await,
        1,
        "only the order placed first"
    );
}

#[tokio::test]
async fn the_payment_service_refuses_hostile_bodies_without_a_5xx_or_an_event() {
    let service = TestService::spawn(ServiceKind::Payments).await;
    let order_id = uuid::Uuid::new_v4().to_string();
    let response = service
        .post("/payments", &payment_body(&order_id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let on = |command: &str| format!("/payments/{id}/{command}");
    let routes = [
        Route {
            path: "/payments".into(),
            body: payment_body(&order_id),
            fields: vec![
                ("/order_id", "order_id"),
                ("/amount", "amount"),
                ("/currency", "currency"),
            ],
        },
        Route {
            path: on("authorize"),
            body: json!({"authorisation_code": "A1B2"}),
            fields: vec![("/authorisation_code", "authorisation_code")],
        },
        Route {
            path: on("decline"),
            body: json!({"reason": "insufficient funds"}),
            fields: vec![("/reason", "reason")],
        },
        Route {
            path: on("capture"),
            body: json!({"amount": 100}),
            fields: vec![("/amount", "amount")],
        },
        Route {
            path: on("refund"),
            body: json!({"amount": 100}),
            fields: vec![("/amount", "amount")],
        },
        Route {
            path: on("void"),
            body: json!({}),
            fields: vec![],
        },
    ];
    attack(&service, &routes).await;
    assert_eq!(
        service.event_count().await,
        1,
        "only the payment requested first"
    );
}
