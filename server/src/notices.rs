//! Notices about a token (docs/protocol.md §4, "Notices about a token"): the server tells each
//! device of a person, over its sockets on every node and by Web Push, that wrong passcodes are
//! being typed for their account, or that another authenticator was added to it; and a device
//! that was away, at its next poll or socket log-in within a week.
//!
//! Telling is best effort, like the end of a request: the event is in the audit log whatever
//! becomes of the notice, so a failure is logged and the step that caused it goes on.

use pushotp::push::{NoticeKind, TokenNotice};

use crate::app_state::AppState;
use crate::clock::{now, secs};
use crate::device_auth::DeviceToken;
use crate::states::TokenState;
use crate::store::tokens::TokenRow;
use crate::{delivery, store, tokens};

/// A notice as the device channel and Web Push carry it (§7).
pub fn notice_message(notice: &TokenNotice) -> anyhow::Result<String> {
    Ok(format!(r#"{{"type":"notice","notice":{}}}"#, serde_json::to_string(notice)?))
}

/// Tells every device of person `user_id` that can still sign in (active or locked tokens)
/// about `kind`, except the device of token `except` (the one a notice is about).
pub async fn tell_person(state: &AppState, user_id: i64, kind: NoticeKind, except: Option<&str>) {
    let owned = match store::tokens::list(&state.db, Some(user_id)).await {
        Ok(owned) => owned,
        Err(err) => {
            tracing::warn!(error = %err, "reading the tokens of a person to notify");
            return;
        }
    };
    let told: Vec<&TokenRow> = owned
        .iter()
        .filter(|t| Some(t.id.as_str()) != except)
        .filter(|t| matches!(t.state, TokenState::Active | TokenState::Locked))
        .collect();
    let at = now();
    // Kept first, so that a device that is away gets it at its next poll or log-in.
    let ids: Vec<&str> = told.iter().map(|t| t.id.as_str()).collect();
    let kept = match secs(at) {
        Ok(at_i) => store::tokens::set_notice_at(&state.db, &ids, kind, at_i).await,
        Err(err) => Err(err),
    };
    if let Err(err) = kept {
        tracing::warn!(error = %err, "keeping a notice about a token");
    }
    for token in told {
        tell(state, token, kind, at).await;
    }
}

/// The notices about the device's token that happened within the last [`NOTICE_KEEP`]
/// seconds, for its polls and socket log-ins (the device shows each only once).
pub async fn recent_of(state: &AppState, device: &DeviceToken) -> anyhow::Result<Vec<TokenNotice>> {
    let since = secs(now().saturating_sub(NOTICE_KEEP))?;
    let mut notices = Vec::new();
    for (kind, at) in store::tokens::notices_since(&state.db, &device.token.id, since).await? {
        let at = u64::try_from(at)?;
        notices.push(TokenNotice::new(&device.token.id, kind, at, &device.keys.request)?);
    }
    Ok(notices)
}

/// How long a notice is handed to a device that was away: a week, in seconds.
pub const NOTICE_KEEP: u64 = 7 * 24 * 3600;

/// Tells the device of `token` about `kind`, which happened `at`.
async fn tell(state: &AppState, token: &TokenRow, kind: NoticeKind, at: u64) {
    let message = tokens::open_keys(state, token)
        .and_then(|keys| Ok(TokenNotice::new(&token.id, kind, at, &keys.request)?))
        .and_then(|notice| notice_message(&notice));
    let message = match message {
        Ok(message) => message,
        Err(err) => {
            tracing::warn!(token_id = token.id, error = %err, "tagging a notice about a token");
            return;
        }
    };
    state.hub.publish_push(&token.id, &message).await;
    if token.webpush {
        // Its kind as the topic: a push service holding an older notice of the same kind for a
        // device that is away replaces it (RFC 8030 §5.4).
        delivery::spawn_webpush(state.clone(), token.id.clone(), message, kind.name().to_owned());
    }
}
