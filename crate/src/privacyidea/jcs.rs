//! RFC 8785 JSON Canonicalization Scheme, for the small JSON texts privacyIDEA signs.
//!
//! Objects get their members sorted by the UTF-16 code units of their names, whitespace goes,
//! strings are written with only the escapes RFC 8785 §3.2.2.2 keeps. Numbers are limited to
//! integers of at most 2^53 in magnitude, written in plain decimal (which is what ECMAScript's
//! `Number.prototype.toString` gives for them, RFC 8785 §3.2.2.3); a fraction or an exponent
//! is refused rather than risk a different serialisation than the signer's. privacyIDEA's
//! capabilities hold only booleans.

use std::string::String;
use std::vec::Vec;

use crate::{Error, Result};

/// The longest JSON text accepted, in bytes.
pub const MAX_JSON_LEN: usize = 4096;
/// The deepest nesting accepted.
const MAX_DEPTH: u8 = 16;
/// 2^53: larger integers are not exact in the signer's (ECMAScript or Python float) numbers.
const MAX_INTEGER: u64 = 1 << 53;

fn invalid() -> Error {
    Error::InvalidMessage("not JSON the canonical form covers")
}

/// The RFC 8785 canonical form of a JSON text.
///
/// # Errors
/// [`Error::TooLong`] over 4096 bytes; [`Error::InvalidMessage`] for text that is not JSON,
/// has trailing data, duplicate member names, lone surrogates, nesting deeper than 16, or a
/// number that is not an integer of at most 2^53 in magnitude.
pub fn canonical_json(text: &str) -> Result<String> {
    if text.len() > MAX_JSON_LEN {
        return Err(Error::TooLong { max: MAX_JSON_LEN });
    }
    let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
    let mut out = String::with_capacity(text.len());
    parser.value(&mut out, 0)?;
    parser.skip_space();
    if parser.at != parser.bytes.len() {
        return Err(invalid());
    }
    Ok(out)
}

/// The members of a JSON object text, each value in its canonical form, in RFC 8785's order:
/// what a reader of the object (`JSON.parse`) sees at its top level.
///
/// # Errors
/// As [`canonical_json`], and [`Error::InvalidMessage`] when the text is no object.
pub(super) fn object_members(text: &str) -> Result<Vec<(String, String)>> {
    if text.len() > MAX_JSON_LEN {
        return Err(Error::TooLong { max: MAX_JSON_LEN });
    }
    let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
    parser.skip_space();
    if parser.peek() != Some(b'{') {
        return Err(invalid());
    }
    let members = parser.members(0)?;
    parser.skip_space();
    if parser.at != parser.bytes.len() {
        return Err(invalid());
    }
    Ok(members)
}

/// Writes `text` as an RFC 8785 JSON string: only `"`, `\` and control characters are escaped.
pub(super) fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let n = u32::from(c);
                out.push_str("\\u00");
                out.extend(char::from_digit(n >> 4, 16));
                out.extend(char::from_digit(n & 15, 16));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `a` sorts before `b` by UTF-16 code units.
