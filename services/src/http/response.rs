//! Successful answers: a stream's state as JSON with its version as `ETag`, and the event
//! list of a stream for audit.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use keel_schemas::EventEnvelope;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::idempotency::IDEMPOTENT_REPLAYED;

/// `view` with `ETag: "<version>"`; `Location` for a created resource; and
/// `Idempotent-Replayed: true` when this repeats an earlier answer.
pub fn state(
    status: StatusCode,
    view: impl Serialize,
    version: u64,
    replayed: bool,
    location: Option<String>,
) -> Response {
    let mut response = (status, Json(view)).into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

/// Who and what caused an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetadataView {
    pub correlation_id: Option<Uuid>,
    /// The id of the request (command) that appended the event.
    pub causation_id: Option<Uuid>,
    /// W3C trace context of that request.
    pub traceparent: Option<String>,
    /// A fingerprint of the token subject that sent the command (`fingerprint(sub)`: the
    /// first 128 bits of its SHA-256 in hex), not the subject itself.
    pub actor: Option<String>,
    /// A fingerprint of the command's `Idempotency-Key` (scoped to the caller), not the key.
    pub idempotency_key: Option<String>,
}

/// One stored event, as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: Uuid,
    pub stream_id: String,
    /// 1-based position in the stream.
    #[schema(minimum = 1)]
    pub version: u64,
    /// Position in the service's global log.
    pub global_position: u64,
    pub event_type: String,
    #[schema(minimum = 1)]
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    /// The event's payload in its stored schema version.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub metadata: MetadataView,
}

/// A stream's events, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub id: Uuid,
    pub stream_id: String,
    /// The stream's current version (the last event's).
    pub version: u64,
    pub events: Vec<EventView>,
}

impl From<EventEnvelope> for EventView {
    fn from(e: EventEnvelope) -> Self {
        Self {
            event_id: e.event_id,
            stream_id: e.stream_id,
            version: e.stream_version,
            global_position: e.global_position,
            event_type: e.event_type,
            schema_version: e.schema_version,
            recorded_at: e.recorded_at,
            payload: e.payload,
            metadata: MetadataView {
                correlation_id: e.metadata.correlation_id,
                causation_id: e.metadata.causation_id,
                traceparent: e.metadata.traceparent,
                actor: e.metadata.actor,
                idempotency_key: e.metadata.idempotency_key,
            },
        }
    }
}

/// The events of stream `id`, for audit.
pub fn events(id: Uuid, events: Vec<EventEnvelope>) -> Response {
    let stream_id = events
        .first()
        .map(|e| e.stream_id.clone())
        .unwrap_or_default();
    let version = events.last().map_or(0, |e| e.stream_version);
    let list = EventList {
        id,
        stream_id,
        version,
        events: events.into_iter().map(EventView::from).collect(),
    };
    state(StatusCode::OK, list, version, false, None)
}
