//! The device channel's tags (protocol §7): WebSocket log-in, polling, Web Push registration
//! and removal, all under `K_chan`.

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::wire::check_fresh;
use super::{Nonce, Tag, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The MAC input of a WebSocket log-in: `mac(K_chan, "channel-auth", str(tokenId),
/// bytes(nonce))`, `nonce` being the server's challenge.
#[must_use]
pub fn channel_auth_input(token_id: &str, nonce: &Nonce) -> Canonical {
    Canonical::new(purpose::CHANNEL_AUTH).str(token_id).bytes(nonce)
}

/// The device's tag for the server's WebSocket challenge `nonce` (§7).
#[must_use]
pub fn channel_auth_tag(k_chan: &Secret, token_id: &str, nonce: &Nonce) -> Tag {
    channel_auth_input(token_id, nonce).mac(k_chan)
}

/// The server's check of a WebSocket log-in for its challenge `nonce`: [`Error::BadTag`]
/// unless `tag` verifies. The nonce is fresh per connection, so no clock is involved.
pub fn verify_channel_auth(
    k_chan: &Secret,
    token_id: &str,
    nonce: &Nonce,
    tag: &[u8],
) -> Result<()> {
    ok_if(channel_auth_input(token_id, nonce).verify(k_chan, tag))
}

/// The two channel messages that carry only a token id and a time (§7): a poll for the
/// pending requests and a removal of the token. Their tags differ only by purpose, so the
/// purpose is a type, never free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignedAt {
    /// A poll for the pending requests (`POST /api/v1/devices/pending`).
    Poll,
    /// A removal of the token (`POST /api/v1/devices/remove`).
    Remove,
}

impl SignedAt {
    /// The purpose label (protocol §2) of its MAC input.
    #[must_use]
    pub fn purpose(self) -> &'static str {
        match self {
            Self::Poll => purpose::POLL,
            Self::Remove => purpose::REMOVE,
        }
    }

    /// The MAC input: `str(tokenId), u64(at)` after the purpose.
    #[must_use]
    pub fn input(self, token_id: &str, at: u64) -> Canonical {
        Canonical::new(self.purpose()).str(token_id).u64(at)
    }

    /// The device's tag for `token_id` at time `at` (§7).
    #[must_use]
    pub fn tag(self, k_chan: &Secret, token_id: &str, at: u64) -> Tag {
        self.input(token_id, at).mac(k_chan)
    }

    /// The server's check: [`Error::BadTag`] unless `tag` verifies; then [`Error::Expired`]
    /// or [`Error::NotYetValid`] unless `at` is within 60 s of `now`.
    pub fn verify(
        self,
        k_chan: &Secret,
        token_id: &str,
        at: u64,
        tag: &[u8],
        now: u64,
    ) -> Result<()> {
        ok_if(self.input(token_id, at).verify(k_chan, tag))?;
        check_fresh(at, now)
    }
}

/// The MAC input of a poll: `str(tokenId), u64(at)` after the purpose `poll`.
#[must_use]
pub fn poll_input(token_id: &str, at: u64) -> Canonical {
    SignedAt::Poll.input(token_id, at)
}

/// The device's tag to poll for the pending requests of `token_id` at time `at` (§7).
#[must_use]
pub fn poll_tag(k_chan: &Secret, token_id: &str, at: u64) -> Tag {
    SignedAt::Poll.tag(k_chan, token_id, at)
}

/// The server's check of a poll: [`Error::BadTag`] unless `tag` verifies; then
/// [`Error::Expired`] or [`Error::NotYetValid`] unless `at` is within 60 s of `now`.
pub fn verify_poll(k_chan: &Secret, token_id: &str, at: u64, tag: &[u8], now: u64) -> Result<()> {
    SignedAt::Poll.verify(k_chan, token_id, at, tag, now)
}

