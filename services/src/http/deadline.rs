//! Every request has a deadline: past it the client gets 503 with `Retry-After` instead of
//! waiting on. The handler is dropped, and with it any append still queued: a command
//! that timed out is not appended later (one already in a running batch may commit, which
//! a retry with the same `Idempotency-Key` then reports).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub async fn bound(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            slug: "timeout",
            detail: format!("the request took longer than {limit:?}"),
            retry_after_secs: 1,
        }
        .into_response(),
    }
}
