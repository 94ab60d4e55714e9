//! Every way a request can fail, and the one place that maps each to a status and a
//! problem body. `Debug` prints the cause chain; responses never leak internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keel_aggregates::RuleViolation;
use keel_eventstore::{ErrorClass, StoreError};

use crate::http::auth::AuthError;
use crate::http::problem::Problem;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or not JSON of the expected shape.
    #[error("malformed request body: {detail}")]
    MalformedBody {
        detail: String,
        field: Option<String>,
    },
    /// A value has the right type but is not acceptable (`quantity` 0, currency `eu`).
    #[error("invalid value of `{field}`: {detail}")]
    InvalidField { field: String, detail: String },
    #[error("invalid header {header}: {detail}")]
    InvalidHeader {
        header: &'static str,
        detail: String,
    },
    #[error("invalid path parameter: {detail}")]
    InvalidPath { field: String, detail: String },
    #[error("invalid query: {detail}")]
    InvalidQuery {
        field: Option<String>,
        detail: String,
    },
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// The token is valid but does not grant what the route needs (its `scope`).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{what} `{id}` does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} `{id}` has no version {version}; its current version is {current}")]
    VersionNotFound {
        what: &'static str,
        id: String,
        version: u64,
        current: u64,
    },
    #[error("no route for {path}")]
    RouteNotFound { path: String },
    #[error("method {method} not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("version conflict: expected {expected}, stream is at {actual}")]
    Conflict { expected: u64, actual: u64 },
    #[error("idempotency key `{key}` was used with a different request")]
    IdempotencyKeyReused { key: String },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type {found}")]
    UnsupportedMediaType { found: String },
    /// A domain rule refused the command.
    #[error("rule `{rule}` refused the command: {detail}")]
    Rule {
        rule: &'static str,
        field: Option<&'static str>,
        detail: String,
    },
    /// The event store refused the request before writing anything.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A dependency is down, overloaded or too slow, or a transient database failure
    /// outlived its retries: try again later, with the same `Idempotency-Key`.
    #[error("{slug}: {detail}")]
    Unavailable {
        /// `unavailable`, `overloaded` or `timeout`.
        slug: &'static str,
        detail: String,
        retry_after_secs: u64,
    },
    /// The answer recorded for this idempotency key when it was first used (a refusal).
    #[error("repeated answer: {}", .0.detail)]
    Recorded(Box<Problem>),
    /// Our fault: storage, corrupt data. Logged with its cause; the client gets an id.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn rule(violation: &impl RuleViolation) -> Self {
        ApiError::Rule {
            rule: violation.rule(),
            field: violation.field(),
            detail: violation.to_string(),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }

    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            ApiError::MalformedBody { detail, field } => {
                let p = Problem::new(S::BAD_REQUEST, "malformed-body", "Malformed request body", detail);
                with_optional_field(p, field.as_deref())
            }
            ApiError::InvalidField { field, detail } => {
                Problem::new(S::BAD_REQUEST, "invalid-field", "Invalid field value", detail)
                    .with_field(field)
            }
            ApiError::InvalidHeader { header, detail } => {
                Problem::new(S::BAD_REQUEST, "invalid-header", "Invalid header", detail)
                    .with_field(format!("header:{header}"))
            }
            ApiError::InvalidPath { field, detail } => Problem::new(
                S::BAD_REQUEST,
                "invalid-path-parameter",
                "Invalid path parameter",
                detail,
            )
            .with_field(field),
            ApiError::InvalidQuery { field, detail } => {
                let p = Problem::new(
                    S::BAD_REQUEST,
                    "invalid-query-parameter",
                    "Invalid query parameter",
                    detail,
                );
                with_optional_field(p, field.as_deref())
            }
            ApiError::Unauthorized(e) => Problem::new(
                S::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid bearer token",
                format!("{e}; send `Authorization: Bearer <token>` (`keel token` mints one for development)"),
            )
            .with_field("header:Authorization"),
            ApiError::Forbidden(detail) => Problem::new(
                S::FORBIDDEN,
                "forbidden",
                "Not allowed by the token",
                detail.clone(),
            )
            .with_field("header:Authorization"),
            ApiError::NotFound { what, id } => Problem::new(
                S::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} `{id}` does not exist"),
            ),
            ApiError::VersionNotFound { what, id, version, current } => Problem::new(
                S::NOT_FOUND,
                "version-not-found",
                "Version not found",
                format!("{what} `{id}` has no version {version}; its current version is {current}"),
            )
            .with_field("at_version")
            .with_current_version(*current),
            ApiError::RouteNotFound { path } => Problem::new(
                S::NOT_FOUND,
                "route-not-found",
                "No such route",
                format!("nothing is served at {path}; GET /openapi.json lists the routes"),
            ),
            ApiError::MethodNotAllowed { method, path } => Problem::new(
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("{path} does not accept {method}; GET /openapi.json lists the routes"),
            ),
            ApiError::Conflict { expected, actual } => Problem::new(
                S::CONFLICT,
                "version-conflict",
                "Version conflict",
                format!(
                    "the stream is at version {actual}, not {expected}: read it again and retry with `If-Match: {actual}`"
                ),
            )
            .with_current_version(*actual),
            ApiError::IdempotencyKeyReused { key } => Problem::new(
                S::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                format!("the idempotency key `{key}` was already used for a different request; use a new key for a new request"),
            )
            .with_field("header:Idempotency-Key"),
            ApiError::PayloadTooLarge { limit } => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
                format!("the request body is larger than the limit of {limit} bytes"),
            ),
            ApiError::UnsupportedMediaType { found } => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                format!("the body must be sent as `Content-Type: application/json`, not `{found}`"),
            )
            .with_field("header:Content-Type"),
            ApiError::Rule { rule, field, detail } => {
                let p = Problem::new(
                    S::UNPROCESSABLE_ENTITY,
                    &format!("rule:{rule}"),
                    "Refused by a business rule",
                    detail.clone(),
                );
                with_optional_field(p, *field)
            }
            ApiError::InvalidInput(detail) => Problem::new(
                S::BAD_REQUEST,
                "invalid-input",
                "Invalid input",
                detail.clone(),
            ),
            ApiError::Unavailable {
                slug,
                detail,
                retry_after_secs,
            } => Problem::new(
                S::SERVICE_UNAVAILABLE,
                slug,
                "Service unavailable",
                format!(
                    "{detail}; retry after {retry_after_secs} s (with the same Idempotency-Key, a retry is safe)"
                ),
            )
            .with_retry_after(*retry_after_secs),
            ApiError::Recorded(problem) => (**problem).clone(),
            ApiError::Internal(_) => Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the service failed to handle the request; it has been logged, retry later",
            ),
        }
    }
}

