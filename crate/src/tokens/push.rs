//! The shape check of an enrolled push token before the extension stores it.

use crate::error::{Error, Result};
use crate::text::is_secure_server;
use crate::value::{Value, is_js_space};

/// Checks the shape of a push token the extension is asked to keep: what the options page made
/// of an enrollment (`completeEnrollment`, protocol §3) and, when the server asks for a PIN,
/// of PIN masking (protocol §6). The core made its keys; this makes sure the object carries
/// what the service worker needs to use them:
///
/// - `tokenId` is text;
/// - `server` is an `https://` address (`http://` only to this computer, as
///   [`is_secure_server`] says) with a host and no query or fragment;
/// - `keys.request` and `keys.channel` are 32-byte keys (43 characters of unpadded base64url);
/// - with a PIN (`pin.required`), `masked` is an object and `keys.otp` and `keys.answer` are
///   absent (held only masked); without one, `keys.answer` is a 32-byte key.
///
/// Other properties are kept by the caller as they are.
///
/// # Errors
/// [`Error::InvalidToken`] (`invalid_token`) naming the first rule broken.
pub fn check_push_token(token: &Value) -> Result<()> {
    if token.get("tokenId").as_str().is_none() {
        return Err(Error::InvalidToken("tokenId must be text"));
    }
    let server = token.get("server").as_str().filter(|server| is_server(server));
    let Some(server) = server else {
        return Err(Error::InvalidToken("server must be an http(s) address"));
    };
    // As at enrollment: a token imported with a plain http:// server elsewhere would talk to it
    // where anyone on the way can read and change what is said.
    if !is_secure_server(server) {
        return Err(Error::InvalidToken("server must use https (http only to this computer)"));
    }
    let keys = token.get("keys");
    if !is_key(keys.get("request")) || !is_key(keys.get("channel")) {
        return Err(Error::InvalidToken("keys.request and keys.channel must be 32-byte keys"));
    }
    if token.get("pin").get("required").is_truthy() {
        // The PIN-protected keys exist only masked.
        if !token.get("masked").is_object()
            || keys.get("otp").is_truthy()
            || keys.get("answer").is_truthy()
        {
            return Err(Error::InvalidToken("a PIN token keeps keys.otp and keys.answer masked"));
        }
    } else if !is_key(keys.get("answer")) {
        return Err(Error::InvalidToken("keys.answer must be a 32-byte key"));
    }
    Ok(())
}

