//! Typed settings of the command services. The CLI (`cli.rs`) fills them from flags and the
//! environment; tests fill them directly.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use keel_eventstore::{GroupCommit, SessionTimeouts};
use sqlx::postgres::PgConnectOptions;

/// The development secret: used only in development mode (`keel up`, `--dev`, `KEEL_DEV=1`)
/// when `JWT_SECRET` is unset. It is public (it is in this file), so it is refused otherwise.
pub const DEV_JWT_SECRET: &str = "keel-development-secret-do-not-use-in-production";

/// The shortest `JWT_SECRET` accepted outside development, in bytes: an HS256 key shorter
/// than the hash (32 bytes) is weaker than the signature.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The default issuer (`iss`) and audience (`aud`) that tokens must name.
pub const DEFAULT_JWT_ISSUER: &str = "keel";
pub const DEFAULT_JWT_AUDIENCE: &str = "keel";

/// The default `DATABASE_URL`, as `scripts/stack env` prints it.
pub const DEFAULT_DATABASE_URL: &str = "postgres://keel:keel@127.0.0.1:5432/keel?sslmode=disable";

/// A value that must never be printed (`Debug` shows `[redacted]`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How bearer tokens are signed and checked: the HS256 key, and the issuer (`iss`) and
/// audience (`aud`) every token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub secret: Secret,
    pub issuer: String,
    pub audience: String,
}

impl JwtSettings {
    /// `secret` with the default issuer and audience (`keel`).
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            issuer: DEFAULT_JWT_ISSUER.to_owned(),
            audience: DEFAULT_JWT_AUDIENCE.to_owned(),
        }
    }
}

/// Whether the process runs for a developer on their machine (`keel up`, `--dev`,
/// `KEEL_DEV=1`), where the public development secret is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Development,
}

/// `JWT_SECRET` cannot be used outside development mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtSecretError {
    #[error(
        "JWT_SECRET is not set: set JWT_SECRET (or --jwt-secret) to a random secret of at least \
         {min} bytes, e.g. `export JWT_SECRET=$(openssl rand -base64 48)`; only \
         for development on this machine, pass --dev or set KEEL_DEV=1 to use the public \
         development secret",
        min = MIN_JWT_SECRET_BYTES
    )]
    Missing,
    #[error(
        "JWT_SECRET is {length} bytes long: it must be at least {min} bytes, \
         e.g. `export JWT_SECRET=$(openssl rand -base64 48)`",
        min = MIN_JWT_SECRET_BYTES
    )]
    TooShort { length: usize },
    #[error(
        "JWT_SECRET is the development secret, which is public (it is in keel's source): set \
         JWT_SECRET to a random secret of at least {min} bytes, e.g. \
         `export JWT_SECRET=$(openssl rand -base64 48)`",
        min = MIN_JWT_SECRET_BYTES
    )]
    Public,
}

/// The secret that signs tokens: `configured` (`JWT_SECRET`), which outside development must
/// be set, at least [`MIN_JWT_SECRET_BYTES`] long and not the public development secret. In
/// development the development secret stands in for a missing one, with a warning.
pub fn jwt_secret(configured: Option<&str>, mode: Mode) -> Result<Secret, JwtSecretError> {
    let configured = configured.filter(|s| !s.is_empty());
    match (configured, mode) {
        (None, Mode::Production) => Err(JwtSecretError::Missing),
        (None, Mode::Development) => {
            tracing::warn!(
                "JWT_SECRET is not set: development mode uses the public development secret"
            );
            Ok(Secret::new(DEV_JWT_SECRET.to_owned()))
        }
        (Some(secret), Mode::Production) if secret == DEV_JWT_SECRET => Err(JwtSecretError::Public),
        (Some(secret), Mode::Production) if secret.len() < MIN_JWT_SECRET_BYTES => {
            Err(JwtSecretError::TooShort {
                length: secret.len(),
            })
        }
        (Some(secret), mode) => {
            if mode == Mode::Development && secret.len() < MIN_JWT_SECRET_BYTES {
                tracing::warn!(
                    "JWT_SECRET is shorter than {MIN_JWT_SECRET_BYTES} bytes: allowed in development mode only"
                );
            }
            Ok(Secret::new(secret.to_owned()))
        }
    }
}

