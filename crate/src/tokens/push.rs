//! The shape check of an enrolled push token before the extension stores it.

use super::MAX_SITES;
use super::origin::origin_list;
use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::push::{MAX_LOGIN_ORIGINS, MAX_TRIES_LIMIT, OtpParams, check_text, check_token_id};
use crate::text::is_secure_server;
use crate::value::{Value, is_js_space};

/// Checks the shape of a push token the extension is asked to keep: what the options page made
/// of an enrollment (`completeEnrollment`, protocol §3) and, when the server asks for a PIN,
/// of PIN masking (protocol §6). The core made its keys; this makes sure the object carries
/// what the service worker needs to use them:
///
/// - `tokenId`, `tokenName`, `user`, `issuer` and (when present) `deviceName` are what an
///   enrollment accepts (protocol §3: bounded text without control or format characters);
/// - `otp` is an enrollment's `otp` (protocol §3: HOTP with a counter, or TOTP with a period,
///   of a known hash and 6 to 10 digits; the HOTP or TOTP settings of a version 1 token are
///   ignored), and `pin`, when present, its PIN policy (§6);
/// - `server` is an `https://` address (`http://` only to this computer, as
///   [`is_secure_server`] says) with a host and no query or fragment;
/// - `keys.request` and `keys.channel` are 32-byte keys (43 characters of unpadded base64url);
/// - with a PIN (`pin.required`), `masked` is an object and `keys.otp` and `keys.answer` are
///   absent (held only masked); without one, `keys.otp` and `keys.answer` are 32-byte keys;
/// - `loginOrigins` (the login pages its server declared, protocol §3) and `sites` (those the
///   person confirmed) are left out, `null`, or arrays of web origins, at most 16 and 64.
///
/// Other properties are kept by the caller as they are.
///
/// # Errors
/// [`Error::InvalidToken`] (`invalid_token`) naming the first rule broken.
pub fn check_push_token(token: &Value) -> Result<()> {
    // An export file or a stored token is checked by the rules its enrollment met: what the
    // popup shows and what makes passcodes must be what a server could have sent.
    if token.get("tokenId").as_str().is_none_or(|id| check_token_id(id).is_err()) {
        return Err(Error::InvalidToken("tokenId must be a token id"));
    }
    let names = ["tokenName", "user", "issuer"].map(|name| token.get(name));
    let device = token.get("deviceName");
    let mut texts = names.into_iter().chain((!device.is_nullish()).then_some(device));
    if texts.any(|text| text.as_str().is_none_or(|text| check_text(text, "").is_err())) {
        return Err(Error::InvalidToken(
            "tokenName, user, issuer and deviceName must be at most 256 bytes, no control or format characters",
        ));
    }
    let Some(otp) = otp_params(token.get("otp")) else {
        return Err(Error::InvalidToken("otp must be an enrollment's passcode settings"));
    };
    let pin = token.get("pin");
    if !pin.is_nullish() && !is_pin_policy(pin) {
        return Err(Error::InvalidToken("pin must be {required, maxTries: 1 to 100}"));
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
    } else if !is_key_of(keys.get("otp"), otp.algorithm().output_len())
        || !is_key(keys.get("answer"))
    {
        return Err(Error::InvalidToken(
            "keys.otp must be a key as long as its hash's output, keys.answer a 32-byte key",
        ));
    }
    if origin_list(token.get("loginOrigins"), MAX_LOGIN_ORIGINS).is_none()
        || origin_list(token.get("sites"), MAX_SITES).is_none()
    {
        return Err(Error::InvalidToken("loginOrigins and sites must be lists of web origins"));
    }
    Ok(())
}

/// Whether the passcode of an approved request naming `origin` may be filled there for the
/// stored push `token` ([`crate::push::may_fill`] over its `server`, `loginOrigins` and
/// `sites`; [`check_push_token`] checked both lists before the token was stored).
#[must_use]
pub fn push_token_may_fill(token: &Value, origin: &str) -> bool {
    let listed = |name| match token.get(name) {
        Value::Array(list) => list.as_slice(),
        _ => &[],
    };
    let allowed = listed("loginOrigins").iter().chain(listed("sites")).filter_map(Value::as_str);
    token
        .get("server")
        .as_str()
        .is_some_and(|server| crate::push::may_fill(server, allowed, origin))
}

