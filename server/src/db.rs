//! The database: embedded SQLite by default (one file, WAL), PostgreSQL for several server
//! nodes. Both go through sqlx's `Any` driver with the same queries (`$1` placeholders work in
//! both), and each has its own migrations.

use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// A connection pool and the backend behind it.
#[derive(Clone)]
pub struct Db {
    /// The pool; every query goes through it.
    pub pool: AnyPool,
    /// The PostgreSQL URL, when the database is shared by several nodes.
    pub postgres_url: Option<String>,
}

impl std::fmt::Debug for Db {
    // The PostgreSQL URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("shared", &self.postgres_url.is_some()).finish_non_exhaustive()
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:` or `postgres://…`) and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        install_default_drivers();
        let pool = if let Some(rest) = url.strip_prefix("sqlite:") {
            let memory = rest.contains(":memory:");
            let url = if memory || rest.contains("mode=") {
                url.to_owned()
            } else {
                // Create the file on first start.
                format!("{url}{}mode=rwc", if rest.contains('?') { '&' } else { '?' })
            };
            AnyPoolOptions::new()
                // Every connection to `:memory:` is a database of its own.
                .max_connections(if memory { 1 } else { 8 })
                .min_connections(if memory { 1 } else { 0 })
                .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
                .max_lifetime(if memory { None } else { Some(Duration::from_secs(3600)) })
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; the busy timeout queues
                        // writers instead of failing them.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await
                .with_context(|| format!("opening the database {url}"))?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            AnyPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?
        } else {
            anyhow::bail!(
                "unsupported database URL {url:?}: use sqlite://FILE, sqlite::memory: or postgres://…"
            );
        };
        let migrator = if url.starts_with("sqlite:") {
            sqlx::migrate!("./migrations/sqlite")
        } else {
            sqlx::migrate!("./migrations/postgres")
        };
        migrator.run(&pool).await.context("migrating the database")?;
        let postgres_url = (!url.starts_with("sqlite:")).then(|| url.to_owned());
        Ok(Self { pool, postgres_url })
    }
}
