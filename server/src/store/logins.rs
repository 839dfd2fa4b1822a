//! The `logins` table: sign-ins waiting for their second factor.

use sqlx::{Any, Executor, Row};

use crate::db::Db;
use crate::states::{LoginState, Reason};

/// A sign-in in progress, with its person's name.
#[derive(Debug, Clone)]
pub struct Login {
    /// The SHA-256 hash of the browser's `lgn_…` cookie, as `ids::stored_id` makes it.
    pub id: String,
    /// Who is signing in.
    pub user_id: i64,
    /// Their login name.
    pub username: String,
    /// The app they sign in to.
    pub app: String,
    /// The login page's origin.
    pub origin: String,
    /// Where the browser connects from.
    pub client_ip: String,
    /// Where it is in its life.
    pub state: LoginState,
    /// Why it was refused, if it was.
    pub reason: Option<Reason>,
    /// The number the page shows while waiting, with number matching.
    pub number: Option<i64>,
    /// When it reached its outcome (for an approved login, when it was approved).
    pub completed_at: Option<i64>,
    /// How many codes were compared with its sign-in code ([`take_login_code_try`]).
    pub code_tries: i64,
    /// Whether wrong codes used up the tries at its sign-in code ([`spend_login_code`]): an
    /// approved login that can no longer be completed.
    pub code_spent: bool,
    /// The binding of its login page's newest load ([`set_binding`], docs/protocol.md §5,
    /// "Same-browser approvals"), base64url, to which its pushes commit.
    pub binding: Option<String>,
}

impl Login {
    /// Whether it is over for good: denied, reported or locked, its session opened, or its
    /// sign-in code used up by wrong codes. The person starts again with the password.
    pub fn is_over(&self) -> bool {
        self.code_spent
            || (!LoginState::OPEN.contains(&self.state) && self.state != LoginState::Approved)
    }
}

/// A sign-in to store after a right password.
#[derive(Debug)]
pub struct NewLogin<'a> {
    /// The SHA-256 hash of the browser's `lgn_…` cookie, as `ids::stored_id` makes it.
    pub id: &'a str,
    /// Who is signing in.
    pub user_id: i64,
    /// The app they sign in to.
    pub app: &'a str,
    /// The login page's origin.
    pub origin: &'a str,
    /// Where the browser connects from.
    pub client_ip: &'a str,
    /// When the password was checked.
    pub created_at: i64,
    /// When the sign-in must have its second factor by.
    pub expires_at: i64,
}

