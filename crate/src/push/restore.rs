//! Restoring a token from an export onto another device (protocol §8): the copy proves that it
//! holds the token's channel key, the server moves the token to new request and channel keys
//! derived from the old ones, and answers. Every copy
//! still holding the old keys is refused from then on, with a tag that shows the refusal is the
//! server's.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::canonical::{Canonical, hmac_sha256};
use super::wire::{b64, check_token_id, check_version};
use super::{Nonce, Tag, VERSION, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// `info || 0x01` of the restored `K_req` (protocol §8): the HKDF-Expand input of its one block.
const T1_REQUEST: &[u8] = b"pushotp/1 restored request-mac\x01";
/// `info || 0x01` of the restored `K_chan`.
const T1_CHANNEL: &[u8] = b"pushotp/1 restored channel\x01";

/// The request and channel keys of a token after the restore with `nonce` (protocol §8,
/// RFC 5869): `R = HKDF-Extract(salt = nonce, IKM = K_chan)`, then
/// `K_req' = HKDF-Expand(R, "pushotp/1 restored request-mac", 32)` and
/// `K_chan' = HKDF-Expand(R, "pushotp/1 restored channel", 32)`. Returns `(K_req', K_chan')`.
///
/// `K_otp` and `K_ans` stay as they are: on a PIN token they exist only masked with the PIN,
/// and the channel key alone already decides which copy may talk to the server.
///
/// Both steps are written out with the core's HMAC-SHA256 (RFC 5869 §2.2: Extract is
/// `HMAC-Hash(salt, IKM)`; §2.3: with `L = HashLen` Expand is the single block
/// `T(1) = HMAC-Hash(PRK, info || 0x01)`) rather than through the `hkdf` crate, whose own HMAC
/// instance would grow the service worker's WebAssembly module by kilobytes.
#[must_use]
pub fn restored_keys(k_chan: &Secret, nonce: &Nonce) -> (Secret, Secret) {
    let r = Zeroizing::new(hmac_sha256(nonce, k_chan.expose()));
    let expand = |t1: &[u8]| {
        let okm = Zeroizing::new(hmac_sha256(r.as_slice(), t1));
        Secret::from_derived(Zeroizing::new(okm.to_vec()))
    };
    (expand(T1_REQUEST), expand(T1_CHANNEL))
}

/// A device's restore of a token it imported, `POST {server}/api/v1/devices/restore`
/// (protocol §8), tagged under the token's current `K_chan`:
/// `tag = mac(K_chan, "restore", str(tokenId), bytes(nonce))`.
///
/// The `nonce` is the device's, 16 random bytes; it keeps it until the server's answer arrives
/// and sends the same request again if the answer was lost, so that the server can tell that
/// retry from an older copy of the same keys. A replay is answered like that retry, so the
/// request needs no time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreRequest {
    /// Protocol version: 2.
    pub v: u32,
    /// The token restored.
    pub token_id: String,
    /// 16 random bytes of the device, the HKDF salt of the new keys.
    #[serde(with = "b64")]
    pub nonce: Nonce,
    /// `mac(K_chan, "restore", …)`.
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl RestoreRequest {
    /// The device's restore of `token_id` with `nonce`, tagged under its `K_chan`. Fails with
    /// [`Error::InvalidMessage`] on a token id that breaks the field rules.
    pub fn new(token_id: &str, nonce: Nonce, k_chan: &Secret) -> Result<Self> {
        check_token_id(token_id)?;
        let tag = restore_input(token_id, &nonce).mac(k_chan);
        Ok(Self { v: VERSION, token_id: token_id.into(), nonce, tag })
    }

    /// The MAC input of `tag`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        restore_input(&self.token_id, &self.nonce)
    }

    /// The server's check under one channel key of the token (the current one, or one a
    /// restore retired), in this order: [`Error::UnsupportedVersion`],
    /// [`Error::InvalidMessage`], [`Error::BadTag`].
    pub fn verify(&self, k_chan: &Secret) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)?;
        if self.canonical().verify(k_chan, &self.tag) { Ok(()) } else { Err(Error::BadTag) }
    }
}

