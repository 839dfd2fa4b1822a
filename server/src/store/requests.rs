//! The `push_requests` table: push login requests as sent to devices, each approved at most
//! once.

use pushotp::push::EndReason;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::db::Db;
use crate::states::{LoginState, RequestState, TokenState};
use crate::store::logins;

/// A request as stored, for checking its answer.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// The token it was sent to.
    pub token_id: String,
    /// The sign-in it belongs to.
    pub login_id: String,
    /// The signed request as sent (JSON).
    pub body: String,
    /// The number the login page shows, with number matching.
    pub right_number: Option<i64>,
    /// Where it is in its life.
    pub state: RequestState,
    /// When it can no longer be answered.
    pub expires_at: i64,
}

/// A request to store as sent, pending.
#[derive(Debug)]
pub struct NewRequest<'a> {
    /// The request's id, base64url.
    pub id: &'a str,
    /// The token it is sent to.
    pub token_id: &'a str,
    /// The sign-in it belongs to.
    pub login_id: &'a str,
    /// The signed request (JSON).
    pub body: &'a str,
    /// The number the login page shows, with number matching.
    pub right_number: Option<i64>,
    /// When it was made.
    pub created_at: i64,
    /// When it can no longer be answered.
    pub expires_at: i64,
}

/// Stores a request as sent.
async fn insert<'e>(
    executor: impl Executor<'e, Database = Any>,
    request: &NewRequest<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO push_requests (id, token_id, login_id, body, right_number, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(request.id)
    .bind(request.token_id)
    .bind(request.login_id)
    .bind(request.body)
    .bind(request.right_number)
    .bind(RequestState::Pending.as_str())
    .bind(request.created_at)
    .bind(request.expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// One request by id.
pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<RequestRow>> {
    let row = sqlx::query(
        "SELECT r.token_id, r.login_id, r.body, r.right_number, r.state, r.expires_at FROM push_requests r WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(RequestRow {
        token_id: row.try_get("token_id")?,
        login_id: row.try_get("login_id")?,
        body: row.try_get("body")?,
        right_number: row.try_get("right_number")?,
        state: row.try_get::<String, _>("state")?.parse()?,
        expires_at: row.try_get("expires_at")?,
    }))
}

/// What the push limits of one person look at.
#[derive(Debug, Clone, Copy)]
pub struct PushHistory {
    /// The most requests any one of the person's tokens got since the time asked about, leaving
    /// out those of sign-ins that were approved: every push goes to each active token, so this
    /// is the number of pushes that did not sign the person in. Whatever a push bomber causes
    /// counts (waiting, replaced by a newer push, expired, denied, reported, answered wrongly);
    /// the person's own successful sign-ins do not, and neither do the copies of their requests
    /// that an approval on another device closed.
    pub pushes: i64,
    /// When a request of theirs was last denied or reported.
    pub last_refusal: Option<i64>,
}

/// The push history of a person since `since`. One query for both limits.
async fn push_history<'e>(
    executor: impl Executor<'e, Database = Any>,
    user_id: i64,
    since: i64,
) -> anyhow::Result<PushHistory> {
    // A login is approved, or done once its session opened, only by the person's approval or
    // a right passcode: its pushes are the person's own sign-in.
    let row = sqlx::query(
        "SELECT (SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM push_requests r \
         JOIN tokens t ON t.id = r.token_id JOIN logins l ON l.id = r.login_id \
         WHERE t.user_id = $1 AND r.created_at > $2 AND l.state NOT IN ($5, $6) \
         GROUP BY r.token_id) AS per_token) AS n, \
         (SELECT MAX(r.answered_at) FROM push_requests r JOIN tokens t ON t.id = r.token_id \
         WHERE t.user_id = $1 AND r.state IN ($3, $4)) AS last",
    )
    .bind(user_id)
    .bind(since)
    .bind(RequestState::Denied.as_str())
    .bind(RequestState::Reported.as_str())
    .bind(LoginState::Approved.as_str())
    .bind(LoginState::Done.as_str())
    .fetch_one(executor)
    .await?;
    Ok(PushHistory {
        pushes: row.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
        last_refusal: row.try_get("last")?,
    })
}

