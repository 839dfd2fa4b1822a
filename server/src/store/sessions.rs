//! The `sessions` table: signed-in sessions of the demo app, each under the SHA-256 hash of
//! the browser's `ses_…` cookie (`ids::stored_id`), never the cookie itself.

use sqlx::Row;

use crate::db::Db;

/// Opens a session.
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

/// The id and name of the person signed in with session `id`, while it lasts.
pub async fn user_of(db: &Db, id: &str, now: i64) -> anyhow::Result<Option<(i64, String)>> {
    let row = sqlx::query(
        "SELECT u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("username")?))).transpose()?)
}

/// Ends a session.
pub async fn delete(db: &Db, id: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&db.writer).await?;
    Ok(())
}
