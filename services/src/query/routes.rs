//! The query service's handlers: turn the query string into a search, the search into an
//! Elasticsearch request, and its answer into JSON.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;

use super::client::SearchClient;
use super::dto::{OrderHit, SearchResults};
use super::error::QueryError;
use super::params::SearchParams;
use super::search;
use crate::error::ApiError;
use crate::http::extract::IdPath;
use crate::http::problem::Problem;
use crate::http::response;

/// Search orders.
///
/// Full text (`q`), filters, a sort and a page over the search model. `total` counts every
/// match exactly. The model follows the order service a moment behind (the projector's lag).
/// Any parameter the document does not list, given twice, or out of range is 400 naming it.
#[utoipa::path(
    get, path = "/search/orders", tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of matching orders", body = SearchResults),
        (status = 400, description = "A query parameter is malformed, unknown, repeated, out of range, or the page is too deep", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the `queries` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Elasticsearch is unreachable, overloaded or too slow", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn search_orders(
    State(client): State<SearchClient>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchResults>, QueryError> {
    // As pairs, not a map: a repeated or unknown parameter is seen and refused, not lost.
    let Query(pairs) = query.map_err(|e| ApiError::InvalidQuery {
        field: None,
        detail: e.body_text(),
    })?;
    let params = SearchParams::parse(&pairs)?;
    let page = client.search(search::request_body(&params)).await?;
    Ok(Json(SearchResults {
        total: page.total,
        page: params.page(),
        per_page: params.per_page(),
        hits: page.hits,
    }))
}

/// An order as the search model holds it.
///
/// A real-time read of the order's document (it sees a projected event before the index
/// refreshes), for checking how far the model has caught up: `version` (also the `ETag`) is
/// the order stream's version it reflects. 404 until the projector has seen the order.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "search",
    params(("id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order's document", body = OrderHit,
         headers(("ETag" = String, description = "The version the document reflects, quoted"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the `queries` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The search model holds no such order (yet)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Elasticsearch is unreachable, overloaded or too slow", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn get_order(
    State(client): State<SearchClient>,
    IdPath(id): IdPath,
) -> Result<Response, QueryError> {
    let hit = client.get(id).await?.ok_or_else(|| ApiError::NotFound {
        what: "order",
        id: id.to_string(),
    })?;
    let version = hit.version;
    Ok(response::state(StatusCode::OK, hit, version, false, None))
}