/// A push of one sign-in: its requests, one per active token of the person.
#[derive(Debug)]
pub struct NewPush<'a> {
    /// The person signing in.
    pub user_id: i64,
    /// The sign-in.
    pub login_id: &'a str,
    /// The number its page shows, with number matching.
    pub number: Option<i64>,
    /// Whether the sign-in's earlier requests are still to be replaced (it pushed before).
    pub replaces: bool,
    /// The push limits look at the person's pushes since this time.
    pub since: i64,
    /// The requests.
    pub requests: &'a [NewRequest<'a>],
}

/// What became of a [`NewPush`].
#[derive(Debug)]
pub enum PushStored<E> {
    /// Stored and the sign-in waiting: the earlier requests it replaced (to tell their devices).
    Stored(Vec<Ended>),
    /// The push limits refused it, for this reason: nothing changed.
    Refused(E),
    /// The sign-in is no longer open (approved, denied, locked or done meanwhile): nothing
    /// changed.
    NotOpen,
}

/// Stores a push if `allow` lets it through given the person's push history: the history is
/// read, the sign-in set waiting, its earlier requests replaced and the new ones stored in one
/// transaction that runs for one person at a time, so that pushes racing from any number of
/// the person's sign-ins (on any number of server nodes) see each other and the limits hold.
///
/// A count and an insert in one statement (`INSERT … SELECT … WHERE (SELECT COUNT(*) …) < N`)
/// would not do on PostgreSQL: under READ COMMITTED two such statements each count without the
/// other's uncommitted rows, and both insert. So each push first locks its person's `users`
/// row (`FOR NO KEY UPDATE`: pushes of one person queue, while sign-ins and tokens, whose
/// foreign keys only take a key-share lock on that row, go on), and under READ COMMITTED each
/// statement after the lock sees what the push before it committed. SQLite has no row locks:
/// the transaction starts with `BEGIN IMMEDIATE`, which takes the database's write lock before
/// the history is read, so no other writer (of this process or another, such as an
/// administrator's command) comes between the read and the insert, and the read cannot fail
/// to upgrade to a write the way a deferred transaction's can.
pub async fn insert_push<E>(
    db: &Db,
    push: &NewPush<'_>,
    allow: impl FnOnce(PushHistory) -> Result<(), E>,
) -> anyhow::Result<PushStored<E>> {
    let mut tx = if db.postgres_url.is_some() {
        let mut tx = db.writer.begin().await?;
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(push.user_id)
            .execute(&mut *tx)
            .await?;
        tx
    } else {
        db.writer.begin_with("BEGIN IMMEDIATE").await?
    };
    let history = push_history(&mut *tx, push.user_id, push.since).await?;
    if let Err(refusal) = allow(history) {
        tx.rollback().await?;
        return Ok(PushStored::Refused(refusal));
    }
    if !logins::set_waiting(&mut *tx, push.login_id, push.number).await? {
        tx.rollback().await?;
        return Ok(PushStored::NotOpen);
    }
    let replaced = if push.replaces {
        let (state, why) = (RequestState::Cancelled, EndReason::Replaced);
        end_pending(&mut *tx, Pending::OfLogin, push.login_id, state, why).await?
    } else {
        Vec::new()
    };
    for request in push.requests {
        insert(&mut *tx, request).await?;
    }
    tx.commit().await?;
    Ok(PushStored::Stored(replaced))
}