/// The MAC input of a restore: `str(tokenId), bytes(nonce)` after the purpose `restore`.
#[must_use]
pub fn restore_input(token_id: &str, nonce: &Nonce) -> Canonical {
    Canonical::new(purpose::RESTORE).str(token_id).bytes(nonce)
}

/// The server's answer to a restore (protocol §8), tagged under the new `K_chan'`:
/// `tag = mac(K_chan', "restored", str(tokenId), u64(counter))`. Only a server that derived
/// the same new keys, from the keys and this restore's nonce, can make the tag: it binds the
/// answer to the restore without repeating the nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Restored {
    /// Protocol version: 2.
    pub v: u32,
    /// The token restored; the one the request named.
    pub token_id: String,
    /// Always 0 in version 2, whose approval passcodes are bound to their request and count
    /// nothing; kept, with its place in the tag, so that the answer reads as in version 1.
    pub counter: u64,
    /// `mac(K_chan', "restored", …)`.
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl Restored {
    /// The server's answer to `request` with `counter` (0 in version 2), tagged under the restored `k_chan` (from [`restored_keys`]).
    pub fn new(request: &RestoreRequest, counter: u64, k_chan: &Secret) -> Self {
        let mut restored =
            Self { v: VERSION, token_id: request.token_id.clone(), counter, tag: [0; 32] };
        restored.tag = restored.canonical().mac(k_chan);
        restored
    }

    /// The MAC input of `tag`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        restored_input(&self.token_id, self.counter)
    }

    /// The device's check of the answer to its `request`, with the channel key it had before:
    /// [`Error::UnsupportedVersion`]; [`Error::InvalidMessage`] when `tokenId` is not the
    /// request's; [`Error::BadTag`] unless the tag verifies under the restored `K_chan'`. On
    /// success, the new `(K_req', K_chan')` to keep instead of the old keys.
    pub fn verify(&self, request: &RestoreRequest, k_chan: &Secret) -> Result<(Secret, Secret)> {
        let answer = (self.v, self.token_id.as_str(), self.counter, self.tag.as_slice());
        verify_restored(answer, &request.token_id, &request.nonce, k_chan)
    }
}

/// [`Restored::verify`] on the answer's fields `(v, tokenId, counter, tag)` as they arrive, and
/// the `token_id` and `nonce` of the restore it answers: for callers that read the fields one
/// by one.
pub fn verify_restored(
    (v, answer_token_id, counter, tag): (u32, &str, u64, &[u8]),
    token_id: &str,
    nonce: &Nonce,
    k_chan: &Secret,
) -> Result<(Secret, Secret)> {
    check_version(v)?;
    if answer_token_id != token_id {
        return Err(Error::InvalidMessage("tokenId must be the one restored"));
    }
    let (new_req, new_chan) = restored_keys(k_chan, nonce);
    if restored_input(token_id, counter).verify(&new_chan, tag) {
        Ok((new_req, new_chan))
    } else {
        Err(Error::BadTag)
    }
}

/// The MAC input of the answer to a restore: `str(tokenId), u64(counter)` after the purpose
/// `restored`.
fn restored_input(token_id: &str, counter: u64) -> Canonical {
    Canonical::new(purpose::RESTORED).str(token_id).u64(counter)
}

/// The MAC input of the server's refusal of a copy whose keys a restore retired (protocol §8):
/// `str(tokenId)` after the purpose `restored-elsewhere`.
#[must_use]
pub fn restored_elsewhere_input(token_id: &str) -> Canonical {
    Canonical::new(purpose::RESTORED_ELSEWHERE).str(token_id)
}

/// The server's tag on that refusal, under the retired `K_req` the refused copy still holds.
/// It carries no time: a restore is never undone, so the refusal stays true.
#[must_use]
pub fn restored_elsewhere_tag(k_req: &Secret, token_id: &str) -> Tag {
    restored_elsewhere_input(token_id).mac(k_req)
}

