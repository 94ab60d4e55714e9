//! Bearer JWTs (HS256): verification for every API route, and minting for `keel token`.
//!
//! The token's `sub` is the actor recorded in event metadata. `exp` is required and checked;
//! any algorithm but HS256 (`none` included) and any other key are refused.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::ApiError;

/// Why a request carries no usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature does not verify (signed with another key?)")]
    BadSignature,
    #[error("the token must be signed with HS256")]
    WrongAlgorithm,
    #[error("the token has no subject (`sub`)")]
    NoSubject,
    #[error("the token is malformed: {0}")]
    Malformed(String),
}

/// The authenticated caller: the token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
}

/// The signing key, shared by every route of a service.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: Arc::new(EncodingKey::from_secret(secret.expose().as_bytes())),
            decoding: Arc::new(DecodingKey::from_secret(secret.expose().as_bytes())),
            validation: Arc::new(validation),
        }
    }

    /// A token for `subject`, valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            exp: now.saturating_add(ttl.as_secs()),
            iat: Some(now),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    AuthError::WrongAlgorithm
                }
                ErrorKind::MissingRequiredClaim(claim) if claim == "sub" => AuthError::NoSubject,
                _ => AuthError::Malformed(e.to_string()),
            })?;
        if data.claims.sub.trim().is_empty() {
            return Err(AuthError::NoSubject);
        }
        Ok(Actor(data.claims.sub))
    }

    fn authenticate(&self, request: &Request) -> Result<Actor, AuthError> {
        let value = request
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?;
        let value = value.to_str().map_err(|_| AuthError::NotBearer)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::NotBearer);
        }
        self.verify(token.trim())
    }
}

/// Middleware: refuses requests without a valid token, and hands the [`Actor`] on.
pub async fn require_bearer(
    State(keys): State<JwtKeys>,
    mut request: Request,
    next: Next,
) -> Response {
    match keys.authenticate(&request) {
        Ok(actor) => {
            tracing::Span::current().record("actor", actor.0.as_str());
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&Secret::new(secret.to_owned()))
    }

    #[test]
    fn a_minted_token_verifies_with_the_same_key_only() {
        let token = keys("one").mint("alice", Duration::from_secs(60)).unwrap();
        assert_eq!(keys("one").verify(&token), Ok(Actor("alice".into())));
        assert_eq!(keys("two").verify(&token), Err(AuthError::BadSignature));
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() {
        let k = keys("one");
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "a".into(),
                exp: 1_000,
                iat: None,
            },
            &k.encoding,
        )
        .unwrap();
        assert_eq!(k.verify(&expired), Err(AuthError::Expired));
        // {"alg":"none","typ":"JWT"} . {"sub":"a","exp":9999999999} . (no signature)
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert!(k.verify(none).is_err());
    }
}
