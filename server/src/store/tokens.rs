//! The `tokens` table: push tokens, their sealed secrets, counters and Web Push subscriptions.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::states::TokenState;
use pushotp::Algorithm;
use pushotp::push::NoticeKind;

/// A token's row, without its secrets.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// `tok_…`
    pub id: String,
    /// Owner's user id.
    pub user_id: i64,
    /// Owner's login name.
    pub username: String,
    /// Shown to the person.
    pub name: String,
    /// Where it is in its life.
    pub state: TokenState,
    /// Whether answers need the PIN.
    pub pin_required: bool,
    /// Failed tries before locking.
    pub max_tries: i64,
    /// Failed tries counted as of the last one; they decay since ([`fail_try`]). What counts
    /// now is [`failed_tries_at`](Self::failed_tries_at).
    pub failed_tries: i64,
    /// When the last counted failed try was, in seconds since the epoch (0 for none).
    pub last_failed_at: i64,
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// Code length. (The columns `otp_type`, `period` and `last_used` hold the HOTP or TOTP
    /// settings of version 1, which version 2's request-bound passcodes no longer use.)
    pub digits: u8,
    /// The device's name, once enrolled.
    pub device_name: Option<String>,
    /// When the activation link stops working.
    pub activation_expires_at: Option<i64>,
    /// Whether the device registered a Web Push subscription.
    pub webpush: bool,
    /// The token's keys as sealed at rest, read with the row so that checking an answer or
    /// sending a push needs no second query; opened by [`crate::tokens::open_keys`].
    pub sealed_keys: Option<SealedKeys>,
}

impl TokenRow {
    /// The failed tries that count at `now` under a decay of `decay` seconds: the stored count
    /// less one per whole `decay` since the last one, never fewer than none (the rule
    /// [`fail_try`] counts with).
    pub fn failed_tries_at(&self, now: i64, decay: i64) -> i64 {
        let forgiven = now.saturating_sub(self.last_failed_at).max(0) / decay.max(1);
        self.failed_tries.saturating_sub(forgiven).max(0)
    }
}

/// Keys sealed under the server key (XChaCha20-Poly1305): useless without it, and still kept
/// out of `Debug` output.
#[derive(Clone)]
pub struct SealedKeys(pub(crate) Vec<u8>);

impl std::fmt::Debug for SealedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedKeys(..)")
    }
}

/// `SELECT` of a token row with its owner's name, followed by `$tail` (a literal, so the whole
/// statement stays a static string).
macro_rules! select_tokens {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.user_id, u.username, t.name, t.state, t.pin_required, t.max_tries, ",
            "t.failed_tries, t.last_failed_at, t.algorithm, t.digits, ",
            "t.device_name, t.activation_expires_at, t.keys_sealed, ",
            "CAST(CASE WHEN t.webpush_endpoint IS NULL THEN 0 ELSE 1 END AS BIGINT) AS webpush ",
            "FROM tokens t JOIN users u ON u.id = t.user_id ",
            $tail
        )
    };
}

fn from_row(r: &AnyRow) -> anyhow::Result<TokenRow> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        name: r.try_get("name")?,
        state: r.try_get::<String, _>("state")?.parse()?,
        pin_required: r.try_get::<i64, _>("pin_required")? != 0,
        max_tries: r.try_get("max_tries")?,
        failed_tries: r.try_get("failed_tries")?,
        last_failed_at: r.try_get("last_failed_at")?,
        algorithm: r.try_get::<String, _>("algorithm")?.parse()?,
        digits: u8::try_from(r.try_get::<i64, _>("digits")?)?,
        device_name: r.try_get("device_name")?,
        activation_expires_at: r.try_get("activation_expires_at")?,
        webpush: r.try_get::<i64, _>("webpush")? != 0,
        sealed_keys: r.try_get::<Option<Vec<u8>>, _>("keys_sealed")?.map(SealedKeys),
    })
}

