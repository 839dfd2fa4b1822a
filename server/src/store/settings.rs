//! The `server_settings` table: server-wide values such as the sealed VAPID key.

use sqlx::Row;

use crate::db::Db;

/// The value stored under `name`, if any.
pub async fn get(db: &Db, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT value FROM server_settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|row| row.try_get("value")).transpose()?)
}

/// Stores `value` under `name`, replacing any value there.
pub async fn put(db: &Db, name: &str, value: &[u8]) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO server_settings (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Stores `value` under `name` unless a value is there already: of two nodes starting at once,
/// the first one's value stays.
pub async fn insert_if_absent(db: &Db, name: &str, value: &[u8]) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(&db.writer)
    .await?;
    Ok(())
}
