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

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("HS256 JWT; `keel token` mints one for development"))
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
         an optional `Idempotency-Key` and `If-Match: <version>`."
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
