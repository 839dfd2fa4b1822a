//! The `users` table: people and their password hashes.

use sqlx::Row;

use crate::db::Db;

/// A person who can sign in.
#[derive(Debug, Clone)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
}

/// Adds a person with a password hash; fails if the name is taken. Returns the new row id.
pub async fn insert(
    db: &Db,
    username: &str,
    password_hash: &str,
    created_at: i64,
) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(created_at)
    .fetch_one(&db.writer)
    .await?;
    Ok(row.try_get("id")?)
}

/// The person named `username`, if any.
pub async fn find(db: &Db, username: &str) -> anyhow::Result<Option<User>> {
    let row = sqlx::query("SELECT id, username FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>(User { id: r.try_get("id")?, username: r.try_get("username")? })
        })
        .transpose()?)
}

/// Whether the table has anyone (a count of at most one row, the same type in both backends).
pub async fn any(db: &Db) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS found FROM (SELECT 1 FROM users LIMIT 1) AS one")
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get::<i64, _>("found")? > 0)
}

/// The person named `username` and their password hash (a PHC string), if any.
pub async fn with_password_hash(db: &Db, username: &str) -> anyhow::Result<Option<(User, String)>> {
    let row = sqlx::query("SELECT id, username, password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>((
                User { id: r.try_get("id")?, username: r.try_get("username")? },
                r.try_get("password_hash")?,
            ))
        })
        .transpose()?)
}
