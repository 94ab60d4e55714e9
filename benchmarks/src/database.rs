use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

/// Creates a fresh database for one run on the server `url` points at, and a pool on it.
pub async fn fresh(url: &str, name: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let admin: PgConnectOptions = url.parse().context("DATABASE_URL")?;
    let mut conn = PgConnection::connect_with(&admin).await.with_context(|| {
        format!("PostgreSQL at {url} unreachable (is `scripts/stack up` done?)")
    })?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let url = admin.database(name).to_url_lossy().to_string();
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .connect(&url)
        .await?)
}
