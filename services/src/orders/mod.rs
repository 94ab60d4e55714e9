//! The order service: places orders and moves them through their life over HTTP, on its
//! own event store.

pub mod dto;
pub mod routes;

use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::http::openapi;
use routes::Orders;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::place, routes::get, routes::events, routes::payment_authorized,
        routes::confirm, routes::ship, routes::deliver, routes::cancel
    ),
    tags((name = "orders", description = "Order commands and reads; bearer token required"))
)]
struct OrdersApi;

/// The order routes (authentication is added by the caller).
pub fn router(orders: Orders) -> Router {
    Router::new()
        .route("/orders", post(routes::place))
        .route("/orders/{id}", get(routes::get))
        .route("/orders/{id}/events", get(routes::events))
        .route(
            "/orders/{id}/payment-authorized",
            post(routes::payment_authorized),
        )
        .route("/orders/{id}/confirm", post(routes::confirm))
        .route("/orders/{id}/ship", post(routes::ship))
        .route("/orders/{id}/deliver", post(routes::deliver))
        .route("/orders/{id}/cancel", post(routes::cancel))
        .with_state(orders)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::document(OrdersApi::openapi(), "keel order service")
}
