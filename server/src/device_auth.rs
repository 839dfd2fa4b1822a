//! Messages a device signs with its token's channel key `K_ch` (docs/protocol.md §5, §7): the
//! one place where such a message's token is found and its tag checked.

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::Secret;
use pushotp::push::{Tag, TokenKeys};

use crate::app_state::AppState;
use crate::clock::now;
use crate::states::TokenState;
use crate::store::tokens::TokenRow;
use crate::{store, tokens};

/// Why a tag did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// The tag is not base64url.
    Encoding,
    /// The tag is wrong, or the message is stale.
    Bad,
    /// The message breaks a field rule before its tag is looked at: another protocol version
    /// (`unsupported_version`), a field out of range (`invalid_message`). Refused as what it
    /// is, so that a device that speaks another version learns why, not that its keys are
    /// wrong.
    Protocol(pushotp::Error),
}

/// A message signed by a device with its token's channel key.
pub trait SignedByDevice {
    /// What a wrong tag is refused with (`"bad poll tag"`, …).
    const REFUSAL: &'static str;

    /// Whether a token that waits for its confirmation (docs/protocol.md §3) may send it: only
    /// what neither delivers nor answers a request (a socket log-in or a poll, which get
    /// nothing until the token is confirmed, a Web Push registration, a removal). Answers are
    /// refused with [`DeviceAuthError::Unconfirmed`].
    const WHILE_UNCONFIRMED: bool = false;

    /// The token the device signs for.
    fn token_id(&self) -> &str;

    /// Checks the tag with the token's channel key and, where the message carries a time, its
    /// freshness at `now`.
    fn verify(&self, channel_key: &Secret, now: u64) -> Result<(), TagError>;
}

/// Why a signed message was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeviceAuthError {
    /// No such token, or one that may not talk to the server (pending or revoked).
    #[error("unknown token")]
    UnknownToken,
    /// The token's tag is right, but it waits for the person to confirm it on the page that
    /// showed its activation link (docs/protocol.md §3).
    #[error("this token is not confirmed yet: confirm it on the page that showed its link")]
    Unconfirmed,
    /// The tag is not base64url.
    #[error("tag is not base64url")]
    TagEncoding,
    /// The tag is wrong or stale; the message type's refusal.
    #[error("{0}")]
    BadTag(&'static str),
    /// The message breaks a field rule of the protocol (its version, a range): `400` with the
    /// core's code (`unsupported_version`, `invalid_message`).
    #[error(transparent)]
    Protocol(pushotp::Error),
    /// The tag is made with keys a restore retired (docs/protocol.md §8): another copy of the
    /// token took over. Carries the token and the refusal's tag under the retired `K_req`.
    #[error("this token was restored on another device")]
    RestoredElsewhere(String, Tag),
    /// The token's keys could not be read.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A token that may talk to the server, with its keys.
pub struct DeviceToken {
    /// Its row.
    pub token: TokenRow,
    /// Its keys, opened.
    pub keys: TokenKeys,
}

/// Finds the message's token and checks its tag: a token that exists and may talk to the
/// server (active, or locked: a locked token receives nothing new but may deny and be
/// removed; unconfirmed only for messages that allow it, [`SignedByDevice::WHILE_UNCONFIRMED`]),
/// and a tag made with its channel key. A tag made with a channel key that a restore
/// retired is refused as [`DeviceAuthError::RestoredElsewhere`], so that the old copy can say
/// why. Nothing is written, so a forged message changes nothing and counts nothing.
pub async fn authenticate<M: SignedByDevice>(
    state: &AppState,
    message: &M,
) -> Result<DeviceToken, DeviceAuthError> {
    let token = store::tokens::get(&state.db, message.token_id())
        .await?
        .ok_or(DeviceAuthError::UnknownToken)?;
    let unconfirmed = token.state == TokenState::Unconfirmed;
    if !(unconfirmed || matches!(token.state, TokenState::Active | TokenState::Locked)) {
        return Err(DeviceAuthError::UnknownToken);
    }
    let keys = tokens::open_keys(state, &token)?;
    match message.verify(&keys.channel, now()) {
        // Told only to the holder of the token's keys.
        Ok(()) if unconfirmed && !M::WHILE_UNCONFIRMED => Err(DeviceAuthError::Unconfirmed),
        Ok(()) => Ok(DeviceToken { token, keys }),
        Err(TagError::Encoding) => Err(DeviceAuthError::TagEncoding),
        Err(TagError::Protocol(err)) => Err(DeviceAuthError::Protocol(err)),
        Err(TagError::Bad) => {
            for retired in tokens::retired_keys(state, &token).await? {
                if message.verify(&retired.channel, now()).is_ok() {
                    let tag = tokens::restored_elsewhere(&token.id, &retired);
                    return Err(DeviceAuthError::RestoredElsewhere(token.id, tag));
                }
            }
            Err(DeviceAuthError::BadTag(M::REFUSAL))
        }
    }
}

/// A tag as sent: unpadded base64url.
pub fn decode_tag(tag: &str) -> Result<Vec<u8>, TagError> {
    Base64UrlUnpadded::decode_vec(tag).map_err(|_| TagError::Encoding)
}

/// An answer's device tag (§5 step 1): it proves the answer comes from the token's device.
impl SignedByDevice for pushotp::push::Answer {
    const REFUSAL: &'static str = "bad device tag";

    fn token_id(&self) -> &str {
        &self.token_id
    }

    fn verify(&self, channel_key: &Secret, _now: u64) -> Result<(), TagError> {
        self.verify_device_tag(channel_key).map_err(|err| match err {
            pushotp::Error::BadTag => TagError::Bad,
            other => TagError::Protocol(other),
        })
    }
}