/// One token by id.
pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<TokenRow>> {
    sqlx::query(select_tokens!("WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// All tokens, or one person's.
pub async fn list(db: &Db, user_id: Option<i64>) -> anyhow::Result<Vec<TokenRow>> {
    // Two statements rather than `$1 < 0 OR t.user_id = $1`: SQLite cannot use the index on
    // `user_id` for that, and read every token at every push.
    let rows = match user_id {
        Some(id) => {
            sqlx::query(select_tokens!("WHERE t.user_id = $1 ORDER BY t.created_at, t.id"))
                .bind(id)
                .fetch_all(&db.pool)
                .await?
        }
        None => {
            sqlx::query(select_tokens!("ORDER BY t.created_at, t.id")).fetch_all(&db.pool).await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// A token to create, pending until its activation link is redeemed.
#[derive(Debug)]
pub struct NewToken<'a> {
    /// `tok_…`
    pub id: &'a str,
    /// Its owner.
    pub user_id: i64,
    /// Shown to the person.
    pub name: &'a str,
    /// The activation secret, sealed for this row.
    pub activation_sealed: &'a [u8],
    /// When the activation link stops working.
    pub activation_expires_at: i64,
    /// Whether answers need the PIN.
    pub pin_required: bool,
    /// Failed tries before locking.
    pub max_tries: i64,
    /// When it was made.
    pub created_at: i64,
    /// The stored id of the session whose "Add a push authenticator" page made the link: the
    /// token then waits, once redeemed, for that session's confirmation. `None` for an
    /// administrator's link, active on redemption.
    pub enroll_session: Option<&'a str>,
}

/// Creates a pending HOTP token (SHA-1, six digits).
pub async fn insert(db: &Db, token: &NewToken<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO tokens (id, user_id, name, state, activation_sealed, activation_expires_at, \
         pin_required, max_tries, otp_type, algorithm, digits, period, created_at, \
         enroll_session) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'hotp', 'SHA1', 6, 30, $9, $10)",
    )
    .bind(token.id)
    .bind(token.user_id)
    .bind(token.name)
    .bind(TokenState::Pending.as_str())
    .bind(token.activation_sealed)
    .bind(token.activation_expires_at)
    .bind(i64::from(token.pin_required))
    .bind(token.max_tries)
    .bind(token.created_at)
    .bind(token.enroll_session)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The sealed activation secret of a token, until it is redeemed.
pub async fn activation_sealed(db: &Db, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT activation_sealed FROM tokens WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get("activation_sealed")?)
}

/// Spends a pending token's activation link and stores its keys, in one statement: of two
/// devices racing with the same link one wins. The token becomes active, or unconfirmed when a
/// session's page made the link: it then keeps `confirm_code` for that page, and its
/// `activation_expires_at` becomes the end of its confirmation, at least `confirm_for` seconds
/// after `enrolled_at` (a link redeemed in its last seconds still leaves time to compare).
/// Returns the state it is in now, or `None` when another call won.
pub async fn redeem(
    db: &Db,
    id: &str,
    keys_sealed: &[u8],
    device_name: &str,
    enrolled_at: i64,
    confirm_code: &str,
    confirm_for: i64,
) -> anyhow::Result<Option<TokenState>> {
    let row = sqlx::query(
        "UPDATE tokens SET keys_sealed = $2, activation_sealed = NULL, device_name = $3, \
         enrolled_at = $4, \
         state = CASE WHEN enroll_session IS NULL THEN $5 ELSE $6 END, \
         confirm_code = CASE WHEN enroll_session IS NULL THEN NULL ELSE $7 END, \
         activation_expires_at = CASE \
           WHEN enroll_session IS NOT NULL AND activation_expires_at < $4 + $9 THEN $4 + $9 \
           ELSE activation_expires_at END \
         WHERE id = $1 AND state = $8 RETURNING state",
    )
    .bind(id)
    .bind(keys_sealed)
    .bind(device_name)
    .bind(enrolled_at)
    .bind(TokenState::Active.as_str())
    .bind(TokenState::Unconfirmed.as_str())
    .bind(confirm_code)
    .bind(TokenState::Pending.as_str())
    .bind(confirm_for)
    .fetch_optional(&db.writer)
    .await?;
    row.map(|row| Ok(row.try_get::<String, _>("state")?.parse()?)).transpose()
}

/// A token's enrollment as the page that made its link sees it.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// Where the token is in its life.
    pub state: TokenState,
    /// The stored id of the session whose page made the link, if one did.
    pub session: Option<String>,
    /// The comparison code, while the token waits for confirmation.
    pub confirm_code: Option<String>,
    /// The name of the device that redeemed the link.
    pub device_name: Option<String>,
    /// When the link stops working; once it is redeemed, when the chance to confirm ends.
    pub expires_at: Option<i64>,
}

/// The enrollment of token `id`.
pub async fn enrollment(db: &Db, id: &str) -> anyhow::Result<Option<Enrollment>> {
    let row = sqlx::query(
        "SELECT state, enroll_session, confirm_code, device_name, activation_expires_at \
         FROM tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Enrollment {
        state: row.try_get::<String, _>("state")?.parse()?,
        session: row.try_get("enroll_session")?,
        confirm_code: row.try_get("confirm_code")?,
        device_name: row.try_get("device_name")?,
        expires_at: row.try_get("activation_expires_at")?,
    }))
}

