//! What every message shares: base64url fields in JSON and the field rules of the protocol's
//! conventions (version, token ids, text, passcodes, times).

use base64ct::{Base64UrlUnpadded, Encoding};

use super::{
    CLOCK_SKEW, CLOCK_WINDOW, MAX_TEXT_LEN, MAX_TOKEN_ID_LEN, NUMBER_MAX, NUMBER_MIN, VERSION,
};
use crate::error::{Error, Result};
use crate::hotp::{MAX_DIGITS, MIN_DIGITS};
use crate::text::reads_as_is;

/// Refuses any version but 1 (protocol §2: every MAC input starts with `pushotp/1`).
pub(crate) fn check_version(v: u32) -> Result<()> {
    if v == VERSION { Ok(()) } else { Err(Error::UnsupportedVersion) }
}

/// Token ids go into URLs, links and logs unescaped, so they are kept to a safe alphabet.
pub(crate) fn check_token_id(token_id: &str) -> Result<()> {
    let ok = !token_id.is_empty()
        && token_id.len() <= MAX_TOKEN_ID_LEN
        && token_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidMessage("tokenId must be 1 to 64 of A-Z a-z 0-9 _ -"))
    }
}

/// Text that people read: bounded, since devices show and store it, and free of control and
/// format characters (Cc, Cf), which only serve to make the screen show something else than
/// what is there.
pub(crate) fn check_text(text: &str, rule: &'static str) -> Result<()> {
    if text.len() <= MAX_TEXT_LEN && reads_as_is(text) {
        Ok(())
    } else {
        Err(Error::InvalidMessage(rule))
    }
}

/// A passcode as HOTP and TOTP make it (RFC 4226 §5.3): 6 to 10 ASCII digits.
pub(crate) fn check_passcode(passcode: &str) -> Result<()> {
    let digits = usize::from(MIN_DIGITS)..=usize::from(MAX_DIGITS);
    if digits.contains(&passcode.len()) && passcode.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::InvalidMessage("passcode must be 6 to 10 digits"))
    }
}

/// A number-matching number (protocol §4): 10 to 99, two digits on every screen.
pub(crate) fn check_number(number: u8) -> Result<()> {
    if (NUMBER_MIN..=NUMBER_MAX).contains(&number) {
        Ok(())
    } else {
        Err(Error::InvalidMessage("numbers must be 10 to 99"))
    }
}

/// Protocol §7: a timestamp `at` must be within [`CLOCK_WINDOW`] seconds of `now`, so that a
/// captured message stops working soon.
pub(crate) fn check_fresh(at: u64, now: u64) -> Result<()> {
    if at.saturating_add(CLOCK_WINDOW) < now {
        Err(Error::Expired)
    } else if at > now.saturating_add(CLOCK_WINDOW) {
        Err(Error::NotYetValid)
    } else {
        Ok(())
    }
}

/// Protocol §4: valid while `now < expires_at`; a creation time up to [`CLOCK_SKEW`] seconds
/// ahead of the device's clock is the server's clock running fast, not a forgery.
pub(crate) fn check_window(created_at: u64, expires_at: u64, now: u64) -> Result<()> {
    if created_at > now.saturating_add(CLOCK_SKEW) {
        return Err(Error::NotYetValid);
    }
    if now >= expires_at {
        return Err(Error::Expired);
    }
    Ok(())
}

/// The unpadded base64url (RFC 4648 §5) length of `n` bytes.
const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Decodes unpadded base64url into exactly `N` bytes; `None` for anything else (padding,
/// another alphabet, non-canonical trailing bits, another length).
pub(crate) fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Checked first so that a huge string costs nothing.
    if text.len() != encoded_len(N) {
        return None;
    }
    let mut out = [0u8; N];
    let decoded = Base64UrlUnpadded::decode(text, &mut out).ok()?.len();
    (decoded == N).then_some(out)
}

/// Serde for `[u8; N]` as unpadded base64url text of exactly `N` bytes.
pub(crate) mod b64 {
    use core::fmt;

    use base64ct::{Base64UrlUnpadded, Encoding};
    use serde::{Deserializer, Serializer, de};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&Base64UrlUnpadded::encode_string(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        deserializer.deserialize_str(Fixed::<N>)
    }

    pub(super) struct Fixed<const N: usize>;

    impl<const N: usize> de::Visitor<'_> for Fixed<N> {
        type Value = [u8; N];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{N} bytes as unpadded base64url")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<[u8; N], E> {
            // Not the text itself in the error: it may be huge.
            super::decode_fixed(text)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Other("other text"), &self))
        }
    }
}

