//! PIN masking of `K_otp` and `K_ans` on the device (protocol §6) with Argon2id (RFC 9106).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keys::MAC_KEY_LEN;
use super::wire::{b64, b64_vec};
use super::{PIN_SALT_LEN, PinSalt};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest PIN accepted, in bytes of UTF-8.
pub const MAX_PIN_LEN: usize = 64;

/// Argon2id cost parameters (RFC 9106 §3.1). The [`Default`] is the protocol's (§6):
/// m = 19456 KiB, t = 2, p = 1, OWASP's recommended minimum for Argon2id. They are stored with
/// the masked keys, so that unmasking always uses the costs the keys were masked with.
///
/// JSON: `{"memoryKib":19456,"iterations":2,"parallelism":1}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinParams {
    /// Memory size m in KiB: at least 8 per lane, at most 1 GiB.
    pub memory_kib: u32,
    /// Passes t over the memory: 1 to 16.
    pub iterations: u32,
    /// Lanes p: 1 to 16. This core computes lanes one after another.
    pub parallelism: u32,
}

impl Default for PinParams {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

impl PinParams {
    /// Bounds that keep a corrupted or hostile stored record from asking for gigabytes or
    /// minutes of work.
    pub(crate) fn argon2(&self, output_len: usize) -> Result<argon2::Argon2<'static>> {
        let bad = Error::InvalidMessage("PIN parameters are out of range");
        let fits = (1..=16).contains(&self.iterations)
            && (1..=16).contains(&self.parallelism)
            && (self.parallelism.saturating_mul(8)..=1 << 20).contains(&self.memory_kib);
        if !fits {
            return Err(bad);
        }
        let params = argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(output_len),
        )
        .map_err(|_| bad)?;
        Ok(argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params))
    }
}

/// `K_otp` and `K_ans` as a PIN-protected device stores them (protocol §6):
/// `masked = (K_otp || K_ans) XOR Argon2id(PIN, salt, L = len(K_otp) + 32)`.
///
/// Every PIN unmasks to some pair of keys; only the server, by refusing the passcode and
/// answer tag they make, can tell a wrong one. So a copied profile gives an attacker no way to
/// test PINs offline. JSON: `{"salt": <16 bytes>, "params": {…}, "masked": <52, 64 or 96
/// bytes>}`, binary fields as unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaskedKeys {
    /// The Argon2id salt: 16 random bytes chosen when the PIN is set.
    #[serde(with = "b64")]
    pub salt: PinSalt,
    /// The Argon2id costs the keys were masked with.
    pub params: PinParams,
    /// `(K_otp || K_ans) XOR W`.
    #[serde(with = "b64_vec")]
    pub masked: Vec<u8>,
}

impl MaskedKeys {
    /// Masks `otp` (`K_otp`, 20, 32 or 64 bytes) and `answer` (`K_ans`, 32 bytes) with `pin`
    /// under the protocol's Argon2id costs. `salt` must be 16 fresh random bytes.
    ///
    /// Fails with [`Error::InvalidPin`] on an empty PIN or one over 64 bytes, and with
    /// [`Error::InvalidMessage`] on keys of other lengths.
    pub fn mask(otp: &Secret, answer: &Secret, pin: &str, salt: PinSalt) -> Result<Self> {
        Self::mask_with(otp, answer, pin, salt, PinParams::default())
    }

    /// [`mask`](Self::mask) with other Argon2id costs (tests use cheaper ones).
    pub fn mask_with(
        otp: &Secret,
        answer: &Secret,
        pin: &str,
        salt: PinSalt,
        params: PinParams,
    ) -> Result<Self> {
        if !matches!(otp.len(), 20 | 32 | 64) || answer.len() != MAC_KEY_LEN {
            return Err(Error::InvalidMessage("K_otp must be 20, 32 or 64 bytes, K_ans 32"));
        }
        let mut masked = pad(pin, &salt, &params, otp.len() + MAC_KEY_LEN)?;
        for (m, k) in masked.iter_mut().zip(otp.expose().iter().chain(answer.expose())) {
            *m ^= k;
        }
        Ok(Self { salt, params, masked: masked.to_vec() })
    }

    /// `(K_otp, K_ans)` under `pin`. A wrong PIN gives other keys, never an error: an error
    /// would be the offline oracle the masking exists to deny.
    ///
    /// Fails with [`Error::InvalidPin`] on an empty PIN or one over 64 bytes, and with
    /// [`Error::InvalidMessage`] on a stored record of an impossible length or cost.
    pub fn unmask(&self, pin: &str) -> Result<(Secret, Secret)> {
        let otp_len = self.masked.len().saturating_sub(MAC_KEY_LEN);
        if !matches!(otp_len, 20 | 32 | 64) {
            return Err(Error::InvalidMessage("masked keys must be 52, 64 or 96 bytes"));
        }
        let mut keys = pad(pin, &self.salt, &self.params, self.masked.len())?;
        for (k, m) in keys.iter_mut().zip(&self.masked) {
            *k ^= m;
        }
        let answer = Zeroizing::new(keys.split_off(otp_len));
        Ok((Secret::from_derived(keys), Secret::from_derived(answer)))
    }
}