/// Activates an unconfirmed token, in one statement: only for the session that made its link
/// and before its confirmation ends. Returns whether it did.
pub async fn confirm(db: &Db, id: &str, session: &str, now: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE tokens SET state = $1, confirm_code = NULL \
         WHERE id = $2 AND state = $3 AND enroll_session = $4 AND activation_expires_at > $5",
    )
    .bind(TokenState::Active.as_str())
    .bind(id)
    .bind(TokenState::Unconfirmed.as_str())
    .bind(session)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Why an unconfirmed token is dropped ([`drop_unconfirmed`]).
#[derive(Debug, Clone, Copy)]
pub enum Drop<'a> {
    /// The session stored as this id, which made its link, said the codes do not match.
    Rejected(&'a str),
    /// Its time to confirm ended at or before this time (unix seconds): the statement checks
    /// it itself, so that it never removes a token still in its window, whatever list the
    /// caller worked from.
    Expired(i64),
}

/// Revokes a token if it is still unconfirmed (its keys and Web Push endpoint dropped), and
/// only for the session that made its link, or once its time to confirm ended (`why`). Returns
/// whether it did.
pub async fn drop_unconfirmed(db: &Db, id: &str, why: Drop<'_>) -> anyhow::Result<bool> {
    let (session, ended_by) = match why {
        Drop::Rejected(session) => (Some(session), None),
        Drop::Expired(now) => (None, Some(now)),
    };
    let done = sqlx::query(
        "UPDATE tokens SET state = $1, keys_sealed = NULL, webpush_endpoint = NULL, \
         confirm_code = NULL \
         WHERE id = $2 AND state = $3 AND ($4 IS NULL OR enroll_session = $4) \
         AND ($5 IS NULL OR activation_expires_at <= $5)",
    )
    .bind(TokenState::Revoked.as_str())
    .bind(id)
    .bind(TokenState::Unconfirmed.as_str())
    .bind(session)
    .bind(ended_by)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The unconfirmed tokens whose confirmation ended at or before `now`.
pub async fn unconfirmed_expired(db: &Db, now: i64) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM tokens WHERE state = $1 AND activation_expires_at <= $2 ORDER BY id",
    )
    .bind(TokenState::Unconfirmed.as_str())
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
}

/// Whether the token is still active, read on the writer: after a right answer, a failure of
/// another request may have just locked it. A success forgives no failed try: they decay with
/// time alone ([`fail_try`]).
pub async fn is_active(db: &Db, id: &str) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT 1 AS active FROM tokens WHERE id = $1 AND state = $2")
        .bind(id)
        .bind(TokenState::Active.as_str())
        .fetch_optional(&db.writer)
        .await?;
    Ok(row.is_some())
}

/// The count of failed tries after one more at `$4`, with one forgiven per whole `$5` seconds
/// since the last one (never fewer than none, and none forgiven for a clock that went back):
/// [`TokenRow::failed_tries_at`] plus one.
/// A macro, so that the statements can spell it out in each place that needs it: the
/// expressions of a SET all see the row as it was.
macro_rules! next_failed_tries {
    () => {
        "(CASE WHEN failed_tries > \
           (CASE WHEN $4 > last_failed_at THEN $4 - last_failed_at ELSE 0 END) / $5 \
         THEN failed_tries - \
           (CASE WHEN $4 > last_failed_at THEN $4 - last_failed_at ELSE 0 END) / $5 \
         ELSE 0 END + 1)"
    };
}