/// Which command service a process runs; each owns its own database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    Orders,
    Payments,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 2] = [ServiceKind::Orders, ServiceKind::Payments];

    /// The process name, as in `keel order-service`.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Orders => "order-service",
            ServiceKind::Payments => "payment-service",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            ServiceKind::Orders => 8081,
            ServiceKind::Payments => 8082,
        }
    }

    /// The database the service owns, on the server of `DATABASE_URL`.
    pub fn database_name(self) -> &'static str {
        match self {
            ServiceKind::Orders => "keel_orders",
            ServiceKind::Payments => "keel_payments",
        }
    }

    /// The variable that overrides the derived database URL.
    pub fn database_url_var(self) -> &'static str {
        match self {
            ServiceKind::Orders => "ORDER_DATABASE_URL",
            ServiceKind::Payments => "PAYMENT_DATABASE_URL",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything [`crate::Application::build`] needs to run one command service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub kind: ServiceKind,
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// The service's own database.
    pub database_url: String,
    pub max_db_connections: u32,
    /// The token key, with the issuer and audience that tokens must name.
    pub jwt: JwtSettings,
    /// Snapshot every this many events; 0 turns snapshots off.
    pub snapshot_every: u64,
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// The longest a request may take; past it the answer is 503 with `Retry-After`.
    pub request_timeout: Duration,
    /// How long an `Idempotency-Key` and its answer are kept (at least).
    pub idempotency_retention: Duration,
    /// Statement and lock timeouts of the database sessions.
    pub database_timeouts: SessionTimeouts,
    /// Group commit: workers, batch size, queue bound and queue timeout.
    pub group_commit: GroupCommit,
}

impl ServiceConfig {
    /// Settings for tests and embedding: loopback, a free port, the given database.
    pub fn local(kind: ServiceKind, database_url: impl Into<String>, jwt_secret: Secret) -> Self {
        Self {
            kind,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            database_url: database_url.into(),
            max_db_connections: 10,
            jwt: JwtSettings::new(jwt_secret),
            snapshot_every: 100,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idempotency_retention: DEFAULT_IDEMPOTENCY_RETENTION,
            database_timeouts: SessionTimeouts::default(),
            group_commit: GroupCommit::default(),
        }
    }
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// A database URL could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("{var} is not a PostgreSQL URL ({url})")]
pub struct InvalidDatabaseUrl {
    pub var: &'static str,
    pub url: String,
    #[source]
    pub source: sqlx::Error,
}

/// The URL of `kind`'s database: its own variable when set, else `DATABASE_URL`'s server
/// with the service's database name.
pub fn service_database_url(
    kind: ServiceKind,
    database_url: &str,
    override_url: Option<&str>,
) -> Result<String, InvalidDatabaseUrl> {
    if let Some(url) = override_url.filter(|u| !u.trim().is_empty()) {
        return Ok(url.to_owned());
    }
    // Parsed only to refuse what is not a PostgreSQL URL; the text is kept as written.
    database_url
        .parse::<PgConnectOptions>()
        .map_err(|source| InvalidDatabaseUrl {
            var: "DATABASE_URL",
            url: redact_url(database_url),
            source,
        })?;
    Ok(with_database(database_url, kind.database_name()))
}

/// `url` with its path (the database name) replaced by `name`; the query is kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_each_services_database_on_the_same_server() {
        let url = service_database_url(ServiceKind::Orders, DEFAULT_DATABASE_URL, None).unwrap();
        assert_eq!(
            url,
            "postgres://keel:keel@127.0.0.1:5432/keel_orders?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "db"), "postgres://h/db");
        let own = service_database_url(
            ServiceKind::Payments,
            DEFAULT_DATABASE_URL,
            Some("postgres://x/y"),
        );
        assert_eq!(own.unwrap(), "postgres://x/y");
    }

    #[test]
    fn outside_development_the_secret_must_be_set_long_and_private() {
        let long = "x".repeat(MIN_JWT_SECRET_BYTES);
        let secret = |s: Option<&str>, mode| jwt_secret(s, mode).map(|s| s.expose().to_owned());
        assert_eq!(secret(None, Mode::Production), Err(JwtSecretError::Missing));
        assert_eq!(
            secret(Some(""), Mode::Production),
            Err(JwtSecretError::Missing)
        );
        assert_eq!(
            secret(Some("short"), Mode::Production),
            Err(JwtSecretError::TooShort { length: 5 })
        );
        assert_eq!(
            secret(Some(DEV_JWT_SECRET), Mode::Production),
            Err(JwtSecretError::Public)
        );
        assert_eq!(secret(Some(&long), Mode::Production), Ok(long.clone()));
        let message = JwtSecretError::Missing.to_string();
        assert!(
            message.contains("JWT_SECRET") && message.contains("32 bytes"),
            "{message}"
        );
        assert!(message.contains("KEEL_DEV=1"), "{message}");

        assert_eq!(
            secret(None, Mode::Development),
            Ok(DEV_JWT_SECRET.to_owned())
        );
        assert_eq!(
            secret(Some("short"), Mode::Development),
            Ok("short".to_owned())
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://keel:secret@127.0.0.1:5432/keel"),
            "postgres://keel@127.0.0.1:5432/keel"
        );
        assert_eq!(redact_url("http://127.0.0.1:9200"), "http://127.0.0.1:9200");
        assert!(!format!("{:?}", Secret::new("s3cr3t".into())).contains("s3cr3t"));
    }
}
