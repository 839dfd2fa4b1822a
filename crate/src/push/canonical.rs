//! Canonical bytes and their MACs (protocol §2).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{PROTOCOL_LABEL, Tag};
use crate::secret::Secret;

/// The canonical bytes of one MAC input (protocol §2): `frame("pushotp/1") || frame(purpose)`
/// followed by the message's fields, each framed as `u32be(len) || bytes`.
///
/// Framing every field, integers included, makes the encoding injective: no two different
/// field lists give the same bytes, so a tag cannot be moved from one message, or one purpose,
/// to another. The bytes are wiped on drop because some inputs hold a passcode.
///
/// ```
/// use pushotp::push::Canonical;
/// let input = Canonical::new("poll").str("tok_1").u64(1_764_000_000);
/// assert_eq!(&input.as_bytes()[..13], b"\0\0\0\x09pushotp/1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Canonical(Zeroizing<Vec<u8>>);

impl Canonical {
    /// Starts the input of a MAC for `purpose` (such as `"push-request"`) with the label
    /// `pushotp/1`: the framing of version 1, which version 2 keeps, so that keys enrolled
    /// under version 1 stay valid.
    #[must_use]
    #[inline(never)]
    pub fn new(purpose: &str) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(128))).frame(PROTOCOL_LABEL).str(purpose)
    }

    /// Appends `u32be(len(bytes)) || bytes` (§2 `frame`).
    ///
    /// Never inlined (nor `new` and `verify`): at the worker module's opt-level 3 each message's
    /// chain of fields got its own copy of the copying and growing, kilobytes of the module per
    /// message type, while a call per field costs nothing next to the HMAC that follows.
    #[inline(never)]
    fn frame(mut self, bytes: &[u8]) -> Self {
        // Every field is bounded far below 4 GiB by the message checks, so the length fits;
        // saturating keeps this total without a panic path.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends a text field: `frame(UTF-8 bytes)` (§2 `str`).
    #[must_use]
    pub fn str(self, text: &str) -> Self {
        self.frame(text.as_bytes())
    }

    /// Appends an unsigned integer: `frame(u64be(n))` (§2 `u64`).
    #[must_use]
    pub fn u64(self, n: u64) -> Self {
        self.frame(&n.to_be_bytes())
    }

    /// Appends a signed integer: `frame(i64be(n))`, two's complement (§2 `i64`).
    #[must_use]
    pub fn i64(self, n: i64) -> Self {
        self.frame(&n.to_be_bytes())
    }

    /// Appends a binary field as its raw bytes, not its base64 text (§2 `bytes`).
    #[must_use]
    pub fn bytes(self, bytes: &[u8]) -> Self {
        self.frame(bytes)
    }

    /// Appends an optional group of fields (§2 `opt`): `frame(0x00)` when `value` is `None`,
    /// else `frame(0x01 || fields)` where `fields` appends the frames of the value.
    ///
    /// ```
    /// use pushotp::push::Canonical;
    /// let some = Canonical::new("x").opt(Some(37u64), |c, n| c.u64(n));
    /// let none = Canonical::new("x").opt(None::<u64>, |c, n| c.u64(n));
    /// assert!(some.as_bytes().ends_with(&[0, 0, 0, 13, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 37]));
    /// assert!(none.as_bytes().ends_with(&[0, 0, 0, 1, 0]));
    /// ```
    #[must_use]
    pub fn opt<T>(self, value: Option<T>, fields: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            None => self.frame(&[0x00]),
            Some(value) => {
                let mut inner = Self(Zeroizing::new(vec![0x01]));
                inner = fields(inner, value);
                self.frame(&inner.0)
            }
        }
    }

    /// The canonical bytes built so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `HMAC-SHA256(key, bytes)` (RFC 2104, protocol §2).
    #[must_use]
    pub fn mac(&self, key: &Secret) -> Tag {
        hmac_sha256(key.expose(), &self.0)
    }

    /// Whether `tag` is the MAC of these bytes under `key`, compared in constant time (a tag
    /// of the wrong length simply does not verify).
    #[must_use]
    #[inline(never)]
    pub fn verify(&self, key: &Secret, tag: &[u8]) -> bool {
        self.mac(key).as_slice().ct_eq(tag).into()
    }
}

impl core::fmt::Debug for Canonical {
    /// Only the length: the bytes may hold a passcode.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Canonical({} bytes)", self.0.len())
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Tag {
    // HMAC takes keys of any length (RFC 2104 §2), so this never fails.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::from_bytes(vec![0x0b; 32]).unwrap()
    }

    #[test]
    fn every_field_is_framed() {
        let bytes = Canonical::new("p").str("ab").u64(1).i64(-1).bytes(&[9]).as_bytes().to_vec();
        let mut expected = Vec::new();
        for field in
            [&b"pushotp/1"[..], b"p", b"ab", &1u64.to_be_bytes(), &(-1i64).to_be_bytes(), &[9]]
        {
            expected.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            expected.extend_from_slice(field);
        }
        assert_eq!(bytes, expected);
    }

    #[test]
    fn field_boundaries_and_purposes_change_the_tag() {
        let a = Canonical::new("p").str("ab").str("c").mac(&key());
        let b = Canonical::new("p").str("a").str("bc").mac(&key());
        let c = Canonical::new("q").str("ab").str("c").mac(&key());
        assert_ne!(a, b);
        assert_ne!(a, c);
        // Absent differs from present-but-empty.
        let none = Canonical::new("p").opt(None::<&str>, Canonical::str);
        let empty = Canonical::new("p").opt(Some(""), Canonical::str);
        assert_ne!(none.as_bytes(), empty.as_bytes());
    }

    #[test]
    fn verify_is_exact() {
        let input = Canonical::new("p").str("x");
        let tag = input.mac(&key());
        assert!(input.verify(&key(), &tag));
        for i in 0..tag.len() {
            let mut bad = tag;
            bad[i] ^= 0x01;
            assert!(!input.verify(&key(), &bad));
        }
        assert!(!input.verify(&key(), &tag[..31]));
        assert!(!input.verify(&key(), &[]));
        let other = Secret::from_bytes(vec![0x0c; 32]).unwrap();
        assert!(!input.verify(&other, &tag));
        assert_eq!(format!("{input:?}"), format!("Canonical({} bytes)", input.as_bytes().len()));
    }

    #[test]
    fn rfc4231_case_2_hmac_sha256() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            base16ct::lower::encode_string(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