/// A failed try as [`fail_try`] counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The count after it.
    pub failed: i64,
    /// The token's limit.
    pub max: i64,
    /// Whether this try locked the token: its count reached the limit in this statement.
    pub locked: bool,
}

/// Counts a failed try at `now` and locks the token when its count reaches its limit, in one
/// statement, only while the token is active: a token locked or revoked since the answer read
/// it counts nothing (`None`). Of tries counted at once each is counted until one locks the
/// token, and that one alone is told it did: the statement that changes the state is the only
/// one that sees it change, on SQLite (one writer) as on PostgreSQL (a row updated meanwhile is
/// checked again against the condition, and then no longer matches).
///
/// The count is a leaky bucket that loses one failure per `decay` seconds: `failed_tries` as of
/// the last counted failure, at `last_failed_at`, less one per whole `decay` since then. Neither
/// column depends on the decay, so a server restarted with another one changes only the pace.
/// The time never moves back: a clock stepped back neither adds failures nor, once it is right
/// again, forgives any. A success forgives nothing, so guesses spread between the person's own
/// sign-ins add up.
pub async fn fail_try(db: &Db, id: &str, now: i64, decay: i64) -> anyhow::Result<Option<Counted>> {
    let row = sqlx::query(concat!(
        "UPDATE tokens SET failed_tries = ",
        next_failed_tries!(),
        ", last_failed_at = CASE WHEN $4 > last_failed_at THEN $4 ELSE last_failed_at END, \
         state = CASE WHEN ",
        next_failed_tries!(),
        " >= max_tries THEN $2 ELSE state END \
         WHERE id = $1 AND state = $3 RETURNING failed_tries, max_tries, state"
    ))
    .bind(id)
    .bind(TokenState::Locked.as_str())
    .bind(TokenState::Active.as_str())
    .bind(now)
    .bind(decay)
    .fetch_optional(&db.writer)
    .await?;
    row.map(|row| {
        Ok(Counted {
            failed: row.try_get("failed_tries")?,
            max: row.try_get("max_tries")?,
            // The row was active before this statement: locked now means locked by it.
            locked: row.try_get::<String, _>("state")?.parse::<TokenState>()? == TokenState::Locked,
        })
    })
    .transpose()
}

/// Locks an active token, in one statement; whether this call locked it (not if it was
/// locked, revoked or not yet confirmed already).
pub async fn lock(db: &Db, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE tokens SET state = $1 WHERE id = $2 AND state = $3")
        .bind(TokenState::Locked.as_str())
        .bind(id)
        .bind(TokenState::Active.as_str())
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Unlocks a locked token and forgets every failed try of it, in one statement, so that no
/// failed try is ever counted on the active token against the count that locked it; whether
/// this call unlocked it (not if it was not locked).
pub async fn unlock(db: &Db, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE tokens SET state = $1, failed_tries = 0, last_failed_at = 0 \
         WHERE id = $2 AND state = $3",
    )
    .bind(TokenState::Active.as_str())
    .bind(id)
    .bind(TokenState::Locked.as_str())
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A restore to store (docs/protocol.md §8).
#[derive(Debug)]
pub struct Restore<'a> {
    /// The token.
    pub id: &'a str,
    /// Its keys as read before the restore: the restore applies only if they are still the
    /// token's.
    pub old_keys: &'a [u8],
    /// Its keys after the restore, sealed.
    pub new_keys: &'a [u8],
    /// The keys restores retired, the ones just retired first, sealed.
    pub retired: &'a [u8],
}