/// `W = Argon2id(PIN, salt, m, t, p, L = len)`, version 0x13, no secret, no associated data.
pub(crate) fn pad(
    pin: &str,
    salt: &PinSalt,
    params: &PinParams,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    if pin.is_empty() || pin.len() > MAX_PIN_LEN {
        return Err(Error::InvalidPin);
    }
    let argon2 = params.argon2(len)?;
    let mut w = Zeroizing::new(vec![0u8; len]);
    debug_assert_eq!(salt.len(), PIN_SALT_LEN);
    argon2
        .hash_password_into(pin.as_bytes(), salt, &mut w)
        .map_err(|_| Error::InvalidMessage("PIN parameters are out of range"))?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap costs for the many derivations below; the vectors test the protocol's own.
    const FAST: PinParams = PinParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn keys(otp_len: usize) -> (Secret, Secret) {
        (
            Secret::from_bytes(vec![0x11; otp_len]).unwrap(),
            Secret::from_bytes(vec![0x22; 32]).unwrap(),
        )
    }

    #[test]
    fn right_pin_gives_the_keys_back_and_wrong_pins_other_keys() {
        for otp_len in [20, 32, 64] {
            let (otp, answer) = keys(otp_len);
            let masked = MaskedKeys::mask_with(&otp, &answer, "1234", [7; 16], FAST).unwrap();
            assert_eq!(masked.masked.len(), otp_len + 32);
            assert_eq!(masked.unmask("1234").unwrap(), (otp.clone(), answer.clone()));
            for wrong in ["1235", "12345", "0000", "1234 ", "١٢٣٤"] {
                let (o, a) = masked.unmask(wrong).unwrap();
                assert_ne!(o, otp, "{wrong}");
                assert_ne!(a, answer, "{wrong}");
                assert_eq!((o.len(), a.len()), (otp_len, 32));
            }
            // Another salt masks differently.
            let other = MaskedKeys::mask_with(&otp, &answer, "1234", [8; 16], FAST).unwrap();
            assert_ne!(other.masked, masked.masked);
            // The stored JSON round-trips and unmasks the same.
            let json = serde_json::to_string(&masked).unwrap();
            let back: MaskedKeys = serde_json::from_str(&json).unwrap();
            assert_eq!(back.unmask("1234").unwrap(), (otp, answer));
        }
    }

    #[test]
    fn default_params_are_the_protocols() {
        assert_eq!(
            PinParams::default(),
            PinParams { memory_kib: 19_456, iterations: 2, parallelism: 1 }
        );
        let (otp, answer) = keys(20);
        let masked = MaskedKeys::mask(&otp, &answer, "1234", [7; 16]).unwrap();
        assert_eq!(masked.params, PinParams::default());
        assert_eq!(masked.unmask("1234").unwrap().0, otp);
    }

    #[test]
    fn bad_pins_lengths_and_costs_are_typed_errors() {
        let (otp, answer) = keys(20);
        assert_eq!(MaskedKeys::mask_with(&otp, &answer, "", [7; 16], FAST), Err(Error::InvalidPin));
        let long = "1".repeat(MAX_PIN_LEN + 1);
        assert_eq!(
            MaskedKeys::mask_with(&otp, &answer, &long, [7; 16], FAST),
            Err(Error::InvalidPin)
        );
        assert!(
            MaskedKeys::mask_with(&otp, &answer, &"1".repeat(MAX_PIN_LEN), [7; 16], FAST).is_ok()
        );
        let masked = MaskedKeys::mask_with(&otp, &answer, "1234", [7; 16], FAST).unwrap();
        assert_eq!(masked.unmask(""), Err(Error::InvalidPin));
        assert_eq!(masked.unmask(&long), Err(Error::InvalidPin));

        let odd = Secret::from_bytes(vec![1; 21]).unwrap();
        assert!(matches!(
            MaskedKeys::mask_with(&odd, &answer, "1", [7; 16], FAST),
            Err(Error::InvalidMessage(_))
        ));
        assert!(matches!(
            MaskedKeys::mask_with(&otp, &odd, "1", [7; 16], FAST),
            Err(Error::InvalidMessage(_))
        ));
        let mut bad = masked.clone();
        bad.masked.pop();
        assert!(matches!(bad.unmask("1234"), Err(Error::InvalidMessage(_))));
        for params in [
            PinParams { memory_kib: 7, ..FAST },
            PinParams { memory_kib: (1 << 20) + 1, ..FAST },
            PinParams { iterations: 0, ..FAST },
            PinParams { iterations: 17, ..FAST },
            PinParams { parallelism: 0, ..FAST },
            PinParams { parallelism: 2, memory_kib: 15, iterations: 1 },
        ] {
            let mut bad = masked.clone();
            bad.params = params;
            assert!(matches!(bad.unmask("1234"), Err(Error::InvalidMessage(_))), "{params:?}");
        }
        let json = serde_json::to_string(&masked).unwrap();
        for bad in [
            json.replace(r#""params""#, r#""extra":1,"params""#),
            json.replace(r#""salt":"BwcHBwcHBwcHBwcHBwcHBw""#, r#""salt":"BwcH""#),
            json.replace(r#""masked":""#, &format!(r#""masked":"{}"#, "A".repeat(200))),
        ] {
            assert!(serde_json::from_str::<MaskedKeys>(&bad).is_err(), "{bad}");
        }
    }
}
