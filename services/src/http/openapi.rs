//! The OpenAPI document, generated from the route annotations (utoipa), at `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::health::{self, Health};
use super::metrics;
use super::problem::Problem;

/// The name of the bearer security scheme that API routes refer to.
pub const BEARER: &str = "bearer";

/// Routes every service has.
#[derive(OpenApi)]
#[openapi(
    paths(health::live, health::ready, metrics::metrics, openapi_json),
    components(schemas(Problem, Health)),
    modifiers(&BearerScheme),
    tags((name = "operations", description = "Health, metrics and this document; no token needed"))
)]
pub struct OperationsApi;

struct BearerScheme;

const BEARER_DESCRIPTION: &str = "HS256 JWT with `sub` (the actor), `exp`, `iss` and `aud` \
(both `keel` unless configured: JWT_ISSUER, JWT_AUDIENCE) and `scope`, space-separated: \
`commands` for the POST command routes, `queries` for the GET reads, `operator` for operator \
routes. A missing, forged or expired token, or one for another issuer or audience, is 401; a \
valid token without the scope a route needs is 403. `keel token --scope \"commands queries\"` \
mints one.";

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(BEARER_DESCRIPTION))
                    .build(),
            ),
        );
    }
}

/// A service's document: its own API merged with the operations routes.
pub fn document(mut api: utoipa::openapi::OpenApi, title: &str) -> utoipa::openapi::OpenApi {
    api.merge(OperationsApi::openapi());
    api.info.title = title.to_owned();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api.info.description = Some(
        "Errors are `application/problem+json` (RFC 9457) with a stable `type`. Commands take \
         an optional `Idempotency-Key` and `If-Match: <version>`. Text fields refuse ASCII \
         control characters (U+0000–U+001F, U+007F) and values that are only whitespace (400); \
         money is in integer minor units up to 2^53 − 1. A command the aggregate's state \
         refuses (e.g. confirming an order whose payment is not authorised) is 422 with a \
         `urn:keel:problem:rule:<rule>` type."
            .to_owned(),
    );
    api
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document of this service", content_type = "application/json"))
)]
pub async fn openapi_json(State(doc): State<Arc<str>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

pub fn router(doc: utoipa::openapi::OpenApi) -> Router {
    // Serialising a document that utoipa built cannot fail; an empty one would show it did.
    let json = serde_json::to_string(&doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "OpenAPI document not serialisable");
        "{}".to_owned()
    });
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .with_state(Arc::from(json))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::http::command::{if_match, IF_MATCH_PATTERN};
    use crate::http::validate::TEXT_PATTERN;

    fn documents() -> Vec<Value> {
        [crate::orders::openapi(), crate::payments::openapi()]
            .iter()
            .map(|doc| serde_json::to_value(doc).unwrap())
            .collect()
    }

    /// Every operation of the services' own APIs, as (path, method, operation).
    fn api_operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if operation["tags"][0] != "operations" {
                    out.push((path.clone(), method.clone(), operation.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn optional_headers_are_strings_never_null() {
        for doc in documents() {
            for (path, method, operation) in api_operations(&doc) {
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let schema = &parameter["schema"];
                    assert!(
                        schema["type"].is_string(),
                        "{method} {path} {}: {schema}",
                        parameter["name"]
                    );
                    if parameter["name"] == "If-Match" {
                        assert_eq!(schema["pattern"], IF_MATCH_PATTERN);
                    }
                }
            }
        }
    }

    /// The documented If-Match pattern and the parser agree on the values schemathesis found
    /// and on the obvious ones.
    #[test]
    fn the_if_match_pattern_is_what_the_parser_accepts() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
        for raw in [
            "0",
            "7",
            "\"7\"",
            "*",
            "\"0978",
            "7264\"",
            "null",
            "+3",
            "W/\"3\"",
            "1 2",
            "123456789012345678",
            "1234567890123456789",
            "\"\"",
            "**",
            "-1",
        ] {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::IF_MATCH, raw.parse().unwrap());
            assert_eq!(
                pattern.is_match(raw),
                if_match(&headers).is_ok(),
                "If-Match: {raw}"
            );
        }
    }

    /// Each text property of a request body carries the pattern of `validate::text`.
    #[test]
    fn text_fields_document_what_the_service_accepts() {
        let mut texts = 0;
        for doc in documents() {
            for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
                if !name.ends_with("Request") {
                    continue;
                }
                for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                    if property.get("maxLength").is_some() {
                        assert_eq!(property["pattern"], TEXT_PATTERN, "{name}.{field}");
                        assert_eq!(property["minLength"], 1, "{name}.{field}");
                        texts += 1;
                    }
                }
            }
        }
        // customer_name, sku, name, carrier, tracking_number, reason; authorisation_code, reason.
        assert_eq!(texts, 8);
    }

    #[test]
    fn every_api_route_needs_a_scope_and_documents_403() {
        for doc in documents() {
            for (path, method, operation) in api_operations(&doc) {
                let scope = if method == "get" {
                    "queries"
                } else {
                    "commands"
                };
                assert_eq!(
                    operation["security"],
                    serde_json::json!([{ "bearer": [scope] }]),
                    "{method} {path}"
                );
                for status in ["401", "403"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} documents {status}"
                    );
                }
                if method == "post" {
                    assert!(operation["responses"]["422"].is_object(), "{method} {path}");
                }
            }
            let scheme = doc["components"]["securitySchemes"]["bearer"]["description"]
                .as_str()
                .unwrap();
            assert!(scheme.contains("`commands`") && scheme.contains("`queries`"));
        }
    }
}
