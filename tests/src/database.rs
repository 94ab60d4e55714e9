use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::{database_url, unique_suffix};

/// A PostgreSQL database of its own for one test, dropped when the guard is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin: PgConnectOptions,
}

impl TestDatabase {
    /// Creates `keel_test_<random>` on the server that `DATABASE_URL` points at.
    pub async fn create() -> Self {
        let admin: PgConnectOptions = database_url()
            .parse()
            .expect("DATABASE_URL is a PostgreSQL URL");
        let name = format!("keel_test_{}", unique_suffix());
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} unreachable: {e}", database_url()));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = admin.clone().database(&name).to_url_lossy().to_string();
        Self { name, url, admin }
    }

    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of
        // its own. FORCE ends connections that pools still hold.
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for dropping a test database");
            runtime.block_on(async move {
                let mut conn = PgConnection::connect_with(&admin).await?;
                sqlx::query(&sql).execute(&mut conn).await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
