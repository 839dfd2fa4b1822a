//! The HMAC hash functions and RFC 4226 dynamic truncation, shared by HOTP, TOTP and OCRA.

use core::{fmt, str::FromStr};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The hash function under HMAC (RFC 6238 §1.2 allows SHA-1, SHA-256 and SHA-512).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    /// HMAC-SHA-1, the RFC 4226 default and what most QR codes use.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used by the Key URI format and by OCRA suites: `SHA1`, `SHA256`, `SHA512`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// The HMAC output length in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// HMAC(key, message) followed by dynamic truncation (RFC 4226 §5.3, `DT`): the 31-bit
    /// value `Snum` before it is reduced modulo 10^digits.
    pub(crate) fn truncated_hmac(self, key: &[u8], message: &[u8]) -> u32 {
        KeyedMac::new(self, key).into_truncated(message)
    }

    /// The whole HMAC(key, message), for OCRA suites that ask for no truncation
    /// (RFC 6287 §5.1, `HOTP-H-0`).
    pub(crate) fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        KeyedMac::new(self, key).into_full(message)
    }
}

/// HMAC (RFC 2104) with the key already absorbed: the hash states after the inner and the
/// outer padded key block (RFC 2104 §2, steps 1 to 3 and the start of step 6).
///
/// Keying costs one hash compression per pad, as much as hashing a short message, so a token
/// that makes several codes keeps this and clones it per code: two compressions per SHA-1 or
/// SHA-256 code instead of four. The states are as good as the key; `hmac`, `sha1` and `sha2`
/// are built with `zeroize`, so they are wiped when dropped, clones included.
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl KeyedMac {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(keyed(key)),
            Algorithm::Sha256 => Self::Sha256(keyed(key)),
            Algorithm::Sha512 => Self::Sha512(keyed(key)),
        }
    }

    /// `DT(HMAC(K, message))` (RFC 4226 §5.3) from a copy of the keyed state.
    pub(crate) fn truncated(&self, message: &[u8]) -> u32 {
        self.clone().into_truncated(message)
    }

    /// [`truncated`](Self::truncated) for a state used once: no copy.
    fn into_truncated(self, message: &[u8]) -> u32 {
        match self {
            Self::Sha1(mac) => dynamic_truncation(&finish(mac, message)),
            Self::Sha256(mac) => dynamic_truncation(&finish(mac, message)),
            Self::Sha512(mac) => dynamic_truncation(&finish(mac, message)),
        }
    }

    /// The whole `HMAC(K, message)`.
    fn into_full(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1(mac) => finish(mac, message).to_vec(),
            Self::Sha256(mac) => finish(mac, message).to_vec(),
            Self::Sha512(mac) => finish(mac, message).to_vec(),
        }
    }
}

fn keyed<D: hmac::EagerHash>(key: &[u8]) -> Hmac<D> {
    // HMAC takes keys of any length (RFC 2104 §2), so this never fails.
    <Hmac<D> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn finish<D: hmac::EagerHash>(mut mac: Hmac<D>, message: &[u8]) -> hmac::digest::Output<Hmac<D>> {
    mac.update(message);
    mac.finalize().into_bytes()
}

/// RFC 4226 §5.3: the low 4 bits of the last byte pick an offset; the 31 bits from there are
/// the code before reduction. Every HMAC output is at least 20 bytes and the offset at most 15,
/// so the four bytes are always there.
pub(crate) fn dynamic_truncation(hs: &[u8]) -> u32 {
    let offset = usize::from(hs.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    if let Some(bytes) = hs.get(offset..offset + 4) {
        word.copy_from_slice(bytes);
    }
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// `D = Snum mod 10^Digit` (RFC 4226 §5.3) as a number: the code without its leading zeros.
/// Ten digits keep all 31 bits of `Snum`.
pub(crate) fn reduce(value: u32, digits: u8) -> u32 {
    10u32.checked_pow(u32::from(digits)).map_or(value, |modulus| value % modulus)
}

/// Reduces a truncated value to `digits` decimal digits, left-padded with zeros
/// (RFC 4226 §5.3, `D = Snum mod 10^Digit`).
pub(crate) fn format_code(value: u32, digits: u8) -> String {
    // Written digit by digit rather than with `format!`: codes are made by the million on the
    // server, and the formatting machinery costs more than the arithmetic.
    let mut rest = u64::from(value);
    let mut code = [b'0'; 10];
    let len = usize::from(digits).min(code.len());
    for slot in code.iter_mut().take(len).rev() {
        // `rest % 10` is a single decimal digit.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (rest % 10) as u8;
        *slot = b'0' + digit;
        rest /= 10;
    }
    code.get(..len).map(|d| d.iter().map(|b| char::from(*b)).collect()).unwrap_or_default()
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Accepts `SHA1`, `SHA256`, `SHA512` in any case, with or without a dash (`SHA-256`).
    fn from_str(s: &str) -> Result<Self> {
        let mut name = [0u8; 6];
        let mut len = 0;
        for b in s.bytes().filter(|b| *b != b'-') {
            let slot = name.get_mut(len).ok_or(Error::UnknownAlgorithm)?;
            *slot = b.to_ascii_uppercase();
            len += 1;
        }
        match name.get(..len) {
            Some(b"SHA1") => Ok(Self::Sha1),
            Some(b"SHA256") => Ok(Self::Sha256),
            Some(b"SHA512") => Ok(Self::Sha512),
            _ => Err(Error::UnknownAlgorithm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_section_5_4_truncation_example() {
        // RFC 4226 §5.4: this HMAC-SHA-1 output truncates to 0x50ef7f19 = 1357872921.
        let hs = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19,
            0xda, 0x8e, 0x94, 0x5b, 0x55, 0x5a,
        ];
        assert_eq!(dynamic_truncation(&hs), 0x50ef_7f19);
        assert_eq!(format_code(0x50ef_7f19, 6), "872921");
    }

    #[test]
    fn names_parse_loosely_and_print_canonically() {
        for (text, alg) in [
            ("SHA1", Algorithm::Sha1),
            ("sha256", Algorithm::Sha256),
            ("SHA-512", Algorithm::Sha512),
        ] {
            assert_eq!(text.parse::<Algorithm>().unwrap(), alg);
        }
        assert_eq!(Algorithm::Sha256.to_string(), "SHA256");
        for bad in ["", "MD5", "SHA3", "SHA1024", "SHA-1-1-1-1-1-1"] {
            assert_eq!(bad.parse::<Algorithm>(), Err(Error::UnknownAlgorithm), "{bad}");
        }
    }

    #[test]
    fn ten_digit_codes_keep_leading_zeros() {
        assert_eq!(format_code(42, 10), "0000000042");
        assert_eq!(format_code(0x7fff_ffff, 10), "2147483647");
        assert_eq!(reduce(0x7fff_ffff, 10), 2_147_483_647);
        assert_eq!(reduce(0x50ef_7f19, 6), 872_921);
        assert_eq!(reduce(0x50ef_7f19, 8), 57_872_921);
    }
}