/// Stores a new sign-in, its password checked.
pub async fn insert(db: &Db, login: &NewLogin<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO logins (id, user_id, app, origin, client_ip, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(login.id)
    .bind(login.user_id)
    .bind(login.app)
    .bind(login.origin)
    .bind(login.client_ip)
    .bind(LoginState::PasswordOk.as_str())
    .bind(login.created_at)
    .bind(login.expires_at)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A sign-in by id, unless it has expired at `now`.
pub async fn get(db: &Db, id: &str, now: i64) -> anyhow::Result<Option<Login>> {
    let row = sqlx::query(
        "SELECT l.id, l.user_id, u.username, l.app, l.origin, l.client_ip, l.state, l.reason, l.number, \
         l.completed_at, l.login_code, l.login_code_tries, l.binding \
         FROM logins l JOIN users u ON u.id = l.user_id WHERE l.id = $1 AND l.expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let code: Option<String> = row.try_get("login_code")?;
    let tries: i64 = row.try_get("login_code_tries")?;
    Ok(Some(Login {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        app: row.try_get("app")?,
        origin: row.try_get("origin")?,
        client_ip: row.try_get("client_ip")?,
        state: row.try_get::<String, _>("state")?.parse()?,
        reason: row.try_get::<Option<String>, _>("reason")?.map(|r| r.parse()).transpose()?,
        number: row.try_get("number")?,
        completed_at: row.try_get("completed_at")?,
        code_tries: tries,
        code_spent: code.is_none() && tries >= LOGIN_CODE_TRIES,
        binding: row.try_get("binding")?,
    }))
}

/// Marks a sign-in as waiting for its pushes, with the number its page shows, only while it
/// is open ([`LoginState::OPEN`]): an approved, denied or locked sign-in stays so. Returns
/// whether it is waiting now.
pub async fn set_waiting<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    number: Option<i64>,
) -> anyhow::Result<bool> {
    let [a, b, c, d] = LoginState::OPEN.map(LoginState::as_str);
    let waiting = sqlx::query(
        "UPDATE logins SET state = $1, number = $2, reason = NULL \
         WHERE id = $3 AND state IN ($4, $5, $6, $7)",
    )
    .bind(LoginState::Waiting.as_str())
    .bind(number)
    .bind(id)
    .bind(a)
    .bind(b)
    .bind(c)
    .bind(d)
    .execute(executor)
    .await?;
    Ok(waiting.rows_affected() == 1)
}

/// Moves a sign-in to an outcome, only while it is open ([`LoginState::OPEN`]). Returns
/// whether it moved.
pub async fn finish(
    db: &Db,
    id: &str,
    state: LoginState,
    reason: Option<Reason>,
    completed_at: i64,
) -> anyhow::Result<bool> {
    let [a, b, c, d] = LoginState::OPEN.map(LoginState::as_str);
    let moved = sqlx::query(
        "UPDATE logins SET state = $1, reason = $2, completed_at = $3 \
         WHERE id = $4 AND state IN ($5, $6, $7, $8)",
    )
    .bind(state.as_str())
    .bind(reason.map(Reason::as_str))
    .bind(completed_at)
    .bind(id)
    .bind(a)
    .bind(b)
    .bind(c)
    .bind(d)
    .execute(&db.writer)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Gives login `id` the binding of its login page's newest load: pushes started from now on
/// commit to it, and an earlier load's binding binds none of them.
pub async fn set_binding(db: &Db, id: &str, binding: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE logins SET binding = $1 WHERE id = $2")
        .bind(binding)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Keeps the MAC of the sign-in code of an approved login (docs/protocol.md §5), once: a
/// login that has one keeps it. Returns whether it was kept.
pub async fn set_login_code(db: &Db, id: &str, code_hash: &str) -> anyhow::Result<bool> {
    let kept = sqlx::query(
        "UPDATE logins SET login_code = $1 WHERE id = $2 AND state = $3 AND login_code IS NULL",
    )
    .bind(code_hash)
    .bind(id)
    .bind(LoginState::Approved.as_str())
    .execute(&db.writer)
    .await?;
    Ok(kept.rows_affected() == 1)
}

/// Codes compared with a login's sign-in code at most: room for a typo or two, and nothing
/// like what guessing one of a million codes needs.
pub const LOGIN_CODE_TRIES: i64 = 3;

/// Counts one more code to compare with the sign-in code of the approved login `id`, before it
/// is compared, in one conditional statement: only while the login has its code and fewer than
/// [`LOGIN_CODE_TRIES`] were counted. So codes sent at once are each counted, and no more than
/// that many are ever compared. Returns the hash to compare with and this try's number, or
/// `None` when nothing may be compared (no code, or its tries used up).
pub async fn take_login_code_try(db: &Db, id: &str) -> anyhow::Result<Option<(String, i64)>> {
    let row = sqlx::query(
        "UPDATE logins SET login_code_tries = login_code_tries + 1 \
         WHERE id = $1 AND state = $2 AND login_code IS NOT NULL AND login_code_tries < $3 \
         RETURNING login_code, login_code_tries",
    )
    .bind(id)
    .bind(LoginState::Approved.as_str())
    .bind(LOGIN_CODE_TRIES)
    .fetch_optional(&db.writer)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("login_code")?, row.try_get("login_code_tries")?)))
}

/// After a wrong code that used the last try: clears the sign-in code of login `id`, which then
/// can no longer be completed, by a code or by [`complete`]; the person starts again with the
/// password. Returns whether it was cleared now.
pub async fn spend_login_code(db: &Db, id: &str) -> anyhow::Result<bool> {
    let spent = sqlx::query(
        "UPDATE logins SET login_code = NULL \
         WHERE id = $1 AND login_code IS NOT NULL AND login_code_tries >= $2",
    )
    .bind(id)
    .bind(LOGIN_CODE_TRIES)
    .execute(&db.writer)
    .await?;
    Ok(spent.rows_affected() == 1)
}

/// How a sign-in is completed ([`complete`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// By the page itself, after the approval: only while the login has a try left, so that
    /// once wrong codes took its last one it opens nothing, even before [`spend_login_code`]
    /// clears its code.
    ByPage,
    /// By the sign-in code, found right under a try it took: it may have taken the last one.
    ByCode,
}

/// Marks an approved sign-in done, in one statement: only one session per approval, even if
/// two tabs race, and none by the page for a login whose tries wrong codes used up
/// ([`Completion`]). Returns whether this call did it.
pub async fn complete(db: &Db, id: &str, by: Completion) -> anyhow::Result<bool> {
    // The most tries a login may have taken and still be completed this way.
    let tries_taken = match by {
        Completion::ByPage => LOGIN_CODE_TRIES - 1,
        Completion::ByCode => LOGIN_CODE_TRIES,
    };
    let done = sqlx::query(
        "UPDATE logins SET state = $1 WHERE id = $2 AND state = $3 AND login_code_tries <= $4",
    )
    .bind(LoginState::Done.as_str())
    .bind(id)
    .bind(LoginState::Approved.as_str())
    .bind(tries_taken)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}