/// Moves a token to the keys of a restore, in one statement: only if its keys are still the
/// ones the restore was checked against, so that of two restores racing from the same keys one
/// wins. The Web Push subscription, the old device's, is dropped. Returns whether this call won.
pub async fn restore(db: &Db, restore: &Restore<'_>) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE tokens SET keys_sealed = $1, retired_sealed = $2, \
         webpush_endpoint = NULL, webpush_p256dh = NULL, webpush_auth = NULL \
         WHERE id = $3 AND keys_sealed = $4",
    )
    .bind(restore.new_keys)
    .bind(restore.retired)
    .bind(restore.id)
    .bind(restore.old_keys)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The sealed keys restores of a token retired, if any (read only when a tag fails, so not
/// with every row).
pub async fn retired(db: &Db, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT retired_sealed FROM tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(row) => row.try_get("retired_sealed")?,
        None => None,
    })
}

/// Revokes a token: its keys and its Web Push endpoint are dropped.
pub async fn revoke(db: &Db, id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE tokens SET state = $1, keys_sealed = NULL, webpush_endpoint = NULL WHERE id = $2",
    )
    .bind(TokenState::Revoked.as_str())
    .bind(id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A token's Web Push subscription as stored: endpoint, `p256dh` and `auth` (RFC 8291 §3).
#[derive(Debug, Clone)]
pub struct StoredSubscription {
    /// The push service URL.
    pub endpoint: String,
    /// The browser's public key, base64url.
    pub p256dh: String,
    /// The authentication secret, base64url.
    pub auth: String,
}

/// Stores a token's Web Push subscription, replacing any earlier one.
pub async fn set_webpush(
    db: &Db,
    id: &str,
    subscription: &StoredSubscription,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE tokens SET webpush_endpoint = $1, webpush_p256dh = $2, webpush_auth = $3 WHERE id = $4")
        .bind(&subscription.endpoint)
        .bind(&subscription.p256dh)
        .bind(&subscription.auth)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// A token's Web Push subscription, when it registered one.
pub async fn webpush(db: &Db, id: &str) -> anyhow::Result<Option<StoredSubscription>> {
    let row = sqlx::query(
        "SELECT webpush_endpoint, webpush_p256dh, webpush_auth FROM tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    let (Some(endpoint), Some(p256dh), Some(auth)) = (
        row.try_get::<Option<String>, _>("webpush_endpoint")?,
        row.try_get::<Option<String>, _>("webpush_p256dh")?,
        row.try_get::<Option<String>, _>("webpush_auth")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(StoredSubscription { endpoint, p256dh, auth }))
}

/// Forgets a token's Web Push subscription (the browser unsubscribed).
pub async fn forget_webpush(db: &Db, id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE tokens SET webpush_endpoint = NULL, webpush_p256dh = NULL, webpush_auth = NULL WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The column that keeps when the newest notice of `kind` about a token happened.
fn notice_column(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::WrongPasscodes => "wrong_passcodes_at",
        NoticeKind::AuthenticatorAdded => "authenticator_added_at",
        NoticeKind::FailedApprovals => "failed_approvals_at",
    }
}

/// Records that a notice of `kind` about each of `ids` happened `at`.
pub async fn set_notice_at(db: &Db, ids: &[&str], kind: NoticeKind, at: i64) -> anyhow::Result<()> {
    let sql = match kind {
        NoticeKind::WrongPasscodes => "UPDATE tokens SET wrong_passcodes_at = $1 WHERE id = $2",
        NoticeKind::AuthenticatorAdded => {
            "UPDATE tokens SET authenticator_added_at = $1 WHERE id = $2"
        }
        NoticeKind::FailedApprovals => "UPDATE tokens SET failed_approvals_at = $1 WHERE id = $2",
    };
    for id in ids {
        sqlx::query(sql).bind(at).bind(*id).execute(&db.writer).await?;
    }
    Ok(())
}

/// When the newest notice of each kind about a token happened, for those at or after `since`.
pub async fn notices_since(
    db: &Db,
    id: &str,
    since: i64,
) -> anyhow::Result<Vec<(NoticeKind, i64)>> {
    let row = sqlx::query(
        "SELECT wrong_passcodes_at, authenticator_added_at, failed_approvals_at \
         FROM tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    let mut found = Vec::new();
    for kind in NoticeKind::ALL {
        if let Some(at) =
            row.try_get::<Option<i64>, _>(notice_column(kind))?.filter(|at| *at >= since)
        {
            found.push((kind, at));
        }
    }
    Ok(found)
}
