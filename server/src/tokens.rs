//! Push tokens: creation with an activation secret, their sealed keys, passcode checks that
//! refuse reuse, failed-try counting and locking.

use anyhow::Context;
use pushotp::push::{OtpParams, TokenKeys};
use pushotp::{Algorithm, Secret, TokenKind};
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::states::TokenState;
use crate::{AppState, Db, now, random_id};

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
    /// Failed tries in a row so far.
    pub failed_tries: i64,
    /// `hotp` or `totp`.
    pub otp_type: String,
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u8,
    /// TOTP period (unused for HOTP).
    pub period: u64,
    /// Last HOTP counter or TOTP step accepted, -1 for none.
    pub last_used: i64,
    /// The device's name, once enrolled.
    pub device_name: Option<String>,
    /// When the activation link stops working.
    pub activation_expires_at: Option<i64>,
    /// Whether the device registered a Web Push subscription.
    pub webpush: bool,
    /// The token's keys as sealed at rest, read with the row so that checking an answer or
    /// sending a push needs no second query; opened by [`open_keys`].
    pub sealed_keys: Option<SealedKeys>,
}

/// Keys sealed under the server key (XChaCha20-Poly1305): useless without it, and still kept
/// out of `Debug` output.
#[derive(Clone)]
pub struct SealedKeys(Vec<u8>);

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
            "t.failed_tries, t.otp_type, t.algorithm, t.digits, t.period, t.last_used, ",
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
        otp_type: r.try_get("otp_type")?,
        algorithm: r.try_get::<String, _>("algorithm")?.parse()?,
        digits: u8::try_from(r.try_get::<i64, _>("digits")?)?,
        period: u64::try_from(r.try_get::<i64, _>("period")?)?,
        last_used: r.try_get("last_used")?,
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