fn utf16_less(a: &str, b: &str) -> bool {
    a.encode_utf16().lt(b.encode_utf16())
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Result<u8> {
        let b = self.peek().ok_or_else(invalid)?;
        self.at += 1;
        Ok(b)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, word: &[u8]) -> Result<()> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end) != Some(word) {
            return Err(invalid());
        }
        self.at = end;
        Ok(())
    }

    fn value(&mut self, out: &mut String, depth: u8) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid());
        }
        self.skip_space();
        match self.peek().ok_or_else(invalid)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => {
                let text = self.string()?;
                write_string(out, &text);
                Ok(())
            }
            b't' => self.expect(b"true").map(|()| out.push_str("true")),
            b'f' => self.expect(b"false").map(|()| out.push_str("false")),
            b'n' => self.expect(b"null").map(|()| out.push_str("null")),
            _ => self.number(out),
        }
    }

    /// An object's members, each value canonical, sorted and checked for repeated names.
    fn members(&mut self, depth: u8) -> Result<Vec<(String, String)>> {
        self.at += 1;
        let mut members: Vec<(String, String)> = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.skip_space();
                if self.peek() != Some(b'"') {
                    return Err(invalid());
                }
                let name = self.string()?;
                self.skip_space();
                self.expect(b":")?;
                let mut value = String::new();
                self.value(&mut value, depth + 1)?;
                members.push((name, value));
                self.skip_space();
                match self.next()? {
                    b',' => {}
                    b'}' => break,
                    _ => return Err(invalid()),
                }
            }
        }
        // RFC 8785 §3.2.3: sorted by the names' UTF-16 code units. Insertion sort: objects
        // here have a handful of members, and the standard library's sort is 3 KB of WebAssembly.
        for i in 1..members.len() {
            let mut j = i;
            while j > 0 {
                let (Some((a, _)), Some((b, _))) = (members.get(j), members.get(j - 1)) else {
                    break;
                };
                if !utf16_less(a, b) {
                    break;
                }
                members.swap(j, j - 1);
                j -= 1;
            }
        }
        if members.windows(2).any(|pair| matches!(pair, [(a, _), (b, _)] if a == b)) {
            return Err(invalid());
        }
        Ok(members)
    }

    fn object(&mut self, out: &mut String, depth: u8) -> Result<()> {
        let members = self.members(depth)?;
        out.push('{');
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(out, name);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        Ok(())
    }

    fn array(&mut self, out: &mut String, depth: u8) -> Result<()> {
        self.at += 1;
        out.push('[');
        self.skip_space();
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            let mut first = true;
            loop {
                if !first {
                    out.push(',');
                }
                first = false;
                self.value(out, depth + 1)?;
                self.skip_space();
                match self.next()? {
                    b',' => {}
                    b']' => break,
                    _ => return Err(invalid()),
                }
            }
        }
        out.push(']');
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16).ok_or_else(invalid)?;
            n = n * 16 + digit;
        }
        Ok(n)
    }

    /// A JSON string, unescaped (the opening quote is at `at`).
    fn string(&mut self) -> Result<String> {
        self.at += 1;
        let mut text = Vec::new();
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' => {
                    let c = match self.next()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                self.expect(b"\\u")?;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(invalid());
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            char::from_u32(code).ok_or_else(invalid)?
                        }
                        _ => return Err(invalid()),
                    };
                    let mut buf = [0; 4];
                    text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b if b < 0x20 => return Err(invalid()),
                b => text.push(b),
            }
        }
        // The input is a &str and escapes add whole characters, so this is UTF-8.
        String::from_utf8(text).map_err(|_| invalid())
    }

    fn number(&mut self, out: &mut String) -> Result<()> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let digits = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let text = self.bytes.get(digits..self.at).ok_or_else(invalid)?;
        let leading_zero = text.len() > 1 && text.first() == Some(&b'0');
        if text.is_empty() || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(invalid());
        }
        let mut n: u64 = 0;
        for &d in text {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or_else(invalid)?;
        }
        if n > MAX_INTEGER {
            return Err(invalid());
        }
        // "-0" is 0 in ECMAScript's serialisation.
        let raw = self.bytes.get(start..self.at).ok_or_else(invalid)?;
        let written =
            if n == 0 { "0" } else { core::str::from_utf8(raw).map_err(|_| invalid())? };
        out.push_str(written);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonical_json(text).unwrap()
    }

    #[test]
    fn sorts_members_and_drops_whitespace() {
        assert_eq!(canon("{\"decline_reason\": true}"), "{\"decline_reason\":true}");
        assert_eq!(
            canon(" { \"b\" : [ 1 , { \"z\":null, \"a\":false } ], \"a\" : \"x\" } "),
            "{\"a\":\"x\",\"b\":[1,{\"a\":false,\"z\":null}]}"
        );
        assert_eq!(canon("[]"), "[]");
        assert_eq!(canon("{}"), "{}");
        assert_eq!(canon("-0"), "0");
        assert_eq!(canon("-12"), "-12");
    }

    #[test]
    fn sorts_names_by_utf16_code_units() {
        // RFC 8785 §3.2.3's example: U+1F600 (surrogates D83D DE00) sorts before U+FB33,
        // although its code point is larger.
        let text = "{\"\u{fb33}\":1,\"\u{1f600}\":2,\"\\r\":3,\"1\":4,\"\u{80}\":5,\"\u{f6}\":6}";
        assert_eq!(
            canon(text),
            "{\"\\r\":3,\"1\":4,\"\u{80}\":5,\"\u{f6}\":6,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn writes_strings_with_the_minimal_escapes() {
        assert_eq!(
            canon("\"\\u20ac\\/\\u001f\\n\\\"\\\\\\ud83d\\ude00\""),
            "\"€/\\u001f\\n\\\"\\\\\u{1f600}\""
        );
        assert_eq!(canon("\"\u{7f}é\""), "\"\u{7f}é\"");
    }

    #[test]
    fn refuses_what_it_cannot_canonicalise_exactly() {
        for bad in [
            "",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\":1}x",
            "{\"a\":1,\"a\":2}",
            "1.5",
            "1e3",
            "01",
            "9007199254740993",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "tru",
            "'a'",
            "{a:1}",
        ] {
            assert!(canonical_json(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(canonical_json(&deep).is_err());
        assert_eq!(canonical_json(&" ".repeat(5000)), Err(Error::TooLong { max: MAX_JSON_LEN }));
    }
}
