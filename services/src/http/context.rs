//! Per-request context: a request id, the correlation id and the trace context, carried in a
//! `tracing` span around the request and into the metadata of the events it appends.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use uuid::Uuid;

use super::trace_context::TraceParent;
use super::validate;
use crate::error::ApiError;

pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Who asked, as far as tracing is concerned.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// New for every request; the causation id of the events it appends.
    pub request_id: Uuid,
    /// From `X-Correlation-Id`, or the request id when absent.
    pub correlation_id: Uuid,
    pub trace: TraceParent,
}

impl RequestContext {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let request_id = Uuid::now_v7();
        let headers = request.headers();
        let correlation_id = match headers.get(&CORRELATION_ID) {
            None => request_id,
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| validate::parse_uuid(v.trim()))
                .ok_or_else(|| ApiError::InvalidHeader {
                    header: "X-Correlation-Id",
                    detail: "X-Correlation-Id must be a UUID; leave it out to get a new one".into(),
                })?,
        };
        let incoming = headers.get(&TRACEPARENT).and_then(|v| v.to_str().ok());
        Ok(Self {
            request_id,
            correlation_id,
            trace: TraceParent::child_of(incoming),
        })
    }
}

/// Outermost middleware: builds the [`RequestContext`], runs the request in a span and
/// echoes the ids in the response headers.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let context = match RequestContext::from_request(&request) {
        Ok(context) => context,
        Err(e) => return e.into_response(),
    };
    let span = tracing::info_span!(
        "request",
        %method,
        route = %route,
        request_id = %context.request_id,
        correlation_id = %context.correlation_id,
        trace_id = %context.trace.trace_id,
        actor = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    request.extensions_mut().insert(context.clone());
    let started = std::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("status", status.as_u16());
    span.in_scope(|| {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::warn!(elapsed_ms, "request failed");
        } else {
            tracing::debug!(elapsed_ms, "request finished");
        }
    });
    let headers = response.headers_mut();
    for (name, value) in [
        (REQUEST_ID, context.request_id.to_string()),
        (CORRELATION_ID, context.correlation_id.to_string()),
        (TRACEPARENT, context.trace.header_value()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}