/// A new pending token for `user_id` and its activation secret (20 random bytes, sealed in the
/// row; the caller puts it into the activation link once and forgets it).
pub async fn create(
    state: &AppState,
    user_id: i64,
    name: &str,
) -> anyhow::Result<(TokenRow, Secret)> {
    let id = random_id("tok_", 12);
    let mut bytes = Zeroizing::new([0u8; 20]);
    rand::fill(bytes.as_mut_slice());
    let activation = Secret::from_bytes(bytes.to_vec())?;
    let sealed = state.key.seal(&format!("tokens/{id}/activation"), activation.expose())?;
    let created = i64::try_from(now())?;
    let expires = created + i64::try_from(state.config.activation_ttl)?;
    sqlx::query(
        "INSERT INTO tokens (id, user_id, name, state, activation_sealed, activation_expires_at, \
         pin_required, max_tries, otp_type, algorithm, digits, period, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, 'hotp', 'SHA1', 6, 30, $8)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(sealed)
    .bind(expires)
    .bind(i64::from(state.config.require_pin))
    .bind(state.config.max_tries)
    .bind(created)
    .execute(&state.db.writer)
    .await?;
    let row = get(&state.db, &id).await?.context("the new token is gone")?;
    Ok((row, activation))
}

/// The keys of a token sealed for its row.
pub fn seal_keys(state: &AppState, token_id: &str, keys: &TokenKeys) -> anyhow::Result<Vec<u8>> {
    let joined = Zeroizing::new(
        [keys.otp.expose(), keys.request.expose(), keys.answer.expose(), keys.channel.expose()]
            .concat(),
    );
    state.key.seal(&format!("tokens/{token_id}/keys"), &joined)
}

/// The keys of an enrolled token.
pub async fn keys(state: &AppState, token_id: &str) -> anyhow::Result<TokenKeys> {
    let row = sqlx::query("SELECT keys_sealed FROM tokens WHERE id = $1")
        .bind(token_id)
        .fetch_one(&state.db.pool)
        .await?;
    let sealed: Option<Vec<u8>> = row.try_get("keys_sealed")?;
    unseal_keys(state, token_id, &sealed.context("no keys")?)
}

/// The keys of an enrolled token, from its row (no query).
pub fn open_keys(state: &AppState, token: &TokenRow) -> anyhow::Result<TokenKeys> {
    unseal_keys(state, &token.id, &token.sealed_keys.as_ref().context("no keys")?.0)
}

fn unseal_keys(state: &AppState, token_id: &str, sealed: &[u8]) -> anyhow::Result<TokenKeys> {
    let joined = state.key.open(&format!("tokens/{token_id}/keys"), sealed)?;
    let otp_len = joined.len().checked_sub(96).context("sealed keys too short")?;
    let part = |range: std::ops::Range<usize>| -> anyhow::Result<Secret> {
        Ok(Secret::from_bytes(joined.get(range).context("sealed keys too short")?.to_vec())?)
    };
    Ok(TokenKeys {
        otp: part(0..otp_len)?,
        request: part(otp_len..otp_len + 32)?,
        answer: part(otp_len + 32..otp_len + 64)?,
        channel: part(otp_len + 64..otp_len + 96)?,
    })
}

/// The token's OTP parameters as the protocol names them.
pub fn otp_params(token: &TokenRow) -> anyhow::Result<OtpParams> {
    let kind = if token.otp_type == "totp" {
        TokenKind::Totp { period: token.period }
    } else {
        TokenKind::Hotp { counter: 0 }
    };
    Ok(OtpParams::new(kind, token.algorithm, token.digits)?)
}

/// Checks a passcode of a token with the protocol's rule (docs/protocol.md §5 step 4, in the
/// core) and, if it is right, marks its counter or step used so that it is never accepted again
/// (RFC 4226 §7.2, RFC 6238 §5.2). Atomic: of two requests racing with the same passcode, one
/// wins. A passcode that is not digits is simply wrong.
///
/// With `success`, a right passcode also resets the count of failed tries in the same
/// statement (what [`reset_tries`] does), for callers that know that the rest of the answer is
/// right too.
pub async fn use_passcode(
    state: &AppState,
    token: &TokenRow,
    otp_key: &Secret,
    passcode: &str,
    success: bool,
) -> anyhow::Result<bool> {
    let last_used = u64::try_from(token.last_used).ok();
    let matched = match otp_params(token)?.verify_passcode(otp_key, passcode, last_used, now()) {
        Ok(found) => found,
        Err(pushotp::Error::MalformedCode) => None,
        Err(err) => return Err(err.into()),
    };
    let Some(used) = matched else { return Ok(false) };
    let used = i64::try_from(used)?;
    // Only while the token is active: a failure elsewhere may have just locked it.
    let updated = sqlx::query(
        "UPDATE tokens SET last_used = $1, failed_tries = CASE WHEN $3 = 1 THEN 0 ELSE failed_tries END \
         WHERE id = $2 AND last_used < $1 AND state = 'active'",
    )
    .bind(used)
    .bind(&token.id)
    .bind(i64::from(success))
    .execute(&state.db.writer)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Counts a failed try; locks the token when it reaches its limit. Returns tries left.
pub async fn fail_try(state: &AppState, token: &TokenRow) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "UPDATE tokens SET failed_tries = failed_tries + 1, \
         state = CASE WHEN failed_tries + 1 >= max_tries THEN 'locked' ELSE state END \
         WHERE id = $1 RETURNING failed_tries, max_tries",
    )
    .bind(&token.id)
    .fetch_one(&state.db.writer)
    .await?;
    let failed: i64 = row.try_get("failed_tries")?;
    let max: i64 = row.try_get("max_tries")?;
    Ok((max - failed).max(0))
}

/// A success resets the count of failed tries.
pub async fn reset_tries(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE tokens SET failed_tries = 0 WHERE id = $1")
        .bind(token_id)
        .execute(&state.db.writer)
        .await?;
    Ok(())
}

/// Sets a token's state (locked, or active again).
pub async fn set_state(
    state: &AppState,
    token_id: &str,
    new_state: TokenState,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE tokens SET state = $1 WHERE id = $2")
        .bind(new_state.as_str())
        .bind(token_id)
        .execute(&state.db.writer)
        .await?;
    Ok(())
}
