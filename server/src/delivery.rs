//! Web Push delivery to a token's device (docs/protocol.md §7): a push request, or the notice of
//! its end, encrypted to the subscription the device registered (RFC 8291), sent in the
//! background so that no step waits for a push service.

use crate::app_state::AppState;
use crate::store;
use crate::webpush::{Subscription, Urgency, WebPushError};

/// Delivers a request, or the notice of its end, by Web Push when the device registered a
/// subscription: a browser whose service worker is asleep is woken by it (docs/protocol.md §7).
/// Both carry the request's id as their topic, so that a push service still holding the request
/// for a device that is away replaces it with the notice (RFC 8030 §5.4).
pub fn spawn_webpush(state: AppState, token_id: String, message: String, topic: String) {
    tokio::spawn(async move {
        if let Err(err) = webpush_once(&state, &token_id, &message, &topic).await {
            tracing::warn!(token_id, error = %err, "Web Push delivery failed");
        }
    });
}

async fn webpush_once(
    state: &AppState,
    token_id: &str,
    message: &str,
    topic: &str,
) -> anyhow::Result<()> {
    let Some(stored) = store::tokens::webpush(&state.db, token_id).await? else { return Ok(()) };
    let subscription = Subscription::new(stored.endpoint, stored.p256dh, stored.auth)?;
    let ttl = u32::try_from(state.config.request_ttl).unwrap_or(u32::MAX);
    match state
        .webpush
        .send(&subscription, message.as_bytes(), ttl, Urgency::High, Some(topic))
        .await
    {
        Ok(_) => Ok(()),
        Err(WebPushError::SubscriptionGone { .. }) => {
            // The browser unsubscribed: stop sending there.
            store::tokens::forget_webpush(&state.db, token_id).await
        }
        Err(err) => Err(err.into()),
    }
}
