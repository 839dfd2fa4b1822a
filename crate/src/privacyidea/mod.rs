//! privacyIDEA push tokens (privacyIDEA 3.14, `docs/privacyidea.md`): the strings each side
//! signs, privacyIDEA's signature encoding, the canonical JSON of the signed capabilities, the
//! enrollment link and the server key's wrapping.
//!
//! privacyIDEA signs with RSASSA-PKCS1-v1_5 and SHA-256 over the UTF-8 bytes of `|`-joined
//! strings. The server's key lives in WebCrypto; the device's key is derived here from the
//! token's seed and signs here ([`DeviceKey`]). What the core owns is every byte that is
//! signed or verified, so that the extension and its tests cannot drift from the server:
//!
//! | what | here |
//! |---|---|
//! | poll (`GET /ttype/push`) | [`poll_message`] |
//! | a challenge from the server: its fields, token and signed capabilities | [`check_challenge`] |
//! | the string the server signed for it | [`Challenge::message`] |
//! | its `capabilities_signature` (RFC 8785) | [`capabilities_message`], [`canonical_json`] |
//! | an answer (accept, presence, decline) | [`Reply::message`] |
//! | signatures: RFC 4648 base32, upper case, padded | [`signature_to_base32`], [`signature_from_base32`] |
//! | the `otpauth://pipush/` and `pia://pipush/` link | [`EnrollLink`] |
//! | the server key: PKCS#1 `RSAPublicKey` to SPKI | [`server_key_spki`], [`pkcs1_to_spki`] |
//! | the device key, derived from a seed, and its signatures | [`DeviceKey`] |
//! | the seed as stored, masked with the PIN when the server asks for one (`app_force_unlock`, `pin=True`) | [`DeviceSecret`], [`MaskedSeed`] |

mod challenge;
mod device;
mod enroll;
mod jcs;
mod key;

use std::string::String;
use std::vec::Vec;

pub use challenge::{CheckedChallenge, check_challenge};
pub use device::{
    DEVICE_KEY_BITS, DEVICE_SEED_LEN, DeviceKey, DeviceSecret, MaskedSeed, seed_from_text,
};
pub use enroll::{EnrollLink, MAX_ENROLL_LINK_LEN};
pub use jcs::{MAX_JSON_LEN, canonical_json};
pub use key::{pkcs1_to_spki, server_key_spki};

/// The fewest digits of a new PIN.
pub const MIN_PIN_DIGITS: usize = 4;

use crate::{Error, Result};

/// The longest signature accepted, in base32 characters: an RSA-8192 signature (1024 bytes)
/// is 1640. privacyIDEA's own keys are RSA-4096 (824 characters).
pub const MAX_SIGNATURE_LEN: usize = 1640;

/// `fbtoken` of a token that only polls: the value privacyIDEA's own app sends.
pub const NO_FIREBASE_TOKEN: &str = "no_firebase_token";

/// Joins fields with `|`, privacyIDEA's signed-string separator (no escaping: the server
/// does none either).
fn joined(fields: &[&str]) -> String {
    let mut out = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(field);
    }
    out
}

/// What the device signs to poll for open challenges: `{serial}|{timestamp}`, with the
/// timestamp exactly as it is sent (ISO 8601, e.g. from JavaScript's `toISOString()`).
#[must_use]
pub fn poll_message(serial: &str, timestamp: &str) -> String {
    joined(&[serial, timestamp])
}

/// One challenge as `GET /ttype/push` lists it (all fields are strings on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// 32 upper-case base32 characters.
    pub nonce: &'a str,
    /// Where the answer goes, exactly as sent (never normalised: it is signed).
    pub url: &'a str,
    /// The token's serial.
    pub serial: &'a str,
    /// The text to show.
    pub question: &'a str,
    /// Its title.
    pub title: &'a str,
    /// `"0"` or `"1"`, as sent.
    pub sslverify: &'a str,
    /// The comma-joined presence options of a `version: "2"` challenge, if any.
    pub require_presence: Option<&'a str>,
}

impl Challenge<'_> {
    /// The string the server signed: `{nonce}|{url}|{serial}|{question}|{title}|{sslverify}`,
    /// followed by `|{require_presence}` for a presence challenge.
    #[must_use]
    pub fn message(&self) -> String {
        let base = [self.nonce, self.url, self.serial, self.question, self.title, self.sslverify];
        match self.require_presence {
            Some(options) => {
                let mut all = base.to_vec();
                all.push(options);
                joined(&all)
            }
            None => joined(&base),
        }
    }

    /// The presence options, in the order the server sent them.
    pub fn presence_options(&self) -> impl Iterator<Item = &str> {
        self.require_presence.into_iter().flat_map(|o| o.split(',')).filter(|o| !o.is_empty())
    }
}

