//! Extractors whose rejections are problem responses (axum's defaults answer in plain text).

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use uuid::Uuid;

use super::validate;
use crate::error::ApiError;

/// The `{id}` of a route: a UUID.
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidPath {
                field: "id".into(),
                detail: e.body_text(),
            })?;
        validate::parse_uuid(&raw).map(IdPath).ok_or_else(|| ApiError::InvalidPath {
            field: "id".into(),
            detail: format!("`{raw}` is not an id: expected a UUID like 0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a"),
        })
    }
}

/// The query string as name/value pairs; handlers read the typed values they expect with
/// [`QueryParams::optional`] and [`QueryParams::required`], which name the parameter at fault.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub fn optional<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ApiError> {
        let Some(raw) = self.0.get(name) else {
            return Ok(None);
        };
        // Untrimmed: the document's `integer` or `uuid` does not allow spaces either.
        raw.parse().map(Some).map_err(|_| ApiError::InvalidQuery {
            field: Some(name.to_owned()),
            detail: format!("query parameter `{name}` is `{raw}`, expected {expected}"),
        })
    }

    /// The `at_version` of a time-travel read: absent, or a version of 1 or more.
    pub fn at_version(&self) -> Result<Option<u64>, ApiError> {
        match self.optional("at_version", "a version, 1 or more")? {
            Some(0) => Err(ApiError::InvalidQuery {
                field: Some("at_version".into()),
                detail: "versions start at 1".into(),
            }),
            version => Ok(version),
        }
    }

    /// A required UUID (hyphenated, as the document's `format: uuid`).
    pub fn required_uuid(&self, name: &str) -> Result<Uuid, ApiError> {
        let raw: String = self.required(name, "a UUID")?;
        validate::parse_uuid(&raw).ok_or_else(|| ApiError::InvalidQuery {
            field: Some(name.to_owned()),
            detail: format!(
                "query parameter `{name}` is `{raw}`, expected a UUID like 0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a"
            ),
        })
    }

    pub fn required<T: FromStr>(&self, name: &str, expected: &str) -> Result<T, ApiError> {
        self.optional(name, expected)?
            .ok_or_else(|| ApiError::InvalidQuery {
                field: Some(name.to_owned()),
                detail: format!("query parameter `{name}` is required: {expected}"),
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidQuery {
                field: None,
                detail: e.body_text(),
            })?;
        Ok(QueryParams(map))
    }
}