/// A browser's Web Push subscription as `PushSubscription.toJSON()` gives it (the Push API),
/// reduced to what the server needs: `{"endpoint": …, "keys": {"p256dh": …, "auth": …}}`.
///
/// Unknown fields are ignored, unlike in the protocol's own messages: browsers add
/// `expirationTime`, and the shape is theirs, not ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPushSubscription {
    /// The push service URL the server posts encrypted messages to (RFC 8030).
    pub endpoint: String,
    /// The subscription's keys (RFC 8291).
    pub keys: WebPushKeys,
}

/// The keys of a Web Push subscription, as the browser gives them: base64url text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPushKeys {
    /// The browser's P-256 public key (RFC 8291 §3.1).
    pub p256dh: String,
    /// The authentication secret (RFC 8291 §3.2).
    pub auth: String,
}

/// The MAC input of a Web Push registration: `str(tokenId), u64(at), str(endpoint),
/// str(p256dh), str(auth)` after the purpose `webpush`, the keys as the browser's text (not
/// decoded), so that both sides MAC what they send and receive.
#[must_use]
pub fn webpush_input(token_id: &str, at: u64, subscription: &WebPushSubscription) -> Canonical {
    Canonical::new(purpose::WEBPUSH)
        .str(token_id)
        .u64(at)
        .str(&subscription.endpoint)
        .str(&subscription.keys.p256dh)
        .str(&subscription.keys.auth)
}

/// The device's tag to register `subscription` for `token_id` at time `at` (§7).
#[must_use]
pub fn webpush_tag(
    k_chan: &Secret,
    token_id: &str,
    at: u64,
    subscription: &WebPushSubscription,
) -> Tag {
    webpush_input(token_id, at, subscription).mac(k_chan)
}

/// The server's check of a Web Push registration: [`Error::BadTag`] unless `tag` verifies;
/// then [`Error::Expired`] or [`Error::NotYetValid`] unless `at` is within 60 s of `now`.
pub fn verify_webpush(
    k_chan: &Secret,
    token_id: &str,
    at: u64,
    subscription: &WebPushSubscription,
    tag: &[u8],
    now: u64,
) -> Result<()> {
    ok_if(webpush_input(token_id, at, subscription).verify(k_chan, tag))?;
    check_fresh(at, now)
}

/// The MAC input of a removal: `str(tokenId), u64(at)` after the purpose `remove`.
#[must_use]
pub fn remove_input(token_id: &str, at: u64) -> Canonical {
    SignedAt::Remove.input(token_id, at)
}

/// The device's tag to revoke `token_id` at time `at` (§7).
#[must_use]
pub fn remove_tag(k_chan: &Secret, token_id: &str, at: u64) -> Tag {
    SignedAt::Remove.tag(k_chan, token_id, at)
}

/// The server's check of a removal: [`Error::BadTag`] unless `tag` verifies; then
/// [`Error::Expired`] or [`Error::NotYetValid`] unless `at` is within 60 s of `now`.
pub fn verify_remove(k_chan: &Secret, token_id: &str, at: u64, tag: &[u8], now: u64) -> Result<()> {
    SignedAt::Remove.verify(k_chan, token_id, at, tag, now)
}