/// The device's answer to a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// Accept a standard or code-to-phone challenge.
    Accept,
    /// Accept a presence challenge with the option the person picked.
    Presence(&'a str),
    /// Decline without a reason (privacyIDEA 3.8+).
    Decline,
    /// Decline with a reason (privacyIDEA 3.14: `unknown_trigger` or `cancelled`); send it
    /// only when the challenge's signed capabilities advertise `decline_reason`.
    DeclineWith(&'a str),
}

/// The reason that reports a sign-in the person did not start.
pub const UNKNOWN_TRIGGER: &str = "unknown_trigger";
/// The reason for "it was me, but discard it".
pub const CANCELLED: &str = "cancelled";

impl Reply<'_> {
    /// The string the device signs: `{nonce}|{serial}`, then `|decline[|{reason}]` or
    /// `|{presence_answer}` (the server's order).
    #[must_use]
    pub fn message(&self, nonce: &str, serial: &str) -> String {
        match *self {
            Self::Accept => joined(&[nonce, serial]),
            Self::Presence(answer) => joined(&[nonce, serial, answer]),
            Self::Decline => joined(&[nonce, serial, "decline"]),
            Self::DeclineWith(reason) => joined(&[nonce, serial, "decline", reason]),
        }
    }
}

/// The bytes behind a challenge's `capabilities_signature`: the RFC 8785 canonical JSON of
/// `{"capabilities": <capabilities>, "nonce": <nonce>}`. `capabilities` is the field as sent
/// (a JSON text made by Python, such as `{"decline_reason": true}`); it is parsed and
/// re-canonicalised, never signed raw.
///
/// # Errors
/// [`Error::InvalidMessage`] when `capabilities` is not a JSON object the canonical form
/// covers (see [`canonical_json`]).
pub fn capabilities_message(capabilities: &str, nonce: &str) -> Result<String> {
    let canonical = canonical_json(capabilities)?;
    if !canonical.starts_with('{') {
        return Err(Error::InvalidMessage("capabilities must be a JSON object"));
    }
    let mut out = String::with_capacity(canonical.len() + nonce.len() + 32);
    out.push_str("{\"capabilities\":");
    out.push_str(&canonical);
    out.push_str(",\"nonce\":");
    jcs::write_string(&mut out, nonce);
    out.push('}');
    Ok(out)
}

/// Whether capabilities (as [`capabilities_message`] checked them) advertise the decline
/// reason: their top-level member `decline_reason` is `true`, as
/// `JSON.parse(capabilities).decline_reason === true` reads it.
///
/// # Errors
/// As [`capabilities_message`].
pub fn offers_decline_reason(capabilities: &str) -> Result<bool> {
    Ok(jcs::object_members(capabilities)?
        .iter()
        .any(|(name, value)| name == "decline_reason" && value == "true"))
}