/// The device's check of a refusal "restored elsewhere" under its `K_req`: [`Error::BadTag`]
/// unless `tag` verifies, so that nobody but the server can make a device give up a token.
pub fn verify_restored_elsewhere(k_req: &Secret, token_id: &str, tag: &[u8]) -> Result<()> {
    if restored_elsewhere_input(token_id).verify(k_req, tag) { Ok(()) } else { Err(Error::BadTag) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_req() -> Secret {
        Secret::from_bytes(vec![0x42; 32]).unwrap()
    }

    fn k_chan() -> Secret {
        Secret::from_bytes(vec![0xc0; 32]).unwrap()
    }

    fn request() -> RestoreRequest {
        RestoreRequest::new("tok_1", [7; 16], &k_chan()).unwrap()
    }

    #[test]
    fn a_restore_round_trips_and_gives_both_sides_the_same_new_keys() {
        let request = request();
        let json = serde_json::to_string(&request).unwrap();
        assert!(
            json.starts_with(
                r#"{"v":2,"tokenId":"tok_1","nonce":"BwcHBwcHBwcHBwcHBwcHBw","tag":""#
            ),
            "{json}"
        );
        let back: RestoreRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, request);
        back.verify(&k_chan()).unwrap();
        assert_eq!(back.verify(&k_req()), Err(Error::BadTag));
        let mut other = back.clone();
        other.nonce = [8; 16];
        assert_eq!(other.verify(&k_chan()), Err(Error::BadTag));

        // The server derives the new keys and answers under the new channel key.
        let (server_req, server_chan) = restored_keys(&k_chan(), &request.nonce);
        assert_ne!(server_req, k_req());
        assert_ne!(server_chan, k_chan());
        assert_ne!(server_req, server_chan);
        let restored = Restored::new(&request, 7, &server_chan);
        let json = serde_json::to_string(&restored).unwrap();
        assert!(json.starts_with(r#"{"v":2,"tokenId":"tok_1","counter":7,"tag":""#), "{json}");
        let (device_req, device_chan) = restored.verify(&request, &k_chan()).unwrap();
        assert_eq!((&device_req, &device_chan), (&server_req, &server_chan));

        // Another nonce gives other keys, so the answer to another restore does not verify.
        let (other_req, _) = restored_keys(&k_chan(), &[8; 16]);
        assert_ne!(other_req, device_req);
        assert_eq!(restored.verify(&other, &k_chan()), Err(Error::BadTag));
        // A changed counter breaks the tag.
        let mut changed = restored.clone();
        changed.counter = 8;
        assert_eq!(changed.verify(&request, &k_chan()), Err(Error::BadTag));
        let mut renamed = restored.clone();
        renamed.token_id = "tok_2".into();
        assert!(matches!(renamed.verify(&request, &k_chan()), Err(Error::InvalidMessage(_))));
        let mut newer = restored.clone();
        newer.v = 1;
        assert_eq!(newer.verify(&request, &k_chan()), Err(Error::UnsupportedVersion));
        // What a version 2 server sends.
        let zero = Restored::new(&request, 0, &server_chan);
        assert!(serde_json::to_string(&zero).unwrap().contains(r#""counter":0"#));
        zero.verify(&request, &k_chan()).unwrap();
    }

    #[test]
    fn bad_restores_are_refused_before_their_tag() {
        assert!(matches!(
            RestoreRequest::new("tok 1", [7; 16], &k_chan()),
            Err(Error::InvalidMessage(_))
        ));
        let mut request = request();
        request.v = 1;
        assert_eq!(request.verify(&k_chan()), Err(Error::UnsupportedVersion));
        let json = serde_json::to_string(&super::tests::request()).unwrap();
        let extra = json.replace(r#"{"v""#, r#"{"x":1,"v""#);
        assert!(serde_json::from_str::<RestoreRequest>(&extra).is_err());
    }

    #[test]
    fn the_refusal_of_an_old_copy_is_tagged_under_its_request_key() {
        let tag = restored_elsewhere_tag(&k_req(), "tok_1");
        assert_eq!(verify_restored_elsewhere(&k_req(), "tok_1", &tag), Ok(()));
        assert_eq!(verify_restored_elsewhere(&k_req(), "tok_2", &tag), Err(Error::BadTag));
        assert_eq!(verify_restored_elsewhere(&k_chan(), "tok_1", &tag), Err(Error::BadTag));
        assert_eq!(verify_restored_elsewhere(&k_req(), "tok_1", &tag[1..]), Err(Error::BadTag));
    }
}
