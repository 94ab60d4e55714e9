//! Bearer JWTs (HS256): verification for every API route, and minting for `keel token`.
//!
//! The token's `sub` is the actor recorded in event metadata. `exp` is required and checked;
//! so are `iss` and `aud`, which must name the configured issuer and audience (`keel` by
//! default), so a token minted for another system with the same key is refused. Any
//! algorithm but HS256 (`none` included) and any other key are refused (401).
//!
//! The `scope` claim (space-separated) says what the token may do: `commands` (POST command
//! routes), `queries` (GET reads), `operator` (operator routes). A valid token without the
//! scope a route needs is refused with 403, so the saga runner, the query side and operators
//! can each get a token that does only their job.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;
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
    #[error("the token has no `{claim}` claim; it must be `{expected}`")]
    MissingClaim {
        claim: &'static str,
        expected: String,
    },
    #[error("the token is not meant for this service: its audience (`aud`) must be `{expected}`")]
    WrongAudience { expected: String },
    #[error("the token was not issued by `{expected}` (its `iss` claim)")]
    WrongIssuer { expected: String },
    #[error("the token is malformed: {0}")]
    Malformed(String),
}

/// What a token allows; a token lists its scopes in the `scope` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Send commands (POST routes of the command services).
    Commands,
    /// Read (GET routes of the command services, and of the query service).
    Queries,
    /// Operator routes (rebuilds, replays, dead letters).
    Operator,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Commands, Scope::Queries, Scope::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Commands => "commands",
            Scope::Queries => "queries",
            Scope::Operator => "operator",
        }
    }

    /// The scope a request to an API route needs: reads (GET, HEAD) need `queries`, anything
    /// else is a command. Operator routes will check `operator` themselves.
    pub fn needed_for(method: &Method) -> Scope {
        if method == Method::GET || method == Method::HEAD {
            Scope::Queries
        } else {
            Scope::Commands
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of [`Scope::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: the scopes are commands, queries and operator")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| UnknownScope(name.to_owned()))
    }
}

/// A set of scopes, written space-separated as in the `scope` claim (`"commands queries"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().collect())
    }

    /// Every scope.
    pub fn all() -> Self {
        Self::new(Scope::ALL)
    }

    /// The scopes a claim grants; names this version does not know grant nothing.
    fn from_claim(claim: &str) -> Self {
        Self::new(
            claim
                .split_ascii_whitespace()
                .filter_map(|s| s.parse().ok()),
        )
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for Scopes {
    type Err = UnknownScope;

    /// Strict, for `keel token --scope`: an unknown name is an error, not a silent no-op.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(|c: char| c.is_ascii_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(Scope::from_str)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

/// The authenticated caller: the token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

/// A verified token: who, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub actor: Actor,
    pub scopes: Scopes,
}

#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    scope: String,
    exp: u64,
    iat: u64,
}

/// What is read from a verified token; `iss`, `aud` and `exp` are checked by the validation.
#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
}