/// A 32-byte key as unpadded base64url: 43 characters of `A-Z a-z 0-9 - _`.
fn is_key(value: &Value) -> bool {
    value.as_str().is_some_and(|key| {
        key.len() == 43 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// `http://` or `https://`, a host part of anything but `/ ? #` and white space, then an
/// optional path without `? #` or white space: where the server's API is, with nothing after
/// it that the extension's own paths would collide with.
fn is_server(server: &str) -> bool {
    let Some(rest) = server.strip_prefix("https://").or_else(|| server.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    !host.is_empty()
        && !host.chars().any(|c| matches!(c, '?' | '#') || is_js_space(c))
        && !path.chars().any(|c| matches!(c, '?' | '#') || is_js_space(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    fn object(fields: &[(&str, Value)]) -> Value {
        Value::Object(fields.iter().map(|(k, v)| ((*k).into(), v.clone())).collect())
    }

    fn token(server: &str, keys: Value, pin: Option<bool>, masked: Option<Value>) -> Value {
        let mut fields = vec![
            ("tokenId", text("tok_1")),
            ("tokenName", text("Work")),
            ("server", text(server)),
            ("keys", keys),
        ];
        if let Some(required) = pin {
            fields.push(("pin", object(&[("required", Value::Bool(required))])));
        }
        if let Some(masked) = masked {
            fields.push(("masked", masked));
        }
        object(&fields)
    }

    fn all_keys() -> Value {
        object(&[
            ("otp", text(KEY)),
            ("request", text(KEY)),
            ("answer", text(KEY)),
            ("channel", text(KEY)),
        ])
    }

    fn pin_keys() -> Value {
        object(&[("request", text(KEY)), ("channel", text(KEY))])
    }

    fn code(token: &Value) -> &'static str {
        check_push_token(token).expect_err("expected an error").code()
    }

    #[test]
    fn enrolled_tokens_pass() {
        for server in [
            "https://push.example.net",
            "http://127.0.0.1:8080",
            "https://a.example/pushotp/",
            "https://ex:ample@a",
        ] {
            assert_eq!(
                check_push_token(&token(server, all_keys(), Some(false), None)),
                Ok(()),
                "{server}"
            );
        }
        assert_eq!(check_push_token(&token("https://a", all_keys(), None, None)), Ok(()));
        let masked = object(&[("salt", text("x"))]);
        assert_eq!(
            check_push_token(&token("https://a", pin_keys(), Some(true), Some(masked))),
            Ok(())
        );
        // As before: any object (even `null`) passes for `masked`, and empty key fields are
        // absent ones; the unmasking checks the rest.
        let empty = object(&[
            ("request", text(KEY)),
            ("channel", text(KEY)),
            ("otp", text("")),
            ("answer", Value::Null),
        ]);
        assert_eq!(
            check_push_token(&token("https://a", empty, Some(true), Some(Value::Null))),
            Ok(())
        );
    }

    #[test]
    fn plain_http_only_for_this_computer() {
        for ok in ["http://localhost:8080", "http://[::1]/pushotp", "http://127.0.0.2"] {
            assert_eq!(check_push_token(&token(ok, all_keys(), None, None)), Ok(()), "{ok}");
        }
        for bad in ["http://push.example.net", "http://10.0.0.1:8080", "http://127.0.0.1.nip.io"] {
            assert_eq!(
                check_push_token(&token(bad, all_keys(), None, None)),
                Err(Error::InvalidToken("server must use https (http only to this computer)")),
                "{bad}"
            );
        }
    }

    #[test]
    fn incomplete_tokens_are_refused() {
        let short = &KEY[1..];
        let bad = [
            Value::Null,
            text("tok_1"),
            object(&[
                ("tokenId", Value::Number(1.0)),
                ("server", text("https://a")),
                ("keys", all_keys()),
            ]),
            token("", all_keys(), None, None),
            token("ftp://a", all_keys(), None, None),
            token("https://", all_keys(), None, None),
            token("https:///path", all_keys(), None, None),
            token("https://a/?x", all_keys(), None, None),
            token("https://a#x", all_keys(), None, None),
            token("https://a b", all_keys(), None, None),
            token("https://a/\u{3000}", all_keys(), None, None),
            token("HTTPS://a", all_keys(), None, None),
            token(
                "https://a",
                object(&[("request", text(KEY)), ("answer", text(KEY))]),
                None,
                None,
            ),
            token(
                "https://a",
                object(&[("request", text(short)), ("channel", text(KEY)), ("answer", text(KEY))]),
                None,
                None,
            ),
            token(
                "https://a",
                object(&[
                    ("request", text(KEY)),
                    ("channel", text(&format!("{short}+"))),
                    ("answer", text(KEY)),
                ]),
                None,
                None,
            ),
            token("https://a", pin_keys(), Some(false), None),
            token("https://a", pin_keys(), Some(true), None),
            token("https://a", pin_keys(), Some(true), Some(text("masked"))),
            token("https://a", all_keys(), Some(true), Some(object(&[]))),
            token(
                "https://a",
                object(&[("request", text(KEY)), ("channel", text(KEY)), ("answer", text(KEY))]),
                Some(true),
                Some(object(&[])),
            ),
        ];
        for token in bad {
            assert_eq!(code(&token), "invalid_token", "{token:?}");
        }
        // `pin.required` counts as JavaScript counts it: any truthy value asks for the masking.
        let truthy_pin = object(&[
            ("tokenId", text("tok_1")),
            ("server", text("https://a")),
            ("keys", all_keys()),
            ("pin", object(&[("required", text("yes"))])),
            ("masked", object(&[])),
        ]);
        assert_eq!(code(&truthy_pin), "invalid_token");
    }
}
