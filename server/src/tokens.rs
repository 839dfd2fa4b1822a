//! Push tokens: creation with an activation secret, their sealed keys, their passcode
//! settings, failed-try counting and locking. Their rows are [`store::tokens`]'.

use anyhow::Context;
use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::Secret;
use pushotp::push::{
    Nonce, OtpParams, RestoreRequest, Restored, Tag, TokenKeys, WebPushSubscription,
    restored_elsewhere_tag, restored_keys,
};
use serde_json::json;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::egress::EndpointRefused;
use crate::ids::random_id;
use crate::states::TokenState;
use crate::store;
use crate::store::requests::Ended;
use crate::store::tokens::{NewToken, Restore, StoredSubscription, TokenRow};
use crate::webpush::{Subscription, SubscriptionError};

/// A new pending token for `user_id` and its activation secret (20 random bytes, sealed in the
/// row; the caller puts it into the activation link once and forgets it). Its link works for
/// `ttl` seconds; with `enroll_session` (the stored id of the session whose page made the link) the
/// token waits, once redeemed, for that session's confirmation.
pub async fn create(
    state: &AppState,
    user_id: i64,
    name: &str,
    ttl: u64,
    enroll_session: Option<&str>,
) -> anyhow::Result<(TokenRow, Secret)> {
    let id = random_id("tok_", 12);
    let mut bytes = Zeroizing::new([0u8; 20]);
    rand::fill(bytes.as_mut_slice());
    let activation = Secret::from_bytes(bytes.to_vec())?;
    let sealed = state.key.seal(&format!("tokens/{id}/activation"), activation.expose())?;
    let created = secs(now())?;
    let expires = created + secs(ttl)?;
    let token = NewToken {
        id: &id,
        user_id,
        name,
        activation_sealed: &sealed,
        activation_expires_at: expires,
        pin_required: state.config.require_pin,
        max_tries: state.config.max_tries,
        created_at: created,
        enroll_session,
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

/// The hash and length of the token's approval passcodes (docs/protocol.md §3 `otp`). The
/// `otp_type`, `period` and `last_used` of a token enrolled under version 1 are no longer
/// used: its approval passcodes are bound to the request.
pub fn otp_params(token: &TokenRow) -> anyhow::Result<OtpParams> {
    Ok(OtpParams::new(token.algorithm, token.digits)?)
}

/// After a right answer: whether the token is still active (a failure of another request may
/// have just locked it). A right answer forgives no failed try: they decay with time alone.
pub async fn still_active(state: &AppState, token: &TokenRow) -> anyhow::Result<bool> {
    store::tokens::is_active(&state.db, &token.id).await
}

/// Counts a failed try; locks the token when its count reaches its limit. The count loses one
/// failure per [`Config::failure_decay`](crate::Config::failure_decay) and no success resets
/// it ([`store::tokens::fail_try`]). Returns the tries left, and whether this try is the one
/// that locked it (of tries counted at once, exactly one, so the lock is recorded once); or
/// `None` when the token is no longer active (locked or revoked since the answer read it),
/// and nothing was counted.
pub async fn fail_try(state: &AppState, token: &TokenRow) -> anyhow::Result<Option<(i64, bool)>> {
    let decay = secs(state.config.failure_decay)?;
    let counted = store::tokens::fail_try(&state.db, &token.id, secs(now())?, decay).await?;
    Ok(counted.map(|c| ((c.max - c.failed).max(0), c.locked)))
}

/// Where the failure decay the server was last started with is kept, for the administrator's
/// command line (`token list`), which is not given it.
const FAILURE_DECAY_SETTING: &str = "failure_decay";

/// Keeps the server's failure decay for [`failure_decay_in_force`]: called by `serve`.
pub async fn record_failure_decay(state: &AppState) -> anyhow::Result<()> {
    let decay = state.config.failure_decay.to_string();
    store::settings::put(&state.db, FAILURE_DECAY_SETTING, decay.as_bytes()).await
}

/// The failure decay the server was last started with, in seconds; the default one if it
/// never was.
pub async fn failure_decay_in_force(db: &crate::db::Db) -> anyhow::Result<u64> {
    let Some(stored) = store::settings::get(db, FAILURE_DECAY_SETTING).await? else {
        return Ok(crate::config::FAILURE_DECAY);
    };
    Ok(std::str::from_utf8(&stored)?.parse()?)
}

/// Locks an active token (a reported request, with `lock_on_report`); whether this call
/// locked it, so that the lock is recorded once.
pub async fn lock(state: &AppState, token_id: &str) -> anyhow::Result<bool> {
    store::tokens::lock(&state.db, token_id).await
}

/// An administrator locks an active token: no push goes to it and no passcode or answer of it
/// is taken until [`unlock`]. Audited. Fails if the token is not active.
pub async fn lock_by_admin(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    let token = store::tokens::get(&state.db, token_id).await?.context("no such token")?;
    anyhow::ensure!(
        token.state == TokenState::Active,
        "token {token_id} is {}, not active",
        token.state
    );
    // Checked again in the statement that locks it: the state may change meanwhile.
    anyhow::ensure!(lock(state, token_id).await?, "token {token_id} changed meanwhile; try again");
    Audit::of_token(AuditEvent::TokenLocked, &token)
        .detail("by administrator")
        .record(&state.db)
        .await
}

/// An administrator unlocks a token locked after failed answers, a report or by an
/// administrator: active again, with every failed try forgotten. Fails if the token is not locked.
pub async fn unlock(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    let token = store::tokens::get(&state.db, token_id).await?.context("no such token")?;
    anyhow::ensure!(
        token.state == TokenState::Locked,
        "token {token_id} is {}, not locked",
        token.state
    );
    // Checked again in the statement that unlocks it: the state may change meanwhile.
    anyhow::ensure!(
        store::tokens::unlock(&state.db, token_id).await?,
        "token {token_id} changed meanwhile; try again"
    );
    Audit::of_token(AuditEvent::TokenUnlocked, &token)
        .detail("by administrator")
        .record(&state.db)
        .await
}

/// A device removes its token (docs/protocol.md §7): the server revokes it (its keys and Web
/// Push endpoint dropped) and cancels its pending requests, which it returns for the device to
/// be told ([`crate::ended::tell_removed`]).
pub async fn remove(state: &AppState, token: &TokenRow) -> anyhow::Result<Vec<Ended>> {
    revoke_row(state, token, "by device").await
}

/// What an administrator's revocation ended: the token as it was, its keys (none if its
/// activation link was never used), and its requests that were pending.
pub struct Revoked {
    /// The token's row before the revocation.
    pub token: TokenRow,
    /// Its keys, which the notices to its device are tagged under.
    pub keys: Option<TokenKeys>,
    /// Its requests that were pending.
    pub ended: Vec<Ended>,
}

/// An administrator revokes a token (a lost device, an export in the wrong hands, a copy
/// restored by someone else): as a removal by its device. Nothing tagged under its keys is
/// accepted again, by any copy; the person enrolls anew. Fails if the token is already
/// revoked. [`crate::ended::revoke`] also tells its device.
pub async fn revoke(state: &AppState, token_id: &str) -> anyhow::Result<Revoked> {
    let token = store::tokens::get(&state.db, token_id).await?.context("no such token")?;
    anyhow::ensure!(token.state != TokenState::Revoked, "token {token_id} is already revoked");
    let keys = token.sealed_keys.is_some().then(|| open_keys(state, &token)).transpose()?;
    let ended = revoke_row(state, &token, "by administrator").await?;
    Ok(Revoked { token, keys, ended })
}

/// Revokes `token` (keys and Web Push endpoint dropped), cancels its pending requests and
/// returns them, and audits who did it.
async fn revoke_row(state: &AppState, token: &TokenRow, by: &str) -> anyhow::Result<Vec<Ended>> {
    store::tokens::revoke(&state.db, &token.id).await?;
    let ended = store::requests::cancel_pending_of_token(&state.db, &token.id).await?;
    Audit::of_token(AuditEvent::TokenRemoved, token).detail(by).record(&state.db).await?;
    Ok(ended)
}

/// How many retired key pairs a token keeps (docs/protocol.md §8): a copy this many restores
/// old is still told why it is refused; an older one is refused as a stranger. It also bounds
/// the work a forged tag causes.
pub const MAX_RETIRED: usize = 16;

/// The `type` of the message that tells a copy's sockets that another copy was restored (§8).
const RESTORED: &str = "restored";

/// The token a socket message says was restored elsewhere, if it is that message. Only such
/// messages are parsed: every other one goes out as it is.
pub fn restored_token(message: &str) -> Option<String> {
    if !message.contains(r#""type":"restored""#) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(message).ok()?;
    if value.get("type")? != RESTORED {
        return None;
    }
    value.get("tokenId")?.as_str().map(str::to_owned)
}

/// Whether the copy that logged in with `keys` still holds `token_id`'s current channel key,
/// read again from storage (false once a restore moved the token, or it is gone).
pub async fn still_current(
    state: &AppState,
    token_id: &str,
    keys: &TokenKeys,
) -> anyhow::Result<bool> {
    let Some(token) = store::tokens::get(&state.db, token_id).await? else { return Ok(false) };
    if token.sealed_keys.is_none() {
        return Ok(false);
    }
    let current = open_keys(state, &token)?;
    Ok(bool::from(current.channel.expose().ct_eq(keys.channel.expose())))
}

/// The request and channel keys a restore retired, and the nonce of that restore.
pub struct RetiredKeys {
    /// The restore's nonce.
    pub nonce: Nonce,
    /// The retired `K_req`: the refusal of the copy that holds it is tagged under it.
    pub request: Secret,
    /// The retired `K_chan`: what that copy's messages are tagged under.
    pub channel: Secret,
}

/// One retired entry in the sealed list: nonce, `K_req`, `K_chan`.
const RETIRED_LEN: usize = 16 + 32 + 32;

/// The keys restores of `token` retired, the most recent first (one query; none for a token
/// never restored).
pub async fn retired_keys(state: &AppState, token: &TokenRow) -> anyhow::Result<Vec<RetiredKeys>> {
    let Some(sealed) = store::tokens::retired(&state.db, &token.id).await? else {
        return Ok(Vec::new());
    };
    let joined = state.key.open(&format!("tokens/{}/retired", token.id), &sealed)?;
    joined
        .chunks(RETIRED_LEN)
        .map(|entry| {
            anyhow::ensure!(entry.len() == RETIRED_LEN, "a retired entry is cut short");
            let (nonce, keys) = entry.split_at(16);
            let (request, channel) = keys.split_at(32);
            Ok(RetiredKeys {
                nonce: nonce.try_into()?,
                request: Secret::from_bytes(request.to_vec())?,
                channel: Secret::from_bytes(channel.to_vec())?,
            })
        })
        .collect()
}

/// The server's refusal of a copy whose keys a restore retired: its tag under the retired
/// `K_req`, which that copy can check (docs/protocol.md §8).
pub fn restored_elsewhere(token_id: &str, retired: &RetiredKeys) -> Tag {
    restored_elsewhere_tag(&retired.request, token_id)
}

/// Why a restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// No such token, or one that may not talk to the server (pending or revoked).
    #[error("unknown token")]
    UnknownToken,
    /// The tag verifies under none of the token's keys.
    #[error("bad restore tag")]
    BadTag,
    /// The keys are ones a later restore retired: another copy took over since.
    #[error("this token was restored on another device")]
    RestoredElsewhere {
        /// The token.
        token_id: String,
        /// The refusal's tag under the retired `K_req`.
        tag: Tag,
    },
    /// A field breaks the protocol's rules.
    #[error(transparent)]
    Protocol(#[from] pushotp::Error),
    /// Storage or the server key failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A device restores a token from an export (docs/protocol.md §8): if its restore is tagged
/// under the token's current channel key, the token moves to the restored request and channel
/// keys, every older copy is refused from now on (its open sockets told at once), its pending
/// requests end, its Web Push subscription (the old device's) is dropped, and the device
/// learns the next HOTP counter. A retry of the last restore (its nonce, under the keys it
/// retired), or a replay of it, gets the same answer again.
pub async fn restore(state: &AppState, request: &RestoreRequest) -> Result<Restored, RestoreError> {
    let token = store::tokens::get(&state.db, &request.token_id)
        .await?
        .ok_or(RestoreError::UnknownToken)?;
    if !matches!(token.state, TokenState::Active | TokenState::Locked) {
        return Err(RestoreError::UnknownToken);
    }
    let keys = open_keys(state, &token)?;
    match request.verify(&keys.channel) {
        Ok(()) => {}
        Err(pushotp::Error::BadTag) => {
            let retired = retired_keys(state, &token).await?;
            for (i, old) in retired.iter().enumerate() {
                if request.verify(&old.channel).is_ok() {
                    // The nonce is what the new keys are derived with: compared in constant
                    // time, since a holder of the old keys chooses the nonces it sends.
                    if i == 0 && bool::from(old.nonce.ct_eq(&request.nonce)) {
                        return Ok(Restored::new(request, 0, &keys.channel));
                    }
                    let tag = restored_elsewhere(&token.id, old);
                    return Err(RestoreError::RestoredElsewhere { token_id: token.id, tag });
                }
            }
            return Err(RestoreError::BadTag);
        }
        Err(err) => return Err(err.into()),
    }
    let (request_key, channel_key) = restored_keys(&keys.channel, &request.nonce);
    let new_keys = TokenKeys {
        otp: keys.otp.clone(),
        request: request_key,
        answer: keys.answer.clone(),
        channel: channel_key,
    };
    let retiring = RetiredKeys {
        nonce: request.nonce,
        request: keys.request.clone(),
        channel: keys.channel.clone(),
    };
    let mut retired = Zeroizing::new(Vec::with_capacity(RETIRED_LEN * MAX_RETIRED));
    for entry in std::iter::once(&retiring)
        .chain(retired_keys(state, &token).await?.iter())
        .take(MAX_RETIRED)
    {
        retired.extend_from_slice(&entry.nonce);
        retired.extend_from_slice(entry.request.expose());
        retired.extend_from_slice(entry.channel.expose());
    }
    let old_keys = &token.sealed_keys.as_ref().context("no keys")?.0;
    let stored = Restore {
        id: &token.id,
        old_keys,
        new_keys: &seal_keys(state, &token.id, &new_keys)?,
        retired: &state.key.seal(&format!("tokens/{}/retired", token.id), &retired)?,
    };
    if !store::tokens::restore(&state.db, &stored).await? {
        // Another restore from the same keys won the race: these keys are retired now.
        let tag = restored_elsewhere(&token.id, &retiring);
        return Err(RestoreError::RestoredElsewhere { token_id: token.id, tag });
    }
    // What waited for the old copy can no longer be answered by anyone. That copy learns it
    // from the notice below, which ends all of them there; the new copy never held them.
    store::requests::cancel_pending_of_token(&state.db, &token.id).await?;
    let tag = Base64UrlUnpadded::encode_string(&restored_elsewhere(&token.id, &retiring));
    let told = json!({ "type": RESTORED, "tokenId": token.id, "tag": tag }).to_string();
    state.hub.publish_push(&token.id, &told).await;
    Audit::of_token(AuditEvent::TokenRestored, &token).record(&state.db).await?;
    // Version 2 approval passcodes are bound to the request: there is no counter to tell.
    Ok(Restored::new(request, 0, &new_keys.channel))
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
