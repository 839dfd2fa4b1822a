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

/// Wrong typed passcodes of a person in a row, and when the last one came (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasscodeFailures {
    /// How many, since the last right one (or since they lapsed).
    pub count: i64,
    /// When the last one came; 0 for none.
    pub last: i64,
}

/// A person's wrong typed passcodes so far.
pub async fn passcode_failures(db: &Db, user_id: i64) -> anyhow::Result<PasscodeFailures> {
    let row = sqlx::query("SELECT passcode_failures, passcode_failed_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&db.writer)
        .await?;
    Ok(PasscodeFailures {
        count: row.try_get("passcode_failures")?,
        last: row.try_get("passcode_failed_at")?,
    })
}

/// Moves a person's failures from `seen` to `next`, only if they are still `seen`: of two
/// tries racing, one moves them and the other sees that it lost. Returns whether this call
/// moved them.
pub async fn swap_passcode_failures(
    db: &Db,
    user_id: i64,
    seen: PasscodeFailures,
    next: PasscodeFailures,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET passcode_failures = $1, passcode_failed_at = $2 \
         WHERE id = $3 AND passcode_failures = $4 AND passcode_failed_at = $5",
    )
    .bind(next.count)
    .bind(next.last)
    .bind(user_id)
    .bind(seen.count)
    .bind(seen.last)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A right passcode: the person's count of wrong ones starts again.
pub async fn reset_passcode_failures(db: &Db, user_id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET passcode_failures = 0, passcode_failed_at = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}
