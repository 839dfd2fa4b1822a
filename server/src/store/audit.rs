//! The `audit` table: written only through [`crate::audit::Audit::record`].

use crate::db::Db;

/// Appends one record.
pub async fn insert(
    db: &Db,
    at: i64,
    event: &str,
    username: Option<&str>,
    token_id: Option<&str>,
    client_ip: Option<&str>,
    detail: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, event, username, token_id, client_ip, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(at)
    .bind(event)
    .bind(username)
    .bind(token_id)
    .bind(client_ip)
    .bind(detail)
    .execute(&db.writer)
    .await?;
    Ok(())
}
