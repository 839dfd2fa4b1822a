//! The `reports` table: requests the person reported as fraud ("Deny → Yes, report").

use sqlx::Row;

use crate::db::Db;

/// One fraud report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The token whose request was reported.
    pub token_id: String,
    /// Its owner.
    pub username: String,
    /// The request's id.
    pub request_id: String,
    /// The app the request named.
    pub app: String,
    /// The login page's origin.
    pub origin: String,
    /// Where the sign-in came from.
    pub client_ip: String,
    /// City, country and coordinates, when known.
    pub place: Option<String>,
    /// When it was reported.
    pub created_at: i64,
}

/// Records a report.
pub async fn insert(db: &Db, report: &Report) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO reports (token_id, username, request_id, app, origin, client_ip, place, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&report.token_id)
    .bind(&report.username)
    .bind(&report.request_id)
    .bind(&report.app)
    .bind(&report.origin)
    .bind(&report.client_ip)
    .bind(&report.place)
    .bind(report.created_at)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Every report, newest first.
pub async fn list(db: &Db) -> anyhow::Result<Vec<Report>> {
    let rows = sqlx::query(
        "SELECT created_at, username, token_id, request_id, app, origin, client_ip, place FROM reports ORDER BY id DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Report {
                token_id: r.try_get("token_id")?,
                username: r.try_get("username")?,
                request_id: r.try_get("request_id")?,
                app: r.try_get("app")?,
                origin: r.try_get("origin")?,
                client_ip: r.try_get("client_ip")?,
                place: r.try_get("place")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
