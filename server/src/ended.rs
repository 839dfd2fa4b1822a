//! The end of push requests (docs/protocol.md §4, "The end of a request"): when a request ends
//! without the answer of the device holding it, that device is told at once over its sockets
//! on every node and by Web Push, and in its polls and socket log-ins for as long as it may
//! still show the request, with a notice tagged under the request's `K_req`.
//!
//! Telling is best effort: the request has ended whatever happens to the notice (a device that
//! misses it is refused when it answers), so a failure is logged and the step that ended the
//! request goes on.

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::push::{CLOCK_WINDOW, EndReason, Nonce, PushEnded, TokenKeys};

use crate::app_state::AppState;
use crate::clock::{now, secs};
use crate::device_auth::DeviceToken;
use crate::store::requests::Ended;
use crate::store::tokens::TokenRow;
use crate::{delivery, store, tokens};

/// Ends the pending requests of a sign-in on every device that holds one: a newer push
/// replaces them, or the sign-in got its outcome.
pub async fn end_pending_of_login(
    state: &AppState,
    login_id: &str,
    why: EndReason,
) -> anyhow::Result<()> {
    let ended = store::requests::cancel_pending_of_login(&state.db, login_id, why).await?;
    tell_ended(state, &ended, why).await;
    Ok(())
}

/// Tells the device holding each of `requests` (ended for `why`) that it ended.
pub async fn tell_ended(state: &AppState, requests: &[Ended], why: EndReason) {
    for request in requests {
        tell_token_of(state, request, why).await;
    }
}

/// Hands a request claimed by an answer with a wrong PIN back (pending again, answerable only
/// by an answer newer than `device_time`), unless it ended while the answer held it.
/// Returns whether it ended (its device is then told).
pub async fn hand_back(
    state: &AppState,
    request_id: &str,
    device_time: i64,
) -> anyhow::Result<bool> {
    let Some((request, why)) = store::requests::release(&state.db, request_id, device_time).await?
    else {
        return Ok(false);
    };
    tell_token_of(state, &request, why).await;
    Ok(true)
}

/// Expires a request whose time is up, if it is still pending, and tells its device. Returns
/// whether this call expired it.
pub async fn expire(state: &AppState, request_id: &str) -> anyhow::Result<bool> {
    let Some(request) = store::requests::expire(&state.db, request_id).await? else {
        return Ok(false);
    };
    tell_token_of(state, &request, EndReason::Expired).await;
    Ok(true)
}

/// Tells the device of a removed token that its pending requests ended (`device` as it was
/// before the removal: the revoked row no longer has the keys that tag the notices).
pub async fn tell_removed(state: &AppState, device: &DeviceToken, ended: &[Ended]) {
    for request in ended {
        tell(state, &device.token, &device.keys, &request.id, EndReason::Removed).await;
    }
}

/// An administrator revokes a token ([`tokens::revoke`]), and the device holding it is told that
/// its pending requests ended.
pub async fn revoke(state: &AppState, token_id: &str) -> anyhow::Result<()> {
    let tokens::Revoked { token, keys, ended } = tokens::revoke(state, token_id).await?;
    if let Some(keys) = keys {
        tell_removed(state, &DeviceToken { token, keys }, &ended).await;
    }
    Ok(())
}

/// The notices of the device's requests that ended without its answer and that it may still
/// show: those whose time was up less than a minute ago (§7; a device's clock is at most that
/// far behind, after which it drops them by itself).
pub async fn recent_of(state: &AppState, device: &DeviceToken) -> anyhow::Result<Vec<PushEnded>> {
    let since = secs(now())? - secs(CLOCK_WINDOW)?;
    let mut notices = Vec::new();
    for (id, why) in store::requests::ended_of_token(&state.db, &device.token.id, since).await? {
        notices.push(PushEnded::new(
            request_id(&id)?,
            &device.token.id,
            why,
            &device.keys.request,
        )?);
    }
    Ok(notices)
}

/// A notice as the device channel and Web Push carry it (§7).
pub fn ended_message(notice: &PushEnded) -> anyhow::Result<String> {
    Ok(format!(r#"{{"type":"ended","ended":{}}}"#, serde_json::to_string(notice)?))
}

/// Tells the device holding `request` that it ended, with its token's keys from storage.
async fn tell_token_of(state: &AppState, request: &Ended, why: EndReason) {
    let token = match store::tokens::get(&state.db, &request.token_id).await {
        Ok(Some(token)) => token,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, "reading the token of an ended request");
            return;
        }
    };
    match tokens::open_keys(state, &token) {
        Ok(keys) => tell(state, &token, &keys, &request.id, why).await,
        Err(err) => tracing::warn!(token_id = token.id, error = %err, "opening a token's keys"),
    }
}

/// Tells the device of `token` that request `id` ended, over its sockets on every node and by
/// Web Push.
async fn tell(state: &AppState, token: &TokenRow, keys: &TokenKeys, id: &str, why: EndReason) {
    let message = request_id(id)
        .and_then(|bytes| Ok(PushEnded::new(bytes, &token.id, why, &keys.request)?))
        .and_then(|notice| ended_message(&notice));
    let message = match message {
        Ok(message) => message,
        Err(err) => {
            tracing::warn!(token_id = token.id, error = %err, "tagging the end of a request");
            return;
        }
    };
    state.hub.publish_push(&token.id, &message).await;
    if token.webpush {
        delivery::spawn_webpush(state.clone(), token.id.clone(), message, id.to_owned());
    }
}

/// A request id as stored (base64url) back to its bytes.
fn request_id(id: &str) -> anyhow::Result<Nonce> {
    let bytes = Base64UrlUnpadded::decode_vec(id)?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("a stored request id is not 16 bytes"))
}