/// Serde for `Option<[u8; N]>`: `null` (or a missing field, with `#[serde(default)]`) or
/// unpadded base64url text of exactly `N` bytes.
pub(crate) mod b64_opt {
    use core::fmt;

    use serde::{Deserializer, Serializer, de};

    use super::b64::Fixed;

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &Option<[u8; N]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::b64::serialize(bytes, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        deserializer.deserialize_option(Optional::<N>)
    }

    struct Optional<const N: usize>;

    impl<'de, const N: usize> de::Visitor<'de> for Optional<N> {
        type Value = Option<[u8; N]>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "null or {N} bytes as unpadded base64url")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Fixed::<N>).map(Some)
        }
    }
}

/// Serde for a variable-length byte string of at most `MAX` bytes as unpadded base64url.
pub(crate) mod b64_vec {
    use core::fmt;

    use base64ct::{Base64UrlUnpadded, Encoding};
    use serde::{Deserializer, Serializer, de};

    use super::encoded_len;

    /// The longest value accepted: masked PIN keys are at most 64 + 32 bytes.
    pub(crate) const MAX: usize = 96;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&Base64UrlUnpadded::encode_string(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_str(Bounded)
    }

    struct Bounded;

    impl de::Visitor<'_> for Bounded {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "at most {MAX} bytes as unpadded base64url")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
            let bad = || E::invalid_value(de::Unexpected::Other("other text"), &Bounded);
            if text.len() > encoded_len(MAX) {
                return Err(bad());
            }
            Base64UrlUnpadded::decode_vec(text).map_err(|_| bad())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode_fixed::<3>("AQID"), Some([1, 2, 3]));
        assert_eq!(decode_fixed::<2>("AQI"), Some([1, 2]));
        assert_eq!(decode_fixed::<2>("__8"), Some([0xff, 0xff]));
        for bad in ["", "AQ", "AQID", "AQI=", "+/8", "//8", "__9", "AQJ", "A D"] {
            assert_eq!(decode_fixed::<2>(bad), None, "{bad}");
        }
        assert_eq!(encoded_len(16), 22);
        assert_eq!(encoded_len(32), 43);
    }

    #[test]
    fn field_rules() {
        assert!(check_version(2).is_ok());
        assert_eq!(check_version(0), Err(Error::UnsupportedVersion));
        assert_eq!(check_version(1), Err(Error::UnsupportedVersion));
        assert_eq!(check_version(3), Err(Error::UnsupportedVersion));
        assert!(check_token_id("tok_AZaz09-").is_ok());
        for bad in ["", "tok 1", "tok/1", "tök", &"t".repeat(65)] {
            assert!(matches!(check_token_id(bad), Err(Error::InvalidMessage(_))), "{bad}");
        }
        assert!(check_text(&"é".repeat(128), "r").is_ok());
        assert_eq!(check_text(&"a".repeat(257), "r"), Err(Error::InvalidMessage("r")));
        assert_eq!(check_text("a\nb", "r"), Err(Error::InvalidMessage("r")));
        // Each hidden character on its own, so that no other one refuses the text for it: a
        // bidi override, isolate, zero-width space, soft hyphen, BOM, tag (Cf) and a C1 control.
        for hidden in
            ['\u{202e}', '\u{2066}', '\u{200b}', '\u{00ad}', '\u{feff}', '\u{e0041}', '\u{85}']
        {
            let text = format!("moc.{hidden}knab");
            assert_eq!(check_text(&text, "r"), Err(Error::InvalidMessage("r")), "{hidden:?}");
        }
        for ok in ["123456", "0123456789"] {
            assert!(check_passcode(ok).is_ok(), "{ok}");
        }
        for bad in ["12345", "12345678901", "12345a", "١٢٣٤٥٦", ""] {
            assert!(check_passcode(bad).is_err(), "{bad}");
        }
        assert!(check_number(10).is_ok() && check_number(99).is_ok());
        assert!(check_number(9).is_err() && check_number(100).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(check_fresh(1000, 1060), Ok(()));
        assert_eq!(check_fresh(1000, 1061), Err(Error::Expired));
        assert_eq!(check_fresh(1060, 1000), Ok(()));
        assert_eq!(check_fresh(1061, 1000), Err(Error::NotYetValid));
        assert_eq!(check_fresh(u64::MAX, u64::MAX), Ok(()));
        assert_eq!(check_window(1000, 1120, 1000), Ok(()));
        assert_eq!(check_window(1000, 1120, 1119), Ok(()));
        assert_eq!(check_window(1000, 1120, 1120), Err(Error::Expired));
        assert_eq!(check_window(1000, 1120, 970), Ok(()));
        assert_eq!(check_window(1000, 1120, 969), Err(Error::NotYetValid));
    }
}