/// Claims a pending request for its answer, in one statement: whatever races, one answer
/// wins, and the others find it claimed. An answer that is not newer than the request's last
/// wrong-PIN answer (its device's `answeredAt`, `device_time`) is a replay and never claims.
/// Returns whether this call won.
pub async fn claim(db: &Db, id: &str, answered_at: i64, device_time: i64) -> anyhow::Result<bool> {
    let claimed = sqlx::query(
        "UPDATE push_requests SET state = $1, answered_at = $2 \
         WHERE id = $3 AND state = $4 AND (tried_at IS NULL OR tried_at < $5)",
    )
    .bind(RequestState::Answering.as_str())
    .bind(answered_at)
    .bind(id)
    .bind(RequestState::Pending.as_str())
    .bind(device_time)
    .execute(&db.writer)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Hands a claimed request back after a wrong PIN, in one statement: pending again, so that
/// the person can type the PIN again, and answerable only by an answer newer than this one's
/// `device_time`. Only the claim's holder calls it, so no other answer ran meanwhile. A
/// request whose sign-in or token was cancelled while it was claimed (see [`end_pending`]) is
/// cancelled instead, and returned with the reason, so that its device is told.
pub async fn release(
    db: &Db,
    id: &str,
    device_time: i64,
) -> anyhow::Result<Option<(Ended, EndReason)>> {
    let row = sqlx::query(
        "UPDATE push_requests SET state = CASE WHEN ended_why IS NULL THEN $1 ELSE $2 END, \
         answered_at = NULL, tried_at = $3 WHERE id = $4 AND state = $5 \
         RETURNING id, token_id, ended_why",
    )
    .bind(RequestState::Pending.as_str())
    .bind(RequestState::Cancelled.as_str())
    .bind(device_time)
    .bind(id)
    .bind(RequestState::Answering.as_str())
    .fetch_optional(&db.writer)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(why) = row.try_get::<Option<String>, _>("ended_why")? else { return Ok(None) };
    let ended = Ended { id: row.try_get("id")?, token_id: row.try_get("token_id")? };
    Ok(Some((ended, why.parse()?)))
}

/// Records a claimed request's outcome. Its answer told its device, so any end reason
/// [`end_pending`] marked it with meanwhile is dropped: nothing more is said of it.
pub async fn settle(db: &Db, id: &str, state: RequestState) -> anyhow::Result<()> {
    sqlx::query("UPDATE push_requests SET state = $1, ended_why = NULL WHERE id = $2")
        .bind(state.as_str())
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Records a claimed request as approved, in one statement, unless its token was removed,
/// revoked or restored elsewhere while the answer held it (marked by [`end_pending`]), or is
/// not active (an administrator locked it after its passcode was taken): then it approves
/// nothing. Returns whether it was approved.
pub async fn approve(db: &Db, id: &str) -> anyhow::Result<bool> {
    let approved = sqlx::query(
        "UPDATE push_requests SET state = $1, ended_why = NULL \
         WHERE id = $2 AND state = $3 AND (ended_why IS NULL OR ended_why <> $4) \
         AND EXISTS (SELECT 1 FROM tokens t WHERE t.id = push_requests.token_id AND t.state = $5)",
    )
    .bind(RequestState::Approved.as_str())
    .bind(id)
    .bind(RequestState::Answering.as_str())
    .bind(EndReason::Removed.name())
    .bind(TokenState::Active.as_str())
    .execute(&db.writer)
    .await?;
    Ok(approved.rows_affected() == 1)
}

/// Whether a request is still pending (a read, beside the writer).
pub async fn is_pending(db: &Db, id: &str) -> anyhow::Result<bool> {
    let pending =
        sqlx::query("SELECT 1 AS pending FROM push_requests WHERE id = $1 AND state = $2")
            .bind(id)
            .bind(RequestState::Pending.as_str())
            .fetch_optional(&db.pool)
            .await?;
    Ok(pending.is_some())
}

/// A request that ended without its device's answer: the device must be told (protocol §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The request's id, base64url.
    pub id: String,
    /// The token it was sent to.
    pub token_id: String,
}

fn ended(rows: &[AnyRow]) -> anyhow::Result<Vec<Ended>> {
    rows.iter()
        .map(|r| Ok(Ended { id: r.try_get("id")?, token_id: r.try_get("token_id")? }))
        .collect()
}

/// Expires a request if it is still pending. Returns it if this call expired it.
pub async fn expire(db: &Db, id: &str) -> anyhow::Result<Option<Ended>> {
    Ok(end_pending(&db.writer, Pending::Id, id, RequestState::Expired, EndReason::Expired)
        .await?
        .pop())
}

/// Which pending requests [`end_pending`] ends: those of one id, one sign-in or one token.
enum Pending {
    Id,
    OfLogin,
    OfToken,
}

/// Ends the pending requests whose `which` column is `key`, in one statement, as `state` for
/// `why`, and returns them (a request no longer pending is left as it is).
///
/// A cancelled sign-in or token also marks, in the same statement, the requests an answer holds
/// at that moment (`answering`) with `why`: their answer decides them, and one handed back by
/// [`release`] after a wrong PIN then ends instead of waiting again.
async fn end_pending<'e>(
    executor: impl Executor<'e, Database = Any>,
    which: Pending,
    key: &str,
    state: RequestState,
    why: EndReason,
) -> anyhow::Result<Vec<Ended>> {
    // Whole statements, not a column pasted in: sqlx takes only static SQL.
    let sql = match which {
        Pending::Id => {
            "UPDATE push_requests SET state = $1, ended_why = $2 WHERE id = $3 AND state = $4 \
             RETURNING id, token_id, state"
        }
        Pending::OfLogin => {
            "UPDATE push_requests SET state = CASE WHEN state = $4 THEN $1 ELSE state END, \
             ended_why = $2 WHERE login_id = $3 AND state IN ($4, $5) \
             RETURNING id, token_id, state"
        }
        Pending::OfToken => {
            "UPDATE push_requests SET state = CASE WHEN state = $4 THEN $1 ELSE state END, \
             ended_why = $2 WHERE token_id = $3 AND state IN ($4, $5) \
             RETURNING id, token_id, state"
        }
    };
    let rows = sqlx::query(sql)
        .bind(state.as_str())
        .bind(why.name())
        .bind(key)
        .bind(RequestState::Pending.as_str())
        .bind(RequestState::Answering.as_str())
        .fetch_all(executor)
        .await?;
    let ended_now: Vec<AnyRow> = rows
        .into_iter()
        .filter(|r| r.try_get::<String, _>("state").is_ok_and(|s| s == state.as_str()))
        .collect();
    ended(&ended_now)
}

