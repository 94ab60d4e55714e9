//! Why a query was not answered: refused input (the shared [`ApiError`]) or Elasticsearch
//! failing ([`SearchError`]); each renders its own problem response.

use axum::response::{IntoResponse, Response};

use super::client::SearchError;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Request(#[from] ApiError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        match self {
            QueryError::Request(e) => e.into_response(),
            QueryError::Search(e) => e.into_response(),
        }
    }
}