/// The enrollment's `otp` settings (protocol §3) in the token's `otp`: `{algorithm, digits}`.
/// A token enrolled under version 1 also holds `type` and `counter` or `period`, which
/// version 2 no longer uses (its approval passcodes are bound to the request): they are
/// ignored, so that such tokens and their exports keep working with the keys they have.
fn otp_params(otp: &Value) -> Option<OtpParams> {
    let digits = super::whole(otp.get("digits"), 0.0, crate::value::MAX_SAFE_INTEGER)?;
    let algorithm: Algorithm = otp.get("algorithm").as_str()?.parse().ok()?;
    OtpParams::new(algorithm, u8::try_from(digits).ok()?).ok()
}

/// An enrollment's PIN policy (protocol §6): `{required: boolean, maxTries: 1 to 100}`.
fn is_pin_policy(pin: &Value) -> bool {
    matches!(pin.get("required"), Value::Bool(_))
        && pin
            .get("maxTries")
            .as_integer()
            .is_some_and(|n| (1.0..=f64::from(MAX_TRIES_LIMIT)).contains(&n))
}

/// A 32-byte key as unpadded base64url: 43 characters of `A-Z a-z 0-9 - _`.
fn is_key(value: &Value) -> bool {
    is_key_of(value, 32)
}

/// A key of `len` bytes as unpadded base64url (RFC 4648 §5): `K_otp` is as long as its
/// hash's output (protocol §1), the other keys 32 bytes.
fn is_key_of(value: &Value, len: usize) -> bool {
    value.as_str().is_some_and(|key| {
        key.len() == (len * 4).div_ceil(3)
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
            ("user", text("alice")),
            ("issuer", text("Demo Org")),
            ("server", text(server)),
            ("otp", hotp()),
            ("keys", keys),
        ];
        if let Some(required) = pin {
            let policy = [("required", Value::Bool(required)), ("maxTries", Value::Number(5.0))];
            fields.push(("pin", object(&policy)));
        }
        if let Some(masked) = masked {
            fields.push(("masked", masked));
        }
        object(&fields)
    }

    fn hotp() -> Value {
        object(&[
            ("type", text("hotp")),
            ("algorithm", text("SHA1")),
            ("digits", Value::Number(6.0)),
            ("counter", Value::Number(3.0)),
        ])
    }

    fn all_keys() -> Value {
        object(&[
            ("otp", text(&KEY[..27])),
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

    fn with(token: &Value, name: &str, value: Value) -> Value {
        let Value::Object(mut fields) = token.clone() else { unreachable!() };
        fields.push((name.into(), value));
        Value::Object(fields)
    }

    fn origins(list: &[&str]) -> Value {
        Value::Array(list.iter().map(|o| text(o)).collect())
    }

    #[test]
    fn declared_and_confirmed_origins_are_checked_and_filled() {
        let plain = token("https://auth.example.com/pushotp", all_keys(), Some(false), None);
        let declared = with(&plain, "loginOrigins", origins(&["https://portal.example.com"]));
        let confirmed = with(&declared, "sites", origins(&["https://intranet.example.org"]));
        assert_eq!(check_push_token(&confirmed), Ok(()));
        assert!(push_token_may_fill(&plain, "https://auth.example.com"));
        assert!(!push_token_may_fill(&plain, "https://portal.example.com"));
        assert!(push_token_may_fill(&declared, "https://portal.example.com"));
        assert!(push_token_may_fill(&confirmed, "https://intranet.example.org"));
        assert!(!push_token_may_fill(&confirmed, "https://bank.example"));
        for (name, bad) in [
            ("loginOrigins", origins(&["https://portal.example.com/"])),
            ("loginOrigins", text("https://portal.example.com")),
            ("loginOrigins", origins(&["https://a.example"; 17])),
            ("sites", origins(&["bank.example"])),
        ] {
            let token = with(&plain, name, bad);
            assert_eq!(code(&token), "invalid_token", "{name}");
            // Such a token is never stored; its server's own origin stays its own.
            assert!(!push_token_may_fill(&token, "https://portal.example.com"));
            assert!(push_token_may_fill(&token, "https://auth.example.com"));
        }
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

    #[test]
    fn names_otp_settings_and_pin_policy_are_an_enrollments() {
        let good = replace(
            &token("https://a.example", all_keys(), None, None),
            "pin",
            object(&[("required", Value::Bool(false)), ("maxTries", Value::Number(5.0))]),
        );
        assert_eq!(check_push_token(&good), Ok(()));
        let totp = object(&[
            ("type", text("totp")),
            ("algorithm", text("SHA1")),
            ("digits", Value::Number(8.0)),
            ("period", Value::Number(30.0)),
        ]);
        // A version 1 token's HOTP or TOTP settings are ignored, whatever they say.
        assert_eq!(check_push_token(&replace(&good, "otp", totp)), Ok(()));
        let v2 = object(&[("algorithm", text("SHA1")), ("digits", Value::Number(10.0))]);
        assert_eq!(check_push_token(&replace(&good, "otp", v2)), Ok(()));
        let otp = |fields: &[(&str, Value)]| object(fields);
        for (name, bad) in [
            ("tokenId", text("")),
            ("tokenId", Value::Number(1.0)),
            ("tokenName", text("Work\u{7}")),
            ("tokenName", text("moc.knab\u{202e}")),
            ("tokenName", Value::Null),
            ("user", text("\u{1b}[2K")),
            ("issuer", text(&"x".repeat(100_000))),
            ("deviceName", text("laptop\u{2066}")),
            ("otp", Value::Null),
            (
                "otp",
                otp(&[
                    ("type", text("hotp")),
                    ("algorithm", text("MD5")),
                    ("digits", Value::Number(6.0)),
                    ("counter", Value::Number(0.0)),
                ]),
            ),
            (
                "otp",
                otp(&[
                    ("type", text("hotp")),
                    ("algorithm", text("SHA1")),
                    ("digits", Value::Number(99.0)),
                    ("counter", Value::Number(0.0)),
                ]),
            ),
            ("otp", otp(&[("algorithm", text("SHA1"))])),
            ("otp", otp(&[("digits", Value::Number(6.0))])),
            ("otp", otp(&[("algorithm", text("SHA1")), ("digits", Value::Number(5.0))])),
            ("pin", object(&[("required", Value::Bool(false)), ("maxTries", Value::Number(-1.0))])),
            (
                "pin",
                object(&[("required", Value::Bool(false)), ("maxTries", Value::Number(101.0))]),
            ),
            ("pin", text("none")),
        ] {
            assert_eq!(code(&replace(&good, name, bad)), "invalid_token", "{name}");
        }
        // Without a PIN, K_otp is there in clear, as long as its hash's output (20 bytes for
        // SHA-1).
        let keys = |otp: Option<&str>| {
            let mut fields =
                vec![("request", text(KEY)), ("answer", text(KEY)), ("channel", text(KEY))];
            fields.extend(otp.map(|otp| ("otp", text(otp))));
            object(&fields)
        };
        assert_eq!(code(&replace(&good, "keys", keys(None))), "invalid_token");
        assert_eq!(code(&replace(&good, "keys", keys(Some(&KEY[..26])))), "invalid_token");
        assert_eq!(check_push_token(&replace(&good, "keys", keys(Some(&KEY[..27])))), Ok(()));
    }

    /// `token` with `name` set to `value`, in place of what it had.
    fn replace(token: &Value, name: &str, value: Value) -> Value {
        let Value::Object(fields) = token.clone() else { unreachable!() };
        let mut fields: Vec<_> = fields.into_iter().filter(|(k, _)| k != name).collect();
        fields.push((name.into(), value));
        Value::Object(fields)
    }
}