fn with_optional_field(problem: Problem, field: Option<&str>) -> Problem {
    match field {
        Some(field) => problem.with_field(field),
        None => problem,
    }
}

impl ApiError {
    /// An event store failure, by its class: the request's fault (400), a conflict, try
    /// again (503 with `Retry-After`), or a bug (500).
    pub fn store(error: StoreError) -> Self {
        if error.class() == ErrorClass::Retry {
            tracing::warn!(error = %error, "event store");
        }
        match error.class() {
            ErrorClass::Request => ApiError::InvalidInput(error.to_string()),
            ErrorClass::Retry => ApiError::Unavailable {
                slug: match error {
                    StoreError::Overloaded { .. } => "overloaded",
                    StoreError::Timeout(_) => "timeout",
                    _ => "unavailable",
                },
                retry_after_secs: error.retry_after().as_secs().max(1),
                detail: match error {
                    StoreError::Overloaded { .. } => "too many commands are waiting".to_owned(),
                    StoreError::Timeout(_) => "the command timed out".to_owned(),
                    _ => "the event store is unavailable".to_owned(),
                },
            },
            ErrorClass::Conflict | ErrorClass::Bug => ApiError::internal(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            ApiError::Unavailable { detail, .. } => {
                tracing::warn!(error = %detail, "request not served")
            }
            _ => {}
        }
        let replayed = matches!(self, ApiError::Recorded(_));
        let mut response = self.problem().into_response();
        if replayed {
            response.headers_mut().insert(
                crate::http::idempotency::IDEMPOTENT_REPLAYED,
                axum::http::HeaderValue::from_static("true"),
            );
        }
        response
    }
}
