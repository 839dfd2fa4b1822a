//! The device's PIN check of a privacyIDEA token whose server asks for an unlock before each
//! answer (`app_force_unlock`, or `pin=True` in the enrollment link).
//!
//! privacyIDEA itself never sees this PIN: the device asks for it before it signs an approval.
//! The check is stored with the token, and its format is fixed by the tokens already stored:
//! two random 32-byte keys masked with the PIN exactly as a push token's keys are (protocol §6,
//! Argon2id, [`MaskedKeys`]), and the SHA-256 of the first key's text, so that only the right
//! PIN unmasks a key with that digest. Unlike a push token's masked keys, this gives an
//! offline PIN oracle (whoever copies the profile can try PINs against the digest at Argon2id's
//! cost). Everything about the format is in this file, so that a stronger check replaces it
//! in one place.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::push::{MAX_PIN_LEN, MaskedKeys, PinParams, PinSalt};
use crate::secret::Secret;

/// The fewest digits of a new PIN.
pub const MIN_PIN_DIGITS: usize = 4;

/// The length of each random key of a check, in bytes.
pub const PIN_CHECK_KEY_LEN: usize = 32;

/// A token's PIN check, as stored: `{"masked": {…}, "digest": "…"}`.
///
/// `masked` holds two random keys masked with the PIN ([`MaskedKeys`]); `digest` is the
/// padded standard base64 (RFC 4648 §4) of the SHA-256 of the first key written as unpadded
/// base64url text (RFC 4648 §5), which is how the extension first computed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinCheck {
    /// The two random keys, masked with the PIN.
    pub masked: MaskedKeys,
    /// The SHA-256 of the first key's base64url text, as padded base64.
    pub digest: String,
}

impl PinCheck {
    /// A new check of `pin` from the random keys `first` and `second` and the random Argon2id
    /// `salt`, under the protocol's Argon2id costs.
    ///
    /// # Errors
    /// [`Error::PinRequired`] unless `pin` is 4 to 64 ASCII digits.
    pub fn new(
        pin: &str,
        first: &[u8; PIN_CHECK_KEY_LEN],
        second: &[u8; PIN_CHECK_KEY_LEN],
        salt: PinSalt,
    ) -> Result<Self> {
        Self::new_with(pin, first, second, salt, PinParams::default())
    }

    /// [`new`](Self::new) with other Argon2id costs (tests use cheaper ones).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn new_with(
        pin: &str,
        first: &[u8; PIN_CHECK_KEY_LEN],
        second: &[u8; PIN_CHECK_KEY_LEN],
        salt: PinSalt,
        params: PinParams,
    ) -> Result<Self> {
        if !is_pin(pin, MIN_PIN_DIGITS) {
            return Err(Error::PinRequired);
        }
        let first = Secret::from_bytes(first.to_vec())?;
        let masked = MaskedKeys::mask_with(
            &first,
            &Secret::from_bytes(second.to_vec())?,
            pin,
            salt,
            params,
        )?;
        Ok(Self { masked, digest: digest(&first) })
    }

    /// Whether `pin` is the PIN this check was made with. Anything but 1 to 64 ASCII digits
    /// is not. Takes an Argon2id computation.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] when the stored masked keys are of an impossible length or
    /// cost.
    pub fn matches(&self, pin: &str) -> Result<bool> {
        if !is_pin(pin, 1) {
            return Ok(false);
        }
        let (first, _) = self.masked.unmask(pin)?;
        Ok(digest(&first).as_bytes().ct_eq(self.digest.as_bytes()).into())
    }
}

/// `min` to 64 ASCII digits.
fn is_pin(pin: &str, min: usize) -> bool {
    (min..=MAX_PIN_LEN).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The padded base64 of the SHA-256 of the key's unpadded base64url text.
fn digest(key: &Secret) -> String {
    let text = zeroize::Zeroizing::new(Base64UrlUnpadded::encode_string(key.expose()));
    Base64::encode_string(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap Argon2id costs: the format, not the cost, is under test.
    const CHEAP: PinParams = PinParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn check(pin: &str) -> Result<PinCheck> {
        PinCheck::new_with(pin, &[1; 32], &[2; 32], [3; 16], CHEAP)
    }

    #[test]
    fn only_the_pin_it_was_made_with_matches() {
        let made = check("1234").unwrap();
        assert_eq!(made.matches("1234"), Ok(true));
        for wrong in ["1235", "12345", "0", "", "123a", "١٢٣٤", &"1".repeat(65)] {
            assert_eq!(made.matches(wrong), Ok(false), "{wrong:?}");
        }
        // Short PINs are compared (a check made elsewhere may allow them), just never made.
        let long = check(&"9".repeat(64)).unwrap();
        assert_eq!(long.matches(&"9".repeat(64)), Ok(true));
    }

    #[test]
    fn new_pins_are_4_to_64_digits() {
        for bad in ["", "123", "12a4", " 1234", "1234 ", "١٢٣٤", &"1".repeat(65)] {
            assert_eq!(check(bad), Err(Error::PinRequired), "{bad:?}");
        }
        assert_eq!(Error::PinRequired.code(), "pin_required");
    }

    #[test]
    fn the_digest_is_of_the_first_key_s_base64url_text() {
        // SHA-256("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"), the text of 32 bytes of 0x01,
        // as padded base64 (computed with JavaScript's WebCrypto, as the extension did).
        let made = check("1234").unwrap();
        assert_eq!(made.digest, "VtX6czP210fbQsI5QH5dpMMvTHnzXQkrE0/TWkAtnFw=");
        let (first, second) = made.masked.unmask("1234").unwrap();
        assert_eq!(first.expose(), [1; 32]);
        assert_eq!(second.expose(), [2; 32]);
    }

    #[test]
    fn damaged_records_do_not_match() {
        let mut made = check("1234").unwrap();
        made.digest.replace_range(0..1, "m");
        assert_eq!(made.matches("1234"), Ok(false));
        let mut made = check("1234").unwrap();
        made.masked.masked.truncate(10);
        assert!(matches!(made.matches("1234"), Err(Error::InvalidMessage(_))));
    }
}
