//! `keel query-service`: the read side over the Elasticsearch search model (one document per
//! order behind an alias, filled by the search projector). Searches orders by text, status,
//! customer, date and total, sorted and paged with exact totals, and reads one order's
//! document for freshness checks. Same conventions as the command services: bearer JWT
//! (`queries` scope), problem responses, health, metrics, OpenAPI, a deadline per request.
//!
//! Layout: `config` (settings), `app` (bind and serve), `router` (layers), `routes`
//! (handlers), `params` (the query string), `choices` (statuses and sorts), `search` (the
//! Elasticsearch request body), `client` (Elasticsearch calls and their failures), `error`
//! (failures as problems), `dto` (JSON), `health`.

mod app;
mod choices;
mod client;
pub mod config;
pub mod dto;
mod error;
mod health;
pub mod params;
mod router;
mod routes;
mod search;

use utoipa::OpenApi;

pub use app::{QueryService, QueryStartupError};
pub use config::QueryConfig;

use crate::http::openapi;

#[derive(OpenApi)]
#[openapi(
    paths(routes::search_orders, routes::get_order),
    tags((name = "search", description = "Reads of the search model; bearer token with the `queries` scope required"))
)]
struct QueryApi;

const DESCRIPTION: &str = "Reads of the order search model, which follows the order and \
payment services a moment behind (the search projector's lag). Errors are \
`application/problem+json` (RFC 9457) with a stable `type`; a bad query parameter is 400 with \
the parameter in `field`. When Elasticsearch is unreachable or too slow the answer is 503 with \
`Retry-After`; before the first projection there is nothing to find (total 0), not an error.";

/// The query service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = openapi::document(QueryApi::openapi(), "keel query service");
    doc.info.description = Some(DESCRIPTION.to_owned());
    // The shared operations document describes a database check; this service checks
    // Elasticsearch instead.
    let ready = health::QueryHealthApi::openapi();
    if let Some(item) = ready.paths.paths.get("/health/ready") {
        doc.paths
            .paths
            .insert("/health/ready".to_owned(), item.clone());
    }
    doc
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(super::openapi()).unwrap()
    }

    #[test]
    fn every_route_needs_the_queries_scope_and_documents_its_refusals() {
        let doc = document();
        for path in ["/search/orders", "/orders/{id}"] {
            let operation = &doc["paths"][path]["get"];
            assert_eq!(
                operation["security"],
                serde_json::json!([{ "bearer": ["queries"] }]),
                "{path}"
            );
            for status in ["400", "401", "403", "503"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{path} {status}"
                );
            }
            assert!(operation["responses"]["503"]["headers"]["Retry-After"].is_object());
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        for operations in ["/health/live", "/metrics", "/openapi.json"] {
            assert!(doc["paths"][operations]["get"].is_object(), "{operations}");
        }
    }

    #[test]
    fn readiness_is_documented_as_an_elasticsearch_check() {
        let doc = document();
        let refused = &doc["paths"]["/health/ready"]["get"]["responses"]["503"];
        let description = refused["description"].as_str().unwrap();
        assert!(description.contains("Elasticsearch"), "{description}");
    }

    /// Query parameters are plain types (never `null`), as for the command services.
    #[test]
    fn parameters_are_never_null() {
        let doc = document();
        for parameter in doc["paths"]["/search/orders"]["get"]["parameters"]
            .as_array()
            .unwrap()
        {
            assert!(parameter["schema"]["type"].is_string(), "{parameter}");
        }
    }
}
