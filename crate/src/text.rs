//! Text that people read: what may be in it, and which servers a device may talk to in the
//! clear. One place for both rules, used by every message and link of the push protocol and of
//! privacyIDEA.

/// One range of code points, packed as `first << 8 | (last - first)` so that the table stays
/// small in the service worker's WebAssembly (every range spans fewer than 256 code points).
const fn span(first: u32, last: u32) -> u32 {
    (first << 8) | (last - first)
}

/// The format characters, Unicode general category Cf (Unicode 16.0,
/// `extracted/DerivedGeneralCategory.txt`); a test checks the table against the
/// `unicode-properties` crate. They are invisible or change how the text around them is laid
/// out: bidi overrides and isolates make `moc.knab` read as `bank.com`, zero-width characters
/// and the soft hyphen hide inside a name, tag characters spell text that is never shown.
const FORMAT: [u32; 21] = [
    span(0x00AD, 0x00AD),   // soft hyphen
    span(0x0600, 0x0605),   // Arabic number signs
    span(0x061C, 0x061C),   // Arabic letter mark
    span(0x06DD, 0x06DD),   // Arabic end of ayah
    span(0x070F, 0x070F),   // Syriac abbreviation mark
    span(0x0890, 0x0891),   // Arabic pound and piastre marks above
    span(0x08E2, 0x08E2),   // Arabic disputed end of ayah
    span(0x180E, 0x180E),   // Mongolian vowel separator
    span(0x200B, 0x200F),   // zero-width space, non-joiner, joiner; LRM, RLM
    span(0x202A, 0x202E),   // bidi embeddings and overrides
    span(0x2060, 0x2064),   // word joiner, invisible operators
    span(0x2066, 0x206F),   // bidi isolates, deprecated format characters
    span(0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    span(0xFFF9, 0xFFFB),   // interlinear annotation
    span(0x110BD, 0x110BD), // Kaithi number sign
    span(0x110CD, 0x110CD), // Kaithi number sign above
    span(0x13430, 0x1343F), // Egyptian hieroglyph format controls
    span(0x1BCA0, 0x1BCA3), // shorthand format controls
    span(0x1D173, 0x1D17A), // musical symbol format controls
    span(0xE0001, 0xE0001), // language tag
    span(0xE0020, 0xE007F), // tag characters
];

/// Whether `c` is a format character (Cf).
fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT.iter().any(|&packed| c.wrapping_sub(packed >> 8) <= packed & 0xFF)
}

/// Whether `text` reads as it is: no control character (Cc: C0, DEL and C1) and no format
/// character (Cf), so that what a screen shows is every character there is, in its order.
// Not inlined: it is called for many fields, and the WebAssembly modules are small.
#[inline(never)]
pub fn reads_as_is(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() || is_format(c))
}

/// Whether `url` (`http://` or `https://`, scheme in any case) may carry enrollment: `https://`
/// always; `http://` only to this computer (`127.0.0.0/8`, `[::1]`, `localhost`), where no one
/// on the network can read or change it. Anything that cannot be shown to be one of those, such
/// as a user name before the host, is not.
pub fn is_secure_server(url: &str) -> bool {
    // Bytes, not `str` patterns: this runs in the service worker, whose WebAssembly is small.
    let url = url.as_bytes();
    let strip = |scheme: &[u8]| {
        let (head, rest) = url.split_at_checked(scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then_some(rest)
    };
    if strip(b"https://").is_some() {
        return true;
    }
    let Some(rest) = strip(b"http://") else { return false };
    // The authority ends where WHATWG URL parsing ends it (`\` counts as `/` for http).
    let authority =
        rest.split(|b| matches!(b, b'/' | b'\\' | b'?' | b'#')).next().unwrap_or_default();
    let (loopback, port) = if let Some(v6) = authority.strip_prefix(b"[") {
        let mut parts = v6.splitn(2, |&b| b == b']');
        let host = parts.next().unwrap_or_default();
        let Some(port) = parts.next() else { return false };
        (host == b"::1", port)
    } else {
        let colon = authority.iter().position(|&b| b == b':').unwrap_or(authority.len());
        let (host, port) = authority.split_at_checked(colon).unwrap_or_default();
        (host.eq_ignore_ascii_case(b"localhost") || is_loopback_v4(host), port)
    };
    // No port, or `:` and 1 to 5 digits.
    let port_ok = match port.split_first() {
        None => true,
        Some((b':', digits)) => {
            (1..=5).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        Some(_) => false,
    };
    loopback && port_ok
}

/// Four dotted decimal octets whose first is 127 (RFC 1122 §3.2.1.3: the loopback network),
/// without leading zeros, which a URL parser reads as octal.
fn is_loopback_v4(host: &[u8]) -> bool {
    let Some(rest) = host.strip_prefix(b"127.") else { return false };
    let mut octets = 0;
    for octet in rest.split(|&b| b == b'.') {
        // The length first: more than three digits would overflow the sum below.
        let canonical =
            (1..=3).contains(&octet.len()) && (octet.len() == 1 || octet.first() != Some(&b'0'));
        if !canonical {
            return false;
        }
        let value = octet
            .iter()
            .try_fold(0u16, |n, &b| b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0')));
        if value.is_none_or(|v| v > 255) {
            return false;
        }
        octets += 1;
    }
    octets == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

    #[test]
    fn the_format_table_is_unicode_cf() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let cf = c.general_category() == GeneralCategory::Format;
            assert_eq!(is_format(c), cf, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn text_reads_as_is() {
        assert!(reads_as_is("Demo Portal · Zürich 東京 🙂"));
        for hidden in
            ["\u{202e}", "\u{2068}", "\u{200d}", "\u{ad}", "\u{feff}", "\u{e007f}", "\u{9f}", "\t"]
        {
            assert!(!reads_as_is(&format!("a{hidden}b")), "{hidden:?}");
        }
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "https://auth.example.com",
            "HTTPS://h",
            "http://127.0.0.1",
            "http://127.1.2.3:8080/a",
            "http://localhost/",
            "http://LOCALHOST:1",
            "http://[::1]",
            "http://[::1]:5001/ttype/push",
        ] {
            assert!(is_secure_server(ok), "{ok}");
        }
        for bad in [
            "http://auth.example.com",
            "ftp://127.0.0.1",
            "http://",
            "http://127.0.0.256",
            "http://127.0.0",
            "http://127.0.0.1.2",
            "http://0127.0.0.1",
            "http://127.0.0.1@evil.example",
            "http://localhost:80@evil.example",
            "http://127.0.0.1:",
            "http://127.0.0.1:123456",
            "http://127.0.0.1:80x",
            "http://[::1]x",
            "http://[::1",
            "http://[0:0:0:0:0:0:0:1]",
            "http://localhost.",
            "http://127.0.0.1%2eevil.example",
            // Found by fuzzing: an octet of many digits overflowed the sum before its length
            // was checked.
            "http://127.0.0.83018",
            "http://127.0.0.99999999999",
        ] {
            assert!(!is_secure_server(bad), "{bad}");
        }
    }
}