/// The signing key and the claims tokens must carry, shared by every route of a service.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    validation: Arc<Validation>,
    issuer: Arc<str>,
    audience: Arc<str>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(settings: &JwtSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = 5;
        let key = settings.secret.expose().as_bytes();
        Self {
            encoding: Arc::new(EncodingKey::from_secret(key)),
            decoding: Arc::new(DecodingKey::from_secret(key)),
            validation: Arc::new(validation),
            issuer: Arc::from(settings.issuer.as_str()),
            audience: Arc::from(settings.audience.as_str()),
        }
    }

    /// A token for `subject` with `scopes`, valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        scopes: &Scopes,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = MintedClaims {
            sub: subject,
            iss: &self.issuer,
            aud: &self.audience,
            scope: scopes.to_string(),
            exp: now.saturating_add(ttl.as_secs()),
            iat: now,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Grant, AuthError> {
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| self.auth_error(e))?;
        if data.claims.sub.trim().is_empty() {
            return Err(AuthError::NoSubject);
        }
        Ok(Grant {
            actor: Actor(data.claims.sub),
            scopes: Scopes::from_claim(data.claims.scope.as_deref().unwrap_or_default()),
        })
    }

    fn auth_error(&self, e: jsonwebtoken::errors::Error) -> AuthError {
        match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                AuthError::WrongAlgorithm
            }
            ErrorKind::InvalidAudience => AuthError::WrongAudience {
                expected: self.audience.to_string(),
            },
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer {
                expected: self.issuer.to_string(),
            },
            ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
                "sub" => AuthError::NoSubject,
                "aud" => AuthError::MissingClaim {
                    claim: "aud",
                    expected: self.audience.to_string(),
                },
                "iss" => AuthError::MissingClaim {
                    claim: "iss",
                    expected: self.issuer.to_string(),
                },
                _ => AuthError::Malformed(e.to_string()),
            },
            _ => AuthError::Malformed(e.to_string()),
        }
    }

    fn authenticate(&self, request: &Request) -> Result<Grant, AuthError> {
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

/// Why `grant` may not make `request` (403), if it may not.
fn authorize(grant: &Grant, method: &Method, path: &str) -> Result<(), ApiError> {
    let needed = Scope::needed_for(method);
    if grant.scopes.contains(needed) {
        return Ok(());
    }
    let held = if grant.scopes.is_empty() {
        "none".to_owned()
    } else {
        format!("`{}`", grant.scopes)
    };
    Err(ApiError::Forbidden(format!(
        "{method} {path} needs the `{needed}` scope; the token's scopes are {held} \
         (`keel token --scope \"{needed}\"` mints one for development)"
    )))
}

/// Middleware: refuses requests without a valid token (401) or without the scope the route
/// needs (403), and hands the [`Actor`] on.
pub async fn require_bearer(
    State(keys): State<JwtKeys>,
    mut request: Request,
    next: Next,
) -> Response {
    let grant = match keys.authenticate(&request) {
        Ok(grant) => grant,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::Span::current().record("actor", grant.actor.0.as_str());
    if let Err(e) = authorize(&grant, request.method(), request.uri().path()) {
        return e.into_response();
    }
    request.extensions_mut().insert(grant.actor);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use serde_json::json;

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings::new(Secret::new(secret.to_owned()))
    }

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&settings(secret))
    }

    fn both() -> Scopes {
        Scopes::new([Scope::Commands, Scope::Queries])
    }

    /// A token signed with `secret` holding exactly `claims`.
    fn signed(secret: &str, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    const FAR: u64 = 4_000_000_000;

    #[test]
    fn a_minted_token_verifies_with_the_same_key_only() {
        let token = keys("one")
            .mint("alice", &both(), Duration::from_secs(60))
            .unwrap();
        let grant = keys("one").verify(&token).unwrap();
        assert_eq!(grant.actor, Actor("alice".into()));
        assert_eq!(grant.scopes, both());
        assert_eq!(keys("two").verify(&token), Err(AuthError::BadSignature));
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() {
        let expired = signed(
            "one",
            json!({"sub": "a", "exp": 1_000, "iss": "keel", "aud": "keel"}),
        );
        assert_eq!(keys("one").verify(&expired), Err(AuthError::Expired));
        // {"alg":"none","typ":"JWT"} . {"sub":"a","exp":9999999999} . (no signature)
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert!(keys("one").verify(none).is_err());
    }

    #[test]
    fn the_audience_must_be_this_services() {
        let k = keys("one");
        let other = signed(
            "one",
            json!({"sub": "a", "exp": FAR, "iss": "keel", "aud": "billing", "scope": "commands"}),
        );
        assert_eq!(
            k.verify(&other),
            Err(AuthError::WrongAudience {
                expected: "keel".into()
            })
        );
        let missing = signed(
            "one",
            json!({"sub": "a", "exp": FAR, "iss": "keel", "scope": "commands"}),
        );
        assert_eq!(
            k.verify(&missing),
            Err(AuthError::MissingClaim {
                claim: "aud",
                expected: "keel".into()
            })
        );
        // A list that names this audience is accepted (RFC 7519 allows either form).
        let listed = signed(
            "one",
            json!({"sub": "a", "exp": FAR, "iss": "keel", "aud": ["billing", "keel"], "scope": "queries"}),
        );
        assert!(k.verify(&listed).is_ok());
        // A configured audience is the one checked, and the one minted.
        let mut custom = settings("one");
        custom.audience = "orders".into();
        let custom = JwtKeys::new(&custom);
        assert!(custom.verify(&listed).is_err());
        let minted = custom.mint("a", &both(), Duration::from_secs(60)).unwrap();
        assert!(custom.verify(&minted).is_ok());
        assert!(k.verify(&minted).is_err());
    }

    #[test]
    fn the_issuer_must_be_the_configured_one() {
        let k = keys("one");
        let other = signed(
            "one",
            json!({"sub": "a", "exp": FAR, "iss": "mallory", "aud": "keel", "scope": "commands"}),
        );
        assert_eq!(
            k.verify(&other),
            Err(AuthError::WrongIssuer {
                expected: "keel".into()
            })
        );
        let missing = signed(
            "one",
            json!({"sub": "a", "exp": FAR, "aud": "keel", "scope": "commands"}),
        );
        assert_eq!(
            k.verify(&missing),
            Err(AuthError::MissingClaim {
                claim: "iss",
                expected: "keel".into()
            })
        );
        let message = AuthError::WrongIssuer {
            expected: "keel".into(),
        }
        .to_string();
        assert!(
            message.contains("`iss`") && message.contains("keel"),
            "{message}"
        );
    }

    #[test]
    fn scopes_decide_what_a_token_may_do() {
        let k = keys("one");
        let token = |scope: serde_json::Value| {
            let mut claims = json!({"sub": "a", "exp": FAR, "iss": "keel", "aud": "keel"});
            if !scope.is_null() {
                claims["scope"] = scope;
            }
            k.verify(&signed("one", claims)).unwrap()
        };
        let queries = token(json!("queries"));
        assert!(authorize(&queries, &Method::GET, "/orders/x").is_ok());
        let refused = authorize(&queries, &Method::POST, "/orders").unwrap_err();
        let problem = refused.problem();
        assert_eq!(problem.status, 403);
        assert_eq!(problem.kind, "urn:keel:problem:forbidden");
        assert!(problem.detail.contains("`commands`"), "{}", problem.detail);

        let commands = token(json!("commands"));
        assert!(authorize(&commands, &Method::POST, "/orders").is_ok());
        assert!(authorize(&commands, &Method::GET, "/orders/x").is_err());

        // No scope claim, an empty one, or only names this version does not know: nothing.
        for none in [json!(null), json!(""), json!("admin write")] {
            let grant = token(none.clone());
            assert!(grant.scopes.is_empty(), "{none}");
            assert!(authorize(&grant, &Method::GET, "/orders/x").is_err());
            assert!(authorize(&grant, &Method::POST, "/orders").is_err());
        }
        let all = token(json!("operator  queries commands"));
        assert_eq!(all.scopes, Scopes::all());
    }

    #[test]
    fn scope_lists_parse_strictly() {
        assert_eq!("commands queries".parse::<Scopes>(), Ok(both()));
        assert_eq!("queries,commands".parse::<Scopes>(), Ok(both()));
        assert_eq!(both().to_string(), "commands queries");
        assert_eq!(
            "commands writes".parse::<Scopes>(),
            Err(UnknownScope("writes".into()))
        );
        assert_eq!(Scope::needed_for(&Method::HEAD), Scope::Queries);
        assert_eq!(Scope::needed_for(&Method::POST), Scope::Commands);
    }
}
