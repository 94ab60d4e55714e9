//! The `Idempotency-Key` header: a retry with the same key and request returns the first
//! answer; the same key with another request is refused (422).
//!
//! Keys are scoped to the caller (the token's subject), so one client can never receive
//! another's answer. The request hash covers the method, the path, `If-Match` and the
//! body as canonical JSON (key order and whitespace do not matter). Events carry only a
//! [`fingerprint`] of the key and of the caller, never the values themselves.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, Method};
use keel_eventstore::PgEventStore;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header on a response that repeats an earlier one.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub const MAX_KEY_LEN: usize = 255;

/// The client's key, if it sent one: 1 to 255 visible ASCII characters.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let invalid = |detail: String| ApiError::InvalidHeader {
        header: "Idempotency-Key",
        detail,
    };
    let key = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key must be visible ASCII".into()))?
        .trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters without spaces, e.g. a UUID"
        )));
    }
    Ok(Some(key.to_owned()))
}

/// The key as stored: unique per caller.
pub fn scoped_key(actor: &str, key: &str) -> String {
    format!("{}:{actor}:{key}", actor.len())
}

/// A hash of what the request asks for.
pub fn request_hash(method: &Method, path: &str, if_match: Option<u64>, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\nif-match:");
    if let Some(version) = if_match {
        hasher.update(version.to_string().as_bytes());
    }
    hasher.update(b"\n");
    hasher.update(canonical(body).as_bytes());
    format!("{:x}", hasher.finalize())
}

/// A stable stand-in for a value that must not travel with the events (an idempotency key,
/// a caller's identity): the first 128 bits of its SHA-256, in hex.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes keys older than `retention`, now and then, for as long as the service runs.
pub async fn expire_keys(store: PgEventStore, retention: Duration) {
    // Often enough that keys outlive their retention by a tenth at most, at most hourly.
    let every = (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match store.purge_idempotency_keys(retention, 1000).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "expiring idempotency keys failed"),
        }
    }
}

/// JSON with object keys sorted at every level.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_ignores_key_order_but_not_content() {
        let body = json!({"a": 1, "b": [{"x": 1, "y": 2}]});
        let a = request_hash(&Method::POST, "/orders", None, &body);
        let b = request_hash(
            &Method::POST,
            "/orders",
            None,
            &json!({"b": [{"y": 2, "x": 1}], "a": 1}),
        );
        let c = request_hash(
            &Method::POST,
            "/orders",
            None,
            &json!({"a": 2, "b": [{"x": 1, "y": 2}]}),
        );
        let d = request_hash(&Method::POST, "/payments", None, &body);
        let e = request_hash(&Method::POST, "/orders", Some(3), &body);
        let f = request_hash(&Method::POST, "/orders", Some(4), &body);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, e, "If-Match is part of the request");
        assert_ne!(e, f);
        assert_eq!(fingerprint("k").len(), 32);
        assert_ne!(fingerprint("k"), fingerprint("l"));
    }

    #[test]
    fn keys_are_checked_and_scoped() {
        let mut headers = HeaderMap::new();
        assert_eq!(key_from(&headers).unwrap(), None);
        headers.insert(IDEMPOTENCY_KEY, "abc-1".parse().unwrap());
        assert_eq!(key_from(&headers).unwrap().as_deref(), Some("abc-1"));
        headers.insert(IDEMPOTENCY_KEY, "a b".parse().unwrap());
        assert!(key_from(&headers).is_err());
        assert_ne!(scoped_key("a:b", "c"), scoped_key("a", "b:c"));
    }
}