/// A signature in privacyIDEA's encoding: RFC 4648 base32, upper case, with `=` padding
/// (its server decodes strictly; unpadded or lower-case signatures are refused).
#[must_use]
pub fn signature_to_base32(signature: &[u8]) -> String {
    // Signatures are public: a plain (not constant-time) codec is enough, and smaller.
    let mut out = String::with_capacity(signature.len().div_ceil(5) * 8);
    for chunk in signature.chunks(5) {
        let mut block = [0u8; 5];
        block.get_mut(..chunk.len()).unwrap_or_default().copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
        // Characters that carry data: ceil(8 * len / 5); the rest of the 8 are padding.
        let data = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < data {
                let index = (bits >> (35 - 5 * i)) & 31;
                out.extend(BASE32.get(usize::try_from(index).unwrap_or(0)).map(|&c| char::from(c)));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// RFC 4648 §6's alphabet.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Decodes a signature the server sent (upper-case, padded base32).
///
/// # Errors
/// [`Error::TooLong`] over [`MAX_SIGNATURE_LEN`] characters, [`Error::InvalidBase32`] when
/// it is not strict upper-case padded base32.
pub fn signature_from_base32(text: &str) -> Result<Vec<u8>> {
    if text.len() > MAX_SIGNATURE_LEN {
        return Err(Error::TooLong { max: MAX_SIGNATURE_LEN });
    }
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    // Whole 8-character blocks, with only the padding lengths RFC 4648 allows.
    if body.is_empty() || !text.len().is_multiple_of(8) || ![0, 1, 3, 4, 6].contains(&padding) {
        return Err(Error::InvalidBase32);
    }
    let mut bytes = Vec::with_capacity(body.len() * 5 / 8);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in body.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(Error::InvalidBase32),
        };
        bits = (bits << 5) | u32::from(value);
        count += 5;
        if count >= 8 {
            count -= 8;
            bytes.extend(u8::try_from((bits >> count) & 0xff).ok());
        }
        bits &= (1 << count) - 1;
    }
    // The bits left over must be zero, so that every signature has one encoding.
    if bits != 0 {
        return Err(Error::InvalidBase32);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_messages_match_the_server() {
        let standard = Challenge {
            nonce: "XWTOXVDWKH56GB4CUY63KQC35WCIZZR4",
            url: "https://pi.example.test/ttype/push",
            serial: "PIPU0000C99F",
            question: "Do you want to confirm the login?",
            title: "privacyIDEA",
            sslverify: "1",
            require_presence: None,
        };
        assert_eq!(
            standard.message(),
            "XWTOXVDWKH56GB4CUY63KQC35WCIZZR4|https://pi.example.test/ttype/push|PIPU0000C99F|Do you want to confirm the login?|privacyIDEA|1"
        );
        let presence = Challenge {
            nonce: "25DJKXJTUDC627FAGN3H7SZGYO5UMZMF",
            url: "http://127.0.0.1:5001/ttype/push",
            serial: "PIPU0001AC85",
            question: "Anmeldung für bob@realm1 von 127.0.0.1 bestätigen?",
            title: "privacyIDEA – Test",
            sslverify: "0",
            require_presence: Some("U,S,V"),
        };
        assert_eq!(
            presence.message(),
            "25DJKXJTUDC627FAGN3H7SZGYO5UMZMF|http://127.0.0.1:5001/ttype/push|PIPU0001AC85|Anmeldung für bob@realm1 von 127.0.0.1 bestätigen?|privacyIDEA – Test|0|U,S,V"
        );
        assert_eq!(presence.presence_options().collect::<Vec<_>>(), ["U", "S", "V"]);
        assert_eq!(standard.presence_options().count(), 0);
    }

    #[test]
    fn device_messages_match_the_server() {
        let (n, s) = ("SGSB2RIECOHYK2T6T4ZSPWM232747F77", "PIPU0000D04D");
        assert_eq!(
            poll_message(s, "2026-11-24T09:08:03.905Z"),
            "PIPU0000D04D|2026-11-24T09:08:03.905Z"
        );
        assert_eq!(Reply::Accept.message(n, s), format!("{n}|{s}"));
        assert_eq!(Reply::Presence("X").message(n, s), format!("{n}|{s}|X"));
        assert_eq!(Reply::Decline.message(n, s), format!("{n}|{s}|decline"));
        assert_eq!(
            Reply::DeclineWith(UNKNOWN_TRIGGER).message(n, s),
            format!("{n}|{s}|decline|unknown_trigger")
        );
    }

    #[test]
    fn capabilities_are_canonical_json_with_the_nonce() {
        assert_eq!(
            capabilities_message("{\"decline_reason\": true}", "N7IEDMICOWNNN4RJ2H5JF3UZQUPRDE3X")
                .unwrap(),
            "{\"capabilities\":{\"decline_reason\":true},\"nonce\":\"N7IEDMICOWNNN4RJ2H5JF3UZQUPRDE3X\"}"
        );
        assert!(offers_decline_reason("{ \"decline_reason\" : true }").unwrap());
        assert!(!offers_decline_reason("{\"decline_reason\": false}").unwrap());
        assert!(!offers_decline_reason("{\"decline_reason\": \"true\"}").unwrap());
        assert!(offers_decline_reason("{\"a\": [1], \"decline_\\u0072eason\": true}").unwrap());
        // Only the top level counts.
        assert!(!offers_decline_reason("{\"x\": {\"decline_reason\": true}}").unwrap());
        assert!(offers_decline_reason("[true]").is_err());
        assert!(capabilities_message("[true]", "N").is_err());
        assert!(capabilities_message("{\"decline_reason\": tru}", "N").is_err());
    }

    #[test]
    fn signatures_are_padded_upper_case_base32() {
        let sig: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        let text = signature_to_base32(&sig);
        assert_eq!(text.len(), 824);
        assert!(text.ends_with("===="));
        assert_eq!(signature_from_base32(&text).unwrap(), sig);
        // The server refuses lower case and missing padding; so does the core.
        assert_eq!(signature_from_base32(&text.to_lowercase()), Err(Error::InvalidBase32));
        assert_eq!(signature_from_base32(text.trim_end_matches('=')), Err(Error::InvalidBase32));
        assert_eq!(signature_from_base32(""), Err(Error::InvalidBase32));
        assert_eq!(
            signature_from_base32(&"A".repeat(2000)),
            Err(Error::TooLong { max: MAX_SIGNATURE_LEN })
        );
        // RFC 4648 §10's test vectors, upper case.
        for (data, text) in [
            (&b"f"[..], "MY======"),
            (b"fo", "MZXQ===="),
            (b"foo", "MZXW6==="),
            (b"foob", "MZXW6YQ="),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(signature_to_base32(data), text);
            assert_eq!(signature_from_base32(text).unwrap(), data);
        }
        // Padding of a length RFC 4648 never writes, or non-zero left-over bits.
        for bad in ["MY=", "M=======", "MZ======", "MZXW6YT=", "MY======MY======A", "MY==  =="] {
            assert_eq!(signature_from_base32(bad), Err(Error::InvalidBase32), "{bad}");
        }
    }
}
