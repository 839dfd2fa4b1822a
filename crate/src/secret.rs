//! Shared secrets: zeroized on drop, never printed.

use core::fmt;

use base32ct::{Base32UpperUnpadded, Encoding};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The largest secret the core accepts, in bytes. RFC 4226 asks for at least 16; real keys are
/// 10 to 64 bytes. The bound keeps hostile input (a huge QR code) from costing memory.
pub const MAX_SECRET_LEN: usize = 1024;

/// A shared OTP secret (the key K of RFC 4226 §5.1).
///
/// Its bytes are wiped from memory when it is dropped, its `Debug` output is only the type name,
/// and equality is decided in constant time.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw key bytes. Fails on an empty key or one longer than [`MAX_SECRET_LEN`].
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes.into());
        if bytes.is_empty() {
            return Err(Error::EmptySecret);
        }
        if bytes.len() > MAX_SECRET_LEN {
            return Err(Error::TooLong { max: MAX_SECRET_LEN });
        }
        Ok(Self(bytes))
    }

    /// Wraps key material the core derived itself (HKDF outputs, unmasked PIN keys) or a page
    /// binding used as a key (protocol §5). Their lengths are protocol constants from 16 to 64
    /// bytes, so the checks of
    /// [`from_bytes`](Self::from_bytes) cannot fail and callers need no error path.
    pub(crate) fn from_derived(bytes: Zeroizing<Vec<u8>>) -> Self {
        debug_assert!(!bytes.is_empty() && bytes.len() <= MAX_SECRET_LEN);
        Self(bytes)
    }

    /// Decodes a base32 secret (RFC 4648 §6) the way people and QR codes actually write it:
    /// any case, with or without `=` padding, with spaces or dashes between groups, and with
    /// non-zero unused trailing bits.
    pub fn from_base32(text: &str) -> Result<Self> {
        // Base32 grows data by 8/5; anything longer cannot fit MAX_SECRET_LEN.
        if text.len() > MAX_SECRET_LEN * 2 {
            return Err(Error::TooLong { max: MAX_SECRET_LEN });
        }
        // Sized once: a buffer that grew would leave copies of the secret behind in freed
        // memory, which `Zeroizing` cannot wipe (and growing costs three reallocations).
        let mut cleaned: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(text.len()));
        cleaned.extend(
            text.bytes()
                .filter(|b| !matches!(b, b' ' | b'-' | b'\t' | b'\n' | b'\r' | b'='))
                .map(|b| b.to_ascii_uppercase()),
        );
        if cleaned.is_empty() {
            return Err(Error::EmptySecret);
        }
        // Decoding runs in constant time and ignores the unused bits after the last whole byte:
        // generators that pick random base32 characters often set them.
        let text = core::str::from_utf8(&cleaned).map_err(|_| Error::InvalidBase32)?;
        let bytes = Base32UpperUnpadded::decode_vec(text).map_err(|_| Error::InvalidBase32)?;
        Self::from_bytes(bytes)
    }

    /// The secret as unpadded upper-case base32, as the Key URI format recommends.
    #[must_use]
    pub fn to_base32(&self) -> String {
        Base32UpperUnpadded::encode_string(&self.0)
    }

    /// The raw key bytes. Keep the borrow short and never log it.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The key length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `Secret` is never empty. Present for API symmetry with `len`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret(..)");
        assert!(!shown.contains("123"));
    }

    #[test]
    fn base32_is_tolerant_of_real_world_spelling() {
        let canonical = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        for sloppy in [
            "jbswy3dpehpk3pxp",    // lower case
            "JBSW Y3DP EHPK 3PXP", // grouped with spaces
            "jbsw-y3dp-ehpk-3pxp", // grouped with dashes
            "JBSWY3DPEHPK3PXP====",
        ] {
            assert_eq!(Secret::from_base32(sloppy).unwrap(), canonical, "{sloppy}");
        }
        // 26 characters leave 2 unused bits; generators often set them.
        assert_eq!(Secret::from_base32("AAAAAAAAAAAAAAAAAAAAAAAAAB").unwrap().len(), 16);
    }

    #[test]
    fn base32_rejects_what_cannot_be_a_secret() {
        assert_eq!(Secret::from_base32(""), Err(Error::EmptySecret));
        assert_eq!(Secret::from_base32(" = "), Err(Error::EmptySecret));
        assert_eq!(Secret::from_base32("JBSW1"), Err(Error::InvalidBase32));
        assert_eq!(Secret::from_base32("A"), Err(Error::InvalidBase32));
        assert_eq!(Secret::from_base32("ÄÖÜ"), Err(Error::InvalidBase32));
        let huge = "A".repeat(MAX_SECRET_LEN * 2 + 8);
        assert_eq!(Secret::from_base32(&huge), Err(Error::TooLong { max: MAX_SECRET_LEN }));
    }

    #[test]
    fn base32_round_trips() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(s.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(Secret::from_base32(&s.to_base32()).unwrap(), s);
    }
}
