//! Key derivation (protocol §1) with HKDF-SHA256 (RFC 5869).

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::Nonce;
use crate::algorithm::Algorithm;
use crate::secret::Secret;

/// HKDF info of `K_act` (protocol §1).
const INFO_ACTIVATION: &[u8] = b"pushotp/1 activation";
/// HKDF info of `K_otp`.
const INFO_PASSCODE: &[u8] = b"pushotp/1 passcode";
/// HKDF info of `K_req`.
const INFO_REQUEST: &[u8] = b"pushotp/1 request-mac";
/// HKDF info of `K_ans`.
const INFO_ANSWER: &[u8] = b"pushotp/1 answer-mac";
/// HKDF info of `K_chan`.
const INFO_CHANNEL: &[u8] = b"pushotp/1 channel";

/// The length of `K_req`, `K_ans`, `K_chan` and `K_act`: one SHA-256 output.
pub const MAC_KEY_LEN: usize = 32;

/// `K_act = HKDF-SHA256(salt = "", IKM = A, info = "pushotp/1 activation", L = 32)`
/// (protocol §1, RFC 5869): the key of the enrollment proof and of the server's answer to it.
#[must_use]
pub fn activation_key(activation_secret: &Secret) -> Secret {
    // No salt is the same as an empty one: both become HashLen zero bytes (RFC 5869 §2.2).
    expand(&Hkdf::<Sha256>::new(None, activation_secret.expose()), INFO_ACTIVATION, MAC_KEY_LEN)
}

/// The four keys of one enrolled token (protocol §1), one per purpose so that a key that leaks
/// or is masked by a PIN affects only its own messages.
///
/// `Debug` shows no key bytes; equality is constant-time per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeys {
    /// `K_otp`: the HOTP/TOTP key of the token's passcodes (RFC 4226/6238), as long as the
    /// algorithm's HMAC output (20, 32 or 64 bytes). PIN-masked on the device.
    pub otp: Secret,
    /// `K_req`: tags the push login requests the server sends (§4).
    pub request: Secret,
    /// `K_ans`: tags the device's approvals (§5). PIN-masked on the device.
    pub answer: Secret,
    /// `K_chan`: tags channel log-ins, polls, Web Push registrations, removals and the device
    /// tag of every answer (§5, §7).
    pub channel: Secret,
}

impl TokenKeys {
    /// Derives the token's keys (protocol §1, RFC 5869):
    /// `M = HKDF-Extract(salt = deviceNonce || serverNonce, IKM = A)`, then `HKDF-Expand(M, info,
    /// L)` for each key. Both sides call this once at enrollment; afterwards neither `A` nor `M`
    /// is kept, since either would let a copied device profile recompute the PIN-masked keys.
    #[must_use]
    pub fn derive(
        activation_secret: &Secret,
        device_nonce: &Nonce,
        server_nonce: &Nonce,
        algorithm: Algorithm,
    ) -> Self {
        let mut salt = [0u8; 32];
        let (device, server) = salt.split_at_mut(device_nonce.len());
        device.copy_from_slice(device_nonce);
        server.copy_from_slice(server_nonce);
        let m = Hkdf::<Sha256>::new(Some(&salt), activation_secret.expose());
        Self {
            otp: expand(&m, INFO_PASSCODE, algorithm.output_len()),
            request: expand(&m, INFO_REQUEST, MAC_KEY_LEN),
            answer: expand(&m, INFO_ANSWER, MAC_KEY_LEN),
            channel: expand(&m, INFO_CHANNEL, MAC_KEY_LEN),
        }
    }
}

/// `HKDF-Expand(PRK, info, len)` into a wiped buffer.
fn expand(prk: &Hkdf<Sha256>, info: &[u8], len: usize) -> Secret {
    let mut okm = Zeroizing::new(vec![0u8; len]);
    // HKDF-Expand fails only above 255 * 32 bytes (RFC 5869 §2.3); our keys are 20 to 64.
    prk.expand(info, &mut okm).unwrap_or_else(|_| unreachable!());
    Secret::from_derived(okm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        base16ct::lower::encode_string(bytes)
    }

    #[test]
    fn rfc5869_test_case_1() {
        // RFC 5869 Appendix A.1, through the same HKDF the keys use.
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let hk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
        assert_eq!(
            hex(expand(&hk, &info, 42).expose()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn key_lengths_follow_the_algorithm_and_purposes_differ() {
        let a = Secret::from_bytes(vec![7u8; 20]).unwrap();
        for (algorithm, len) in
            [(Algorithm::Sha1, 20), (Algorithm::Sha256, 32), (Algorithm::Sha512, 64)]
        {
            let keys = TokenKeys::derive(&a, &[1; 16], &[2; 16], algorithm);
            assert_eq!(keys.otp.len(), len);
            assert_eq!(
                [keys.request.len(), keys.answer.len(), keys.channel.len()],
                [MAC_KEY_LEN; 3]
            );
            assert_ne!(keys.request, keys.answer);
            assert_ne!(keys.answer, keys.channel);
            assert_ne!(keys.request.expose(), &keys.otp.expose()[..MAC_KEY_LEN.min(len)]);
        }
        // The SHA-1 key is a prefix of the longer ones: HKDF-Expand output grows, it does not
        // change, which is why the purpose, not the length, separates keys.
        let short = TokenKeys::derive(&a, &[1; 16], &[2; 16], Algorithm::Sha1);
        let long = TokenKeys::derive(&a, &[1; 16], &[2; 16], Algorithm::Sha512);
        assert!(long.otp.expose().starts_with(short.otp.expose()));
        // Either nonce changes every key.
        let other = TokenKeys::derive(&a, &[1; 16], &[3; 16], Algorithm::Sha1);
        assert_ne!(other.request, short.request);
        let swapped = TokenKeys::derive(&a, &[2; 16], &[1; 16], Algorithm::Sha1);
        assert_ne!(swapped.channel, short.channel);
        assert_ne!(activation_key(&a), short.request);
    }

    #[test]
    fn debug_shows_no_key() {
        let a = Secret::from_bytes(vec![7u8; 20]).unwrap();
        let keys = TokenKeys::derive(&a, &[1; 16], &[2; 16], Algorithm::Sha1);
        let shown = format!("{keys:?}");
        assert_eq!(
            shown,
            "TokenKeys { otp: Secret(..), request: Secret(..), answer: Secret(..), channel: Secret(..) }"
        );
    }
}
