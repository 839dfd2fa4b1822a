//! The database: embedded SQLite by default (one file, WAL), PostgreSQL for several server
//! nodes. Both go through sqlx's `Any` driver with the same queries (`$1` placeholders work in
//! both), and each has its own migrations.

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Connection pools and the backend behind them.
#[derive(Clone)]
pub struct Db {
    /// The pool for reads.
    pub pool: AnyPool,
    /// The pool for writes. With SQLite it is one connection: SQLite lets one writer in at a
    /// time, and connections that race for the lock wait in its busy handler, which sleeps
    /// 1 ms and more per try; one connection queues writers in order instead. With PostgreSQL
    /// it is the same pool as [`pool`](Self::pool).
    pub writer: AnyPool,
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
        let (pool, writer) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let memory = rest.contains(":memory:");
            if !memory && !rest.contains("mode=memory") {
                // Create the file on first start, for its owner only, whatever mode the URL asks
                // SQLite for (SQLite itself would create it with the umask, often world-readable).
                create_private(rest.trim_start_matches("//").split('?').next().unwrap_or(rest))?;
            }
            let url = if memory || rest.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{}mode=rwc", if rest.contains('?') { '&' } else { '?' })
            };
            if memory {
                // Every connection to `:memory:` is a database of its own: one for everything.
                let pool = sqlite_pool(1).connect(&url).await.context("opening the database")?;
                (pool.clone(), pool)
            } else {
                let writer = sqlite_pool(1)
                    .connect(&url)
                    .await
                    .with_context(|| format!("opening the database {url}"))?;
                let readers = sqlite_pool(SQLITE_READERS)
                    .connect(&url)
                    .await
                    .with_context(|| format!("opening the database {url}"))?;
                (readers, writer)
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            (pool.clone(), pool)
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
        migrator.run(&writer).await.context("migrating the database")?;
        let postgres_url = (!url.starts_with("sqlite:")).then(|| url.to_owned());
        Ok(Self { pool, writer, postgres_url })
    }
}

/// Creates an empty SQLite file at `path` with mode 0600 unless it exists (then warns if others
/// may read it); SQLite takes an empty file for a new database. SQLite creates the write-ahead
/// log (`-wal`) and the shared memory (`-shm`) with the permissions of the database file, so
/// they are private too: all three hold sessions, audit records and sealed secrets.
fn create_private(path: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            // A file made by hand or by an older server is left as it is, but said so.
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path,
                        mode = format!("{:o}", mode & 0o777),
                        "the database file is open to other users; chmod 600 it"
                    );
                }
            }
            Ok(())
        }
        Err(err) => Err(err).with_context(|| format!("creating the database {path}")),
    }
}

/// Connections that read an SQLite file beside its one writer (WAL: readers never wait for
/// the writer). Two cores' worth and a little more.
const SQLITE_READERS: u32 = 4;

/// Options of an SQLite pool of `size` connections.
fn sqlite_pool(size: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        // A local file does not drop connections; checking each one before every query would
        // double the round trips to SQLite's worker thread.
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; the busy timeout queues a writer
                // behind another process's (an administrator's command) instead of failing.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                Ok(())
            })
        })
}
