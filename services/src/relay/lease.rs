//! One active relay per database: a session-level advisory lock on a connection of its own.
//!
//! Losing the connection loses the lock, and PostgreSQL ends a session that stays idle
//! longer than `idle_session_timeout` (set to the failover timeout), so a leader that is
//! paused (SIGSTOP, a VM freeze) loses its lock after that long, even though its socket
//! stays open. A live leader keeps its session busy with a heartbeat. A paused leader that
//! comes back is stopped by Kafka's fencing, not by this lock (see `publisher`).

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use super::error::RelayError;

/// The lock's key ("keelrela"); advisory locks are per database, so one key serves all.
const LOCK_KEY: i64 = 0x6b65_656c_7265_6c61;

pub struct Lease {
    conn: PgConnection,
    heartbeat: Duration,
}

/// A session that PostgreSQL ends after `failover` of silence.
async fn connect(url: &str, failover: Duration) -> Result<PgConnection, RelayError> {
    let options: PgConnectOptions = url.parse()?;
    let idle = format!("{}ms", failover.as_millis().max(1));
    let options = options.options([("idle_session_timeout", idle.as_str())]);
    let connect = options.connect();
    tokio::time::timeout(failover.max(Duration::from_secs(5)), connect)
        .await
        .map_err(|_| RelayError::Database(sqlx::Error::PoolTimedOut))?
        .map_err(RelayError::from)
}

impl Lease {
    /// Waits until this process holds the lock, trying every `failover / 4`.
    pub async fn acquire(url: &str, failover: Duration) -> Result<Lease, RelayError> {
        let retry = (failover / 4).max(Duration::from_millis(50));
        let mut conn = connect(url, failover).await?;
        loop {
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(LOCK_KEY)
                .fetch_one(&mut conn)
                .await?;
            if locked {
                return Ok(Lease {
                    conn,
                    heartbeat: (failover / 3).max(Duration::from_millis(50)),
                });
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// Keeps the session alive; returns when it is lost (so is the lock).
    pub async fn keep(&mut self) -> RelayError {
        loop {
            tokio::time::sleep(self.heartbeat).await;
            let ping = sqlx::query("SELECT 1").execute(&mut self.conn);
            match tokio::time::timeout(self.heartbeat * 3, ping).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return RelayError::Database(e),
                Err(_) => return RelayError::Database(sqlx::Error::PoolTimedOut),
            }
        }
    }

    /// Gives the lock back at once (closing the session would too, a moment later).
    pub async fn release(mut self) {
        let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut self.conn);
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(2), unlock).await {
            tracing::debug!(error = %e, "unlock failed; closing the session releases it");
        }
        let _ = self.conn.close().await;
    }
}
