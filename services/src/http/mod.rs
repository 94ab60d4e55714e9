//! The HTTP plumbing shared by the command services: problem responses, authentication,
//! request context and tracing, idempotency, metrics, health and the OpenAPI document.

pub mod auth;
pub mod command;
pub mod context;
pub mod deadline;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod response;
mod trace_context;
pub mod validate;

use std::any::Any;

use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::{middleware, Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use auth::JwtKeys;
use command::BodyLimit;
use metrics::Metrics;

/// What every service's router has besides its own API routes.
pub struct Common {
    pub keys: JwtKeys,
    pub metrics: Metrics,
    /// `/health/live` and `/health/ready` of what this service depends on.
    pub health: Router,
    pub openapi: utoipa::openapi::OpenApi,
    pub max_body_bytes: usize,
    pub request_timeout: std::time::Duration,
}

/// The service's router: `api` behind bearer authentication, health, metrics and the
/// OpenAPI document open, and problem responses for unknown routes and methods.
pub fn assemble(api: Router, common: Common) -> Router {
    let api = api
        .route_layer(middleware::from_fn_with_state(
            common.keys,
            auth::require_bearer,
        ))
        .route_layer(middleware::from_fn_with_state(
            common.request_timeout,
            deadline::bound,
        ));
    Router::new()
        .merge(api)
        .merge(common.health)
        .merge(metrics::router(common.metrics.clone()))
        .merge(openapi::router(common.openapi))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(context::observe))
        .layer(middleware::from_fn_with_state(
            common.metrics,
            metrics::track,
        ))
        .layer(Extension(BodyLimit(common.max_body_bytes)))
        .layer(DefaultBodyLimit::max(common.max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
}

async fn route_not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::RouteNotFound {
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}