/// How many requests of a sign-in are still pending.
pub async fn pending_of_login(db: &Db, login_id: &str) -> anyhow::Result<i64> {
    let still =
        sqlx::query("SELECT COUNT(*) AS n FROM push_requests WHERE login_id = $1 AND state = $2")
            .bind(login_id)
            .bind(RequestState::Pending.as_str())
            .fetch_one(&db.pool)
            .await?;
    Ok(still.try_get("n")?)
}

/// Cancels a sign-in's pending requests (on every device of the person), for `why`, and returns
/// them.
pub async fn cancel_pending_of_login(
    db: &Db,
    login_id: &str,
    why: EndReason,
) -> anyhow::Result<Vec<Ended>> {
    end_pending(&db.writer, Pending::OfLogin, login_id, RequestState::Cancelled, why).await
}

/// Cancels a removed token's pending requests and returns them.
pub async fn cancel_pending_of_token(db: &Db, token_id: &str) -> anyhow::Result<Vec<Ended>> {
    end_pending(&db.writer, Pending::OfToken, token_id, RequestState::Cancelled, EndReason::Removed)
        .await
}

/// The id and end reason of each request of a token that ended without its answer and whose
/// time was up no earlier than `since`, oldest first.
pub async fn ended_of_token(
    db: &Db,
    token_id: &str,
    since: i64,
) -> anyhow::Result<Vec<(String, EndReason)>> {
    let rows = sqlx::query(
        "SELECT id, ended_why FROM push_requests WHERE token_id = $1 AND state IN ($2, $3) \
         AND ended_why IS NOT NULL AND expires_at > $4 ORDER BY created_at",
    )
    .bind(token_id)
    .bind(RequestState::Cancelled.as_str())
    .bind(RequestState::Expired.as_str())
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get::<String, _>("ended_why")?.parse()?)))
        .collect()
}

/// The id and sign-in of each request still pending at `now` although its time is up.
pub async fn overdue(db: &Db, now: i64) -> anyhow::Result<Vec<(String, String)>> {
    let rows =
        sqlx::query("SELECT id, login_id FROM push_requests WHERE state = $1 AND expires_at <= $2")
            .bind(RequestState::Pending.as_str())
            .bind(now)
            .fetch_all(&db.pool)
            .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("login_id")?))).collect()
}

/// The pending, unexpired requests of a token, as sent, oldest first.
pub async fn pending_bodies(db: &Db, token_id: &str, now: i64) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT body FROM push_requests WHERE token_id = $1 AND state = $2 AND expires_at > $3 ORDER BY created_at",
    )
    .bind(token_id)
    .bind(RequestState::Pending.as_str())
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("body")?)).collect()
}
