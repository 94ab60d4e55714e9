//! Each service's own PostgreSQL database: creating it (`keel migrate`) and connecting to it
//! with errors that say which database, where, and what to do.

use std::time::Duration;

use keel_eventstore::{GroupCommit, PgEventStore, SessionTimeouts, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::config::{redact_url, ServiceKind};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// PostgreSQL's `invalid_catalog_name`: the database does not exist.
const NO_SUCH_DATABASE: &str = "3D000";
/// PostgreSQL's `duplicate_database`.
const DUPLICATE_DATABASE: &str = "42P04";

/// A service's database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("{service}: database URL {url} is invalid")]
    InvalidUrl {
        service: ServiceKind,
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{service}: PostgreSQL at {url} is unreachable: {reason} (is it running? `scripts/stack up` starts it)")]
    Unreachable {
        service: ServiceKind,
        url: String,
        reason: String,
    },
    #[error("{service}: PostgreSQL at {url} refused the connection: {reason}")]
    Refused {
        service: ServiceKind,
        url: String,
        reason: String,
    },
    #[error(
        "{service}: database `{name}` does not exist at {url}; run `keel migrate` to create it"
    )]
    Missing {
        service: ServiceKind,
        name: String,
        url: String,
    },
    #[error("{service}: cannot create database `{name}` at {url}")]
    Create {
        service: ServiceKind,
        name: String,
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{service}: migrating the event store at {url} failed")]
    Migrate {
        service: ServiceKind,
        url: String,
        #[source]
        source: StoreError,
    },
}

fn options(service: ServiceKind, url: &str) -> Result<PgConnectOptions, DatabaseError> {
    url.parse().map_err(|source| DatabaseError::InvalidUrl {
        service,
        url: redact_url(url),
        source,
    })
}

fn is_code(error: &sqlx::Error, code: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

/// Connects, waiting at most [`CONNECT_TIMEOUT`].
async fn open(
    service: ServiceKind,
    options: &PgConnectOptions,
    url: &str,
) -> Result<PgConnection, DatabaseError> {
    let unreachable = |reason: String| DatabaseError::Unreachable {
        service,
        url: redact_url(url),
        reason,
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Err(_) => Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
        Ok(Err(e)) if is_code(&e, NO_SUCH_DATABASE) => Err(DatabaseError::Missing {
            service,
            name: options.get_database().unwrap_or_default().to_owned(),
            url: redact_url(url),
        }),
        // The server answered: wrong password, no such role, too many connections...
        Ok(Err(sqlx::Error::Database(e))) => Err(DatabaseError::Refused {
            service,
            url: redact_url(url),
            reason: e.to_string(),
        }),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// Creates the service's database when it is missing; true when it was created.
pub async fn ensure_database(service: ServiceKind, url: &str) -> Result<bool, DatabaseError> {
    let target = options(service, url)?;
    match open(service, &target, url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(false);
        }
        Err(DatabaseError::Missing { .. }) => {}
        Err(e) => return Err(e),
    }
    let name = target.get_database().unwrap_or_default().to_owned();
    let admin = target.clone().database("postgres");
    let mut conn = open(service, &admin, admin.to_url_lossy().as_ref()).await?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    let created = match sqlx::query(&sql).execute(&mut conn).await {
        Ok(_) => true,
        // Another `keel migrate` created it meanwhile.
        Err(e) if is_code(&e, DUPLICATE_DATABASE) => false,
        Err(source) => {
            return Err(DatabaseError::Create {
                service,
                name,
                url: redact_url(url),
                source,
            })
        }
    };
    let _ = conn.close().await;
    Ok(created)
}

/// How the service's event store uses its database.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreSettings {
    pub max_connections: u32,
    pub timeouts: SessionTimeouts,
    pub group_commit: GroupCommit,
}

/// How long a request waits for a pooled connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A pool on the service's database with the event store's schema up to date.
pub async fn connect(
    service: ServiceKind,
    url: &str,
    settings: StoreSettings,
) -> Result<PgEventStore, DatabaseError> {
    let options = options(service, url)?;
    // One plain connection first, to fail fast with a precise reason.
    let probe = open(service, &options, url).await?;
    let _ = probe.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(settings.timeouts.apply(options));
    let store = PgEventStore::with_group_commit(pool, settings.group_commit);
    store
        .migrate()
        .await
        .map_err(|source| DatabaseError::Migrate {
            service,
            url: redact_url(url),
            source,
        })?;
    Ok(store)
}

/// `keel migrate` for one service: create its database when missing, then bring the event
/// store's schema up to date. True when the database was created.
pub async fn migrate(service: ServiceKind, url: &str) -> Result<bool, DatabaseError> {
    let created = ensure_database(service, url).await?;
    let settings = StoreSettings {
        max_connections: 1,
        ..StoreSettings::default()
    };
    let store = connect(service, url, settings).await?;
    store.pool().close().await;
    Ok(created)
}
