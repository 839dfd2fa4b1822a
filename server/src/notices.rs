//! Notices about a token (docs/protocol.md §4, "Notices about a token"): the server tells each
//! device of a person, over its sockets on every node and by Web Push, that wrong passcodes are
//! being typed for their account, or that another authenticator was added to it.
//!
//! Telling is best effort, like the end of a request: the event is in the audit log whatever
//! becomes of the notice, so a failure is logged and the step that caused it goes on.

use pushotp::push::{NoticeKind, TokenNotice};

use crate::app_state::AppState;
use crate::clock::now;
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
    for token in owned {
        if Some(token.id.as_str()) != except
            && matches!(token.state, TokenState::Active | TokenState::Locked)
        {
            tell(state, &token, kind).await;
        }
    }
}

/// Tells the device of `token` about `kind`, now.
async fn tell(state: &AppState, token: &TokenRow, kind: NoticeKind) {
    let message = tokens::open_keys(state, token)
        .and_then(|keys| Ok(TokenNotice::new(&token.id, kind, now(), &keys.request)?))
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
