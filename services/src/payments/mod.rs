//! The payment service: requests, authorises, captures, refunds and voids payments over
//! HTTP, on its own event store.

mod by_order;
pub mod dto;
pub mod routes;

use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::http::openapi;
use routes::Payments;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::request, routes::list_by_order, routes::get, routes::events,
        routes::authorize, routes::decline, routes::capture, routes::refund, routes::void
    ),
    tags((name = "payments", description = "Payment commands and reads; bearer token required"))
)]
struct PaymentsApi;

/// The payment routes (authentication is added by the caller).
pub fn router(payments: Payments) -> Router {
    Router::new()
        .route(
            "/payments",
            post(routes::request).get(routes::list_by_order),
        )
        .route("/payments/{id}", get(routes::get))
        .route("/payments/{id}/events", get(routes::events))
        .route("/payments/{id}/authorize", post(routes::authorize))
        .route("/payments/{id}/decline", post(routes::decline))
        .route("/payments/{id}/capture", post(routes::capture))
        .route("/payments/{id}/refund", post(routes::refund))
        .route("/payments/{id}/void", post(routes::void))
        .with_state(payments)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::document(PaymentsApi::openapi(), "keel payment service")
}
