//! The query service's router: the search routes with the layers every service has
//! (`http::assemble`), and its own readiness (Elasticsearch).

use std::time::Duration;

use axum::routing::get;
use axum::Router;

use super::client::SearchClient;
use super::{health, routes};
use crate::http::auth::JwtKeys;
use crate::http::metrics::Metrics;
use crate::http::{assemble, Common};

/// Query strings only: no route takes a body.
const MAX_BODY_BYTES: usize = 1024;

/// The complete router of a query service reading through `client`.
pub fn router(client: SearchClient, keys: JwtKeys, request_timeout: Duration) -> Router {
    let api = Router::new()
        .route("/search/orders", get(routes::search_orders))
        .route("/orders/{id}", get(routes::get_order))
        .with_state(client.clone());
    assemble(
        api,
        Common {
            keys,
            metrics: Metrics::new(),
            health: health::router(client),
            openapi: super::openapi(),
            max_body_bytes: MAX_BODY_BYTES,
            request_timeout,
        },
    )
}
