//! The `sessions` table: signed-in sessions of the demo app, each under the SHA-256 hash of
//! the browser's `ses_…` cookie (`ids::stored_id`), never the cookie itself.

use sqlx::Row;

use crate::db::Db;

/// A signed-in session, with its person's name.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub user_id: i64,
    /// Their login name.
    pub username: String,
    /// When its second factor was given (the approval or the typed passcode).
    pub created_at: i64,
}

/// Opens a session; `created_at` is when its second factor was given.
pub async fn insert(
    db: &Db,
    id: &str,
    user_id: i64,
    created_at: i64,
    expires_at: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(user_id)
    .bind(created_at)
    .bind(expires_at)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The session `id`, while it lasts.
pub async fn get(db: &Db, id: &str, now: i64) -> anyhow::Result<Option<Session>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, s.created_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>(Session {
                user_id: r.try_get("id")?,
                username: r.try_get("username")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()?)
}

/// Ends a session.
pub async fn delete(db: &Db, id: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&db.writer).await?;
    Ok(())
}
