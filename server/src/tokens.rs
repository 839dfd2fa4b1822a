//! Push tokens: creation with an activation secret, their sealed keys, passcode checks that
//! refuse reuse, failed-try counting and locking. Their rows are [`store::tokens`]'.

use anyhow::Context;
use pushotp::push::{OtpParams, TokenKeys, WebPushSubscription};
use pushotp::{Secret, TokenKind};
use zeroize::Zeroizing;

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::egress::EndpointRefused;
use crate::ids::random_id;
use crate::states::TokenState;
use crate::store;
use crate::store::requests::Ended;
use crate::store::tokens::{NewToken, StoredSubscription, TokenRow};
use crate::webpush::{Subscription, SubscriptionError};

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
    let created = secs(now())?;
    let expires = created + secs(state.config.activation_ttl)?;
    let token = NewToken {
        id: &id,
        user_id,
        name,
        activation_sealed: &sealed,
        activation_expires_at: expires,
        pin_required: state.config.require_pin,
        max_tries: state.config.max_tries,
        created_at: created,
    };
    store::tokens::insert(&state.db, &token).await?;
    let row = store::tokens::get(&state.db, &id).await?.context("the new token is gone")?;
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

/// The keys of an enrolled token, from its row (no query).
pub fn open_keys(state: &AppState, token: &TokenRow) -> anyhow::Result<TokenKeys> {
    let sealed = token.sealed_keys.as_ref().context("no keys")?;
    let joined = state.key.open(&format!("tokens/{}/keys", token.id), &sealed.0)?;
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
/// statement, for callers that know that the rest of the answer is right too.
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
    // Only while the token is active: a failure elsewhere may have just locked it.
    store::tokens::use_counter(&state.db, &token.id, i64::try_from(used)?, success).await
}

/// Counts a failed try; locks the token when it reaches its limit. Returns tries left.
pub async fn fail_try(state: &AppState, token: &TokenRow) -> anyhow::Result<i64> {
    let (failed, max) = store::tokens::fail_try(&state.db, &token.id).await?;
    Ok((max - failed).max(0))
}

/// Locks a token (a reported request, with `lock_on_report`).
pub async fn lock(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    store::tokens::set_state(&state.db, token_id, TokenState::Locked).await
}

/// An administrator unlocks a token locked after failed tries: active again, with no failed
/// tries. Fails if the token is not locked.
pub async fn unlock(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    let token = store::tokens::get(&state.db, token_id).await?.context("no such token")?;
    anyhow::ensure!(
        token.state == TokenState::Locked,
        "token {token_id} is {}, not locked",
        token.state
    );
    store::tokens::set_state(&state.db, token_id, TokenState::Active).await?;
    store::tokens::reset_tries(&state.db, token_id).await?;
    Audit::of_token(AuditEvent::TokenUnlocked, &token)
        .detail("by administrator")
        .record(&state.db)
        .await
}

/// A device removes its token (docs/protocol.md §7): the server revokes it (its keys and Web
/// Push endpoint dropped) and cancels its pending requests, which it returns for the device to
/// be told ([`crate::ended::tell_removed`]).
pub async fn remove(state: &AppState, token: &TokenRow) -> anyhow::Result<Vec<Ended>> {
    store::tokens::revoke(&state.db, &token.id).await?;
    let ended = store::requests::cancel_pending_of_token(&state.db, &token.id).await?;
    Audit::of_token(AuditEvent::TokenRemoved, token).detail("by device").record(&state.db).await?;
    Ok(ended)
}

/// Why a Web Push subscription was not stored.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The subscription cannot be sent to (endpoint or keys malformed).
    #[error(transparent)]
    Invalid(#[from] SubscriptionError),
    /// The endpoint is not a push service this server may reach.
    #[error(transparent)]
    NotAllowed(#[from] EndpointRefused),
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Stores a token's Web Push subscription (§7) once it is known to be usable.
pub async fn register_webpush(
    state: &AppState,
    token: &TokenRow,
    subscription: &WebPushSubscription,
) -> Result<(), RegisterError> {
    let (endpoint, keys) = (&subscription.endpoint, &subscription.keys);
    Subscription::new(endpoint.clone(), keys.p256dh.clone(), keys.auth.clone())?;
    state.webpush.check_endpoint(endpoint).await?;
    let stored = StoredSubscription {
        endpoint: endpoint.clone(),
        p256dh: keys.p256dh.clone(),
        auth: keys.auth.clone(),
    };
    store::tokens::set_webpush(&state.db, &token.id, &stored).await?;
    Audit::of_token(AuditEvent::WebpushRegistered, token).record(&state.db).await?;
    Ok(())
}
