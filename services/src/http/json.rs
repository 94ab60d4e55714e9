//! JSON request bodies: content type, syntax and shape, each refused with a problem that
//! names what to fix (415, 400 with the JSON path of the field at fault).

use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// True for `application/json` and `application/<anything>+json`, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as a JSON value; an empty body is `{}` (commands without fields need no body).
pub fn parse(content_type: Option<&HeaderValue>, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match content_type.map(|v| v.to_str().unwrap_or("(not text)")) {
        Some(ct) if is_json(ct) => {}
        found => {
            return Err(ApiError::UnsupportedMediaType {
                found: found.unwrap_or("no Content-Type").to_owned(),
            })
        }
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedBody {
        detail: format!("the body is not valid JSON: {e}"),
        field: None,
    })
}

/// The value as `T`, or a 400 naming the field at fault (`lines[0].quantity`).
pub fn deserialize<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    refuse_arrays_as_objects(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = match missing_field(&inner) {
            Some(name) if path == "." => Some(name.to_owned()),
            Some(name) => Some(format!("{path}.{name}")),
            None if path == "." => None,
            None => Some(path),
        };
        let detail = match &field {
            Some(field) => format!("`{field}`: {inner}"),
            None => inner,
        };
        ApiError::MalformedBody { detail, field }
    })
}

/// Every request body is an object, and no field is a list of lists. serde reads a struct
/// from an array of its field values too (`[]` for a body whose fields are optional, or
/// `[["sku", "name", 1, 100]]` for `lines`); the documented schema allows neither.
fn refuse_arrays_as_objects(value: &Value) -> Result<(), ApiError> {
    fn nested(path: &str, value: &Value) -> Result<(), ApiError> {
        match value {
            Value::Object(fields) => fields
                .iter()
                .try_for_each(|(name, v)| nested(&join(path, name), v)),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                let at = format!("{path}[{i}]");
                match item {
                    Value::Array(_) => Err(ApiError::MalformedBody {
                        detail: format!(
                            "`{at}`: invalid type: array, expected an object or a value"
                        ),
                        field: Some(at),
                    }),
                    other => nested(&at, other),
                }
            }),
            _ => Ok(()),
        }
    }
    fn join(path: &str, name: &str) -> String {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    }
    match value {
        Value::Object(_) => nested("", value),
        other => Err(ApiError::MalformedBody {
            detail: format!(
                "the body must be a JSON object, not {}",
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ),
            field: None,
        }),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Reading the body failed: too large (413) or cut off (400).
pub fn body_rejection(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::MalformedBody {
            detail: format!("the body could not be read: {}", rejection.body_text()),
            field: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        lines: Vec<Line>,
    }

    fn json() -> HeaderValue {
        HeaderValue::from_static("application/json; charset=utf-8")
    }

    #[test]
    fn names_the_field_at_fault() {
        let v = parse(Some(&json()), br#"{"name":"a","lines":[{"quantity":"x"}]}"#).unwrap();
        match deserialize::<Body>(v) {
            Err(ApiError::MalformedBody { field, .. }) => {
                assert_eq!(field.as_deref(), Some("lines[0].quantity"))
            }
            other => panic!("{other:?}"),
        }
        let v = parse(Some(&json()), br#"{"lines":[]}"#).unwrap();
        match deserialize::<Body>(v) {
            Err(ApiError::MalformedBody { field, .. }) => {
                assert_eq!(field.as_deref(), Some("name"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn structs_are_objects_never_arrays() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Optional {
            #[serde(default)]
            code: Option<String>,
        }
        let v = parse(Some(&json()), b"[]").unwrap();
        assert!(
            serde_json::from_value::<Optional>(v.clone()).is_ok(),
            "serde alone takes it"
        );
        assert!(matches!(
            deserialize::<Optional>(v),
            Err(ApiError::MalformedBody { field: None, .. })
        ));
        let v = parse(Some(&json()), br#"{"name":"a","lines":[[1]]}"#).unwrap();
        match deserialize::<Body>(v) {
            Err(ApiError::MalformedBody { field, .. }) => {
                assert_eq!(field.as_deref(), Some("lines[0]"))
            }
            other => panic!("{other:?}"),
        }
        let v = parse(Some(&json()), br#"{"name":"a","lines":[{"quantity":1}]}"#).unwrap();
        assert!(deserialize::<Body>(v).is_ok());
    }

    #[test]
    fn content_type_and_syntax() {
        let text = HeaderValue::from_static("text/plain");
        assert!(matches!(
            parse(Some(&text), b"{}"),
            Err(ApiError::UnsupportedMediaType { .. })
        ));
        assert!(matches!(
            parse(None, b"{}"),
            Err(ApiError::UnsupportedMediaType { .. })
        ));
        assert!(matches!(
            parse(Some(&json()), b"{"),
            Err(ApiError::MalformedBody { .. })
        ));
        assert_eq!(parse(None, b"").unwrap(), serde_json::json!({}));
        let problem = HeaderValue::from_static("application/merge-patch+json");
        assert!(parse(Some(&problem), b"{}").is_ok());
    }
}
