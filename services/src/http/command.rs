//! The `CommandRequest` extractor: a command's body plus everything around it (actor, trace
//! context, `Idempotency-Key`, `If-Match`) as the repository's `CommandContext`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use keel_eventstore::{CommandContext, IdempotencyKey};
use keel_schemas::EventMetadata;
use serde::de::DeserializeOwned;

use super::auth::Actor;
use super::context::RequestContext;
use super::{idempotency, json};
use crate::error::ApiError;

/// The body of a command without fields (confirm, deliver, void): empty or `{}`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// The largest request body, as configured; put in the request extensions by the router.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A command's typed body and its context.
#[derive(Debug)]
pub struct CommandRequest<T> {
    pub body: T,
    pub context: CommandContext,
    /// The client's key as sent (the context holds it scoped to the caller).
    pub idempotency_key: Option<String>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CommandRequest<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let actor = parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or_else(|| ApiError::internal("command route without authentication"))?;
        let context = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| ApiError::internal("command route without request context"))?;
        let limit = parts.extensions.get::<BodyLimit>().map_or(0, |l| l.0);
        let key = idempotency::key_from(&parts.headers)?;
        let expected_version = if_match(&parts.headers)?;
        let method = parts.method.clone();
        let path = parts.uri.path().to_owned();
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();

        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| json::body_rejection(e, limit))?;
        let value = json::parse(content_type.as_ref(), &bytes)?;
        let idempotency = key.as_ref().map(|key| IdempotencyKey {
            key: idempotency::scoped_key(&actor.0, key),
            request_hash: idempotency::request_hash(&method, &path, expected_version, &value),
        });
        let body = json::deserialize(value)?;
        Ok(CommandRequest {
            body,
            context: CommandContext {
                // Events travel to Kafka and the read models: fingerprints, not the values.
                metadata: EventMetadata {
                    correlation_id: Some(context.correlation_id),
                    causation_id: Some(context.request_id),
                    traceparent: Some(context.trace.header_value()),
                    actor: Some(idempotency::fingerprint(&actor.0)),
                    idempotency_key: idempotency
                        .as_ref()
                        .map(|k| idempotency::fingerprint(&k.key)),
                },
                expected_version,
                idempotency,
            },
            idempotency_key: key,
        })
    }
}

/// `If-Match: <version>` (bare or quoted, as the `ETag` of a read); `*` means any version.
/// Exactly [`IF_MATCH_PATTERN`]: up to 18 digits, so any version fits the store's `bigint`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::InvalidHeader {
        header: "If-Match",
        detail: "If-Match must be the version the change is based on, e.g. `If-Match: 3` or the `ETag` of a read (`\"3\"`)".into(),
    }
    };
    let raw = value.to_str().map_err(|_| invalid())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let digits = match raw.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').ok_or_else(invalid)?,
        None => raw,
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    digits.parse::<u64>().map(Some).map_err(|_| invalid())
}

/// The documented form of `If-Match`, what [`if_match`] accepts.
pub const IF_MATCH_PATTERN: &str = r#"^([0-9]{1,18}|"[0-9]{1,18}"|\*)$"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_bare_and_quoted_versions() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).unwrap(), None);
        for (raw, want) in [("3", Some(3)), ("\"7\"", Some(7)), ("*", None)] {
            h.insert(header::IF_MATCH, raw.parse().unwrap());
            assert_eq!(if_match(&h).unwrap(), want, "{raw}");
        }
        for bad in [
            "W/\"3\"",
            "\"0978",
            "7264\"",
            "null",
            "+3",
            "",
            "1234567890123456789",
        ] {
            h.insert(header::IF_MATCH, bad.parse().unwrap());
            assert!(if_match(&h).is_err(), "{bad}");
        }
    }
}

/// The headers every command takes (OpenAPI description only). Each is optional and, when
/// sent, a string (never `null`): `value_type = String` keeps utoipa from documenting the
/// `Option` as nullable.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct CommandHeaders {
    /// Makes the command safe to retry: the same key with the same request returns the first
    /// answer and appends nothing; the same key with another request is refused (422).
    #[serde(rename = "Idempotency-Key")]
    #[param(
        required = false,
        value_type = String,
        pattern = r"^[!-~]{1,255}$",
        max_length = 255,
        min_length = 1
    )]
    idempotency_key: Option<String>,
    /// Optimistic concurrency: the version (the `ETag` of a read) the command is based on,
    /// bare (`3`) or quoted (`"3"`), or `*` for any. On a mismatch nothing is appended and the
    /// answer is 409 with the current version.
    #[serde(rename = "If-Match")]
    #[param(required = false, value_type = String, pattern = r#"^([0-9]{1,18}|"[0-9]{1,18}"|\*)$"#)]
    if_match: Option<String>,
    /// Correlates this command with others (a UUID, hyphenated); a new one when absent.
    #[serde(rename = "X-Correlation-Id")]
    #[param(required = false, value_type = String, format = Uuid)]
    x_correlation_id: Option<String>,
    /// W3C trace context to continue; a new trace when absent or invalid.
    #[serde(rename = "traceparent")]
    #[param(required = false, value_type = String)]
    traceparent: Option<String>,
}