fn ok_if(verified: bool) -> Result<()> {
    if verified { Ok(()) } else { Err(Error::BadTag) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_chan() -> Secret {
        Secret::from_bytes(vec![0xc0; 32]).unwrap()
    }

    fn subscription() -> WebPushSubscription {
        WebPushSubscription {
            endpoint: "https://push.example.net/send/abc".into(),
            keys: WebPushKeys { p256dh: "BNcR".into(), auth: "tBHI".into() },
        }
    }

    #[test]
    fn tags_verify_and_purposes_do_not_mix() {
        let nonce = [9; 16];
        let auth = channel_auth_tag(&k_chan(), "tok_1", &nonce);
        assert_eq!(verify_channel_auth(&k_chan(), "tok_1", &nonce, &auth), Ok(()));
        assert_eq!(verify_channel_auth(&k_chan(), "tok_2", &nonce, &auth), Err(Error::BadTag));
        assert_eq!(verify_channel_auth(&k_chan(), "tok_1", &[8; 16], &auth), Err(Error::BadTag));
        assert_eq!(verify_channel_auth(&k_chan(), "tok_1", &nonce, &auth[1..]), Err(Error::BadTag));

        let poll = poll_tag(&k_chan(), "tok_1", 1000);
        let remove = remove_tag(&k_chan(), "tok_1", 1000);
        // Same fields, other purpose: a poll tag cannot remove a token.
        assert_ne!(poll, remove);
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1000, &poll, 1000), Ok(()));
        assert_eq!(verify_remove(&k_chan(), "tok_1", 1000, &poll, 1000), Err(Error::BadTag));
        assert_eq!(verify_remove(&k_chan(), "tok_1", 1000, &remove, 1000), Ok(()));
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1001, &poll, 1000), Err(Error::BadTag));

        let sub = subscription();
        let tag = webpush_tag(&k_chan(), "tok_1", 1000, &sub);
        assert_eq!(verify_webpush(&k_chan(), "tok_1", 1000, &sub, &tag, 1000), Ok(()));
        let mut other = sub.clone();
        other.endpoint.push('x');
        assert_eq!(
            verify_webpush(&k_chan(), "tok_1", 1000, &other, &tag, 1000),
            Err(Error::BadTag)
        );
        let mut other = sub.clone();
        other.keys.auth.push('x');
        assert_eq!(
            verify_webpush(&k_chan(), "tok_1", 1000, &other, &tag, 1000),
            Err(Error::BadTag)
        );
    }

    #[test]
    fn each_purpose_is_its_own_tag() {
        assert_eq!(SignedAt::Poll.purpose(), "poll");
        assert_eq!(SignedAt::Remove.purpose(), "remove");
        assert_eq!(SignedAt::Poll.tag(&k_chan(), "tok_1", 7), poll_tag(&k_chan(), "tok_1", 7));
        assert_eq!(SignedAt::Remove.tag(&k_chan(), "tok_1", 7), remove_tag(&k_chan(), "tok_1", 7));
        let poll = SignedAt::Poll.tag(&k_chan(), "tok_1", 7);
        assert_eq!(SignedAt::Remove.verify(&k_chan(), "tok_1", 7, &poll, 7), Err(Error::BadTag));
        assert_eq!(SignedAt::Poll.verify(&k_chan(), "tok_1", 7, &poll, 7), Ok(()));
    }

    #[test]
    fn timestamps_must_be_fresh_but_only_after_the_tag() {
        let poll = poll_tag(&k_chan(), "tok_1", 1000);
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1000, &poll, 1060), Ok(()));
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1000, &poll, 1061), Err(Error::Expired));
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1000, &poll, 939), Err(Error::NotYetValid));
        assert_eq!(verify_poll(&k_chan(), "tok_1", 1000, &[0; 32], 5000), Err(Error::BadTag));
        let remove = remove_tag(&k_chan(), "tok_1", 1000);
        assert_eq!(verify_remove(&k_chan(), "tok_1", 1000, &remove, 2000), Err(Error::Expired));
        let sub = subscription();
        let tag = webpush_tag(&k_chan(), "tok_1", 1000, &sub);
        assert_eq!(
            verify_webpush(&k_chan(), "tok_1", 1000, &sub, &tag, 0),
            Err(Error::NotYetValid)
        );
    }

    #[test]
    fn subscriptions_read_browser_json() {
        let json = r#"{"endpoint":"https://push.example.net/send/abc","expirationTime":null,"keys":{"p256dh":"BNcR","auth":"tBHI"}}"#;
        assert_eq!(serde_json::from_str::<WebPushSubscription>(json).unwrap(), subscription());
    }
}
