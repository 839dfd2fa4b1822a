//! The check of an everyday TOTP or HOTP token before the extension stores it.

use std::string::String;
use std::vec::Vec;

use zeroize::Zeroizing;

use super::{MAX_LABEL_UNITS, MAX_SITES};
use crate::error::{Error, Result};
use crate::hotp::{Hotp, MAX_DIGITS, MIN_DIGITS};
use crate::secret::Secret;
use crate::totp::{DEFAULT_PERIOD, MAX_PERIOD, Totp};
use crate::value::{MAX_SAFE_INTEGER, Value, is_js_space, js_trim};
use crate::{Algorithm, TokenKind};

/// An everyday token as the extension stores it, checked by [`check_otp_token`]: its names,
/// code parameters and sites, and its secret, kept apart from the rest in the extension's
/// vault.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpToken {
    /// The issuer, trimmed; may be empty when the account is not.
    pub issuer: String,
    /// The account name, trimmed; may be empty when the issuer is not.
    pub account: String,
    /// TOTP with its period, or HOTP with its counter.
    pub kind: TokenKind,
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// 6 to 10.
    pub digits: u8,
    /// The web origins its codes may be filled into, each once, in the order first given.
    pub sites: Vec<String>,
    /// The secret as the core reads it: base32 without spaces, `=` or `-`, in upper case. It
    /// is what two tokens are compared by, so the same key typed two ways is one token.
    pub secret: Zeroizing<String>,
}

impl core::fmt::Debug for OtpToken {
    // The secret is never shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OtpToken")
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("sites", &self.sites)
            .finish_non_exhaustive()
    }
}

/// Checks one everyday token the extension is asked to add (from a scanned or typed-in code,
/// or an export file) and returns it normalised: names trimmed, defaults filled in (`SHA1`, 6
/// digits, a period of 30 or a counter of 0), sites without repeats, the secret as
/// [`OtpToken::secret`] says.
///
/// `token` is the object as the extension holds it: `{ type, secret, algorithm?, digits?,
/// period?, counter?, issuer?, account?, sites? }`, other properties ignored. The rules and
/// their order are those the extension applied before, error codes included:
///
/// | rule | error |
/// |---|---|
/// | an object | `invalid_parameter` (`token`) |
/// | `type` `"totp"` or `"hotp"` | `unknown_token_type` |
/// | `algorithm` left out, or `"SHA1"`, `"SHA256"` or `"SHA512"` | `unknown_algorithm` |
/// | `digits` left out, or a whole number of 6 to 10 | `invalid_digits` |
/// | `secret` text with more than spaces, `=` and `-` | `empty_secret` |
/// | `issuer`, `account`: left out, `null`, or text of at most 256 UTF-16 units without control characters | `invalid_parameter` (`issuer`, `account`) |
/// | TOTP `period` left out, `null`, or a whole number of 1 to 86400 | `invalid_period` |
/// | HOTP `counter` left out, `null`, or a whole number of 0 to 2^53 - 1 | `invalid_parameter` (`counter`) |
/// | `sites` left out, `null`, or an array of at most 64 web origins ([`is_web_origin`](super::is_web_origin)) | `invalid_parameter` (`sites`) |
/// | an issuer or an account after trimming | `invalid_parameter` (`issuer or account`) |
/// | the secret base32 of at most 1024 bytes ([`Secret::from_base32`]) | `invalid_base32`, `too_long` |
///
/// # Errors
/// The first rule broken, as above.
pub fn check_otp_token(token: &Value) -> Result<OtpToken> {
    if !matches!(token, Value::Object(_) | Value::Array(_)) {
        return Err(Error::InvalidParameter { name: "token" });
    }
    let totp = match token.get("type").as_str() {
        Some("totp") => true,
        Some("hotp") => false,
        _ => return Err(Error::UnknownTokenType),
    };
    let algorithm = match token.get("algorithm") {
        Value::Undefined => Algorithm::Sha1,
        Value::String(name) if name == "SHA1" => Algorithm::Sha1,
        Value::String(name) if name == "SHA256" => Algorithm::Sha256,
        Value::String(name) if name == "SHA512" => Algorithm::Sha512,
        _ => return Err(Error::UnknownAlgorithm),
    };
    let digits = match token.get("digits") {
        Value::Undefined => MIN_DIGITS,
        other => other
            .as_integer()
            .filter(|&n| (f64::from(MIN_DIGITS)..=f64::from(MAX_DIGITS)).contains(&n))
            // Checked: a whole number of 6 to 10.
            .map(|n| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let digits = n as u8;
                digits
            })
            .ok_or(Error::InvalidDigits { min: MIN_DIGITS, max: MAX_DIGITS })?,
    };
    let secret = token.get("secret").as_str().map(normal_secret).unwrap_or_default();
    if secret.is_empty() {
        return Err(Error::EmptySecret);
    }
    let issuer = label(token.get("issuer"), "issuer")?;
    let account = label(token.get("account"), "account")?;
    let kind = if totp {
        let period = whole_or(token.get("period"), DEFAULT_PERIOD, 1.0, to_f64(MAX_PERIOD))
            .ok_or(Error::InvalidPeriod { max: MAX_PERIOD })?;
        TokenKind::Totp { period }
    } else {
        let counter = whole_or(token.get("counter"), 0, 0.0, MAX_SAFE_INTEGER)
            .ok_or(Error::InvalidParameter { name: "counter" })?;
        TokenKind::Hotp { counter }
    };
    let sites = sites(token.get("sites")).ok_or(Error::InvalidParameter { name: "sites" })?;
    if issuer.is_empty() && account.is_empty() {
        return Err(Error::InvalidParameter { name: "issuer or account" });
    }
    // The core's own checks of the key and the parameters, as a code computed with them
    // would make.
    Secret::from_base32(&secret)?;
    match kind {
        TokenKind::Totp { period } => Totp::new(algorithm, digits, period, 0).map(drop)?,
        TokenKind::Hotp { .. } => Hotp::new(algorithm, digits).map(drop)?,
    }
    Ok(OtpToken { issuer, account, kind, algorithm, digits, sites, secret })
}

/// The names of an everyday token being renamed: `issuer` and `account` as
/// [`check_otp_token`] takes them (left out, `null`, or text of at most 256 UTF-16 units
/// without control characters), trimmed, and not both empty.
///
/// # Errors
/// `invalid_parameter` (`issuer`, `account`, or `issuer or account` when both are empty).
pub fn check_otp_names(issuer: &Value, account: &Value) -> Result<(String, String)> {
    let issuer = label(issuer, "issuer")?;
    let account = label(account, "account")?;
    if issuer.is_empty() && account.is_empty() {
        return Err(Error::InvalidParameter { name: "issuer or account" });
    }
    Ok((issuer, account))
}

/// The secret as the core reads it, for comparing two tokens' secrets: without JavaScript's
/// white space, `=` and `-`, in upper case as JavaScript's `toUpperCase` makes it wherever that
/// can matter.
///
/// Only ASCII letters and the ten letters whose upper case is ASCII (`ß ı ſ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ`, to
/// `SS I S FF FI FL FFI FFL ST ST`) are mapped: any other character makes the secret invalid
/// base32 in either case, so it is kept as it is. Unicode's case tables would be 13 KB of the
/// WebAssembly module that checks tokens, more than it has to spare; the one difference they
/// would make is which error a secret of over 2048 bytes with such characters gets, `too_long`
/// (as the length of its upper case counts) or `invalid_base32`.
fn normal_secret(text: &str) -> Zeroizing<String> {
    let mut upper = Zeroizing::new(String::with_capacity(text.len()));
    for c in text.chars() {
        match c {
            '=' | '-' => {}
            c if is_js_space(c) => {}
            'ß' => upper.push_str("SS"),
            'ı' => upper.push('I'),
            'ſ' => upper.push('S'),
            'ﬀ' => upper.push_str("FF"),
            'ﬁ' => upper.push_str("FI"),
            'ﬂ' => upper.push_str("FL"),
            'ﬃ' => upper.push_str("FFI"),
            'ﬄ' => upper.push_str("FFL"),
            'ﬅ' | 'ﬆ' => upper.push_str("ST"),
            c => upper.push(c.to_ascii_uppercase()),
        }
    }
    upper
}

/// An issuer or account name: left out or `null` is empty; text must be at most
/// [`MAX_LABEL_UNITS`] UTF-16 code units without C0 controls or DEL, and is trimmed.
fn label(value: &Value, name: &'static str) -> Result<String> {
    match value {
        Value::Undefined | Value::Null => Ok(String::new()),
        Value::String(text)
            if text.encode_utf16().count() <= MAX_LABEL_UNITS
                && !text.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') =>
        {
            Ok(js_trim(text).into())
        }
        _ => Err(Error::InvalidParameter { name }),
    }
}

/// A whole number within `min..=max`, or `default` when left out or `null`.
fn whole_or(value: &Value, default: u64, min: f64, max: f64) -> Option<u64> {
    if value.is_nullish() {
        return Some(default);
    }
    super::whole(value, min, max)
}

/// The sites: left out or `null` is none; otherwise an array of at most [`MAX_SITES`] web
/// origins, repeats dropped.
fn sites(value: &Value) -> Option<Vec<String>> {
    super::origin::origin_list(value, MAX_SITES)
}

/// A period bound as the number it is compared with (one day: exact in an f64).
#[allow(clippy::cast_precision_loss)]
fn to_f64(n: u64) -> f64 {
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    fn object(fields: &[(&str, Value)]) -> Value {
        Value::Object(fields.iter().map(|(k, v)| ((*k).into(), v.clone())).collect())
    }

    /// A good TOTP token with `changes` set over it (a field set to `Undefined` reads as
    /// left out).
    fn totp_with(changes: &[(&str, Value)]) -> Value {
        let mut fields = vec![
            ("type", text("totp")),
            ("issuer", text("ACME")),
            ("account", text("alice@acme.test")),
            ("secret", text("JBSWY3DPEHPK3PXP")),
        ];
        for (name, value) in changes {
            fields.retain(|(n, _)| n != name);
            fields.push((name, value.clone()));
        }
        object(&fields)
    }

    fn error(token: &Value) -> &'static str {
        check_otp_token(token).map(|_| ()).expect_err("expected an error").code()
    }

    #[test]
    fn a_token_comes_back_normalised_with_its_defaults() {
        let token = check_otp_token(&totp_with(&[
            ("issuer", text("  ACME\u{a0}")),
            ("secret", text("jbsw y3dp-ehpk 3pxp====")),
            ("sites", Value::Array(vec![text("https://acme.test"), text("https://acme.test")])),
            ("id", text("ignored")),
        ]))
        .unwrap();
        assert_eq!(token.issuer, "ACME");
        assert_eq!(token.account, "alice@acme.test");
        assert_eq!(token.kind, TokenKind::Totp { period: 30 });
        assert_eq!(token.algorithm, Algorithm::Sha1);
        assert_eq!(token.digits, 6);
        assert_eq!(token.sites, ["https://acme.test"]);
        assert_eq!(token.secret.as_str(), "JBSWY3DPEHPK3PXP");
        assert!(!format!("{token:?}").contains("JBSW"), "Debug shows no secret");

        let hotp = check_otp_token(&totp_with(&[
            ("type", text("hotp")),
            ("algorithm", text("SHA512")),
            ("digits", Value::Number(8.0)),
            ("counter", Value::Number(9_007_199_254_740_991.0)),
            ("issuer", Value::Null),
            ("sites", Value::Null),
        ]))
        .unwrap();
        assert_eq!(hotp.kind, TokenKind::Hotp { counter: (1 << 53) - 1 });
        assert_eq!((hotp.algorithm, hotp.digits, hotp.issuer.as_str()), (Algorithm::Sha512, 8, ""));
        assert!(hotp.sites.is_empty());
        // `null` is a period or counter left out.
        let totp = check_otp_token(&totp_with(&[("period", Value::Null)])).unwrap();
        assert_eq!(totp.kind, TokenKind::Totp { period: 30 });
        let hotp = check_otp_token(&totp_with(&[
            ("type", text("hotp")),
            ("counter", Value::Number(-0.0)),
        ]))
        .unwrap();
        assert_eq!(hotp.kind, TokenKind::Hotp { counter: 0 });
    }

    #[test]
    fn secrets_are_upper_cased_as_javascript_does() {
        // `toUpperCase` maps these to ASCII; they are base32 letters then.
        let token =
            check_otp_token(&totp_with(&[("secret", text("jbſwy3dpehpk3pxp\u{feff}"))])).unwrap();
        assert_eq!(token.secret.as_str(), "JBSWY3DPEHPK3PXP");
        assert_eq!(normal_secret("ßıﬀﬁﬂﬃﬄﬅﬆ").as_str(), "SSIFFFIFLFFIFFLSTST");
        assert_eq!(normal_secret("\u{85}ä").as_str(), "\u{85}ä");
    }

    #[test]
    fn every_character_whose_upper_case_is_ascii_is_mapped() {
        // Unicode's full upper case (as JavaScript's `toUpperCase` and Rust's `to_uppercase`
        // make it) of every character: where it is ASCII, the secret gets it; where it is not,
        // the character stays outside ASCII and the secret is no base32.
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            if is_js_space(c) || c == '=' || c == '-' {
                continue;
            }
            let unicode: String = c.to_uppercase().collect();
            let ours = normal_secret(c.encode_utf8(&mut [0; 4]));
            if unicode.is_ascii() {
                assert_eq!(ours.as_str(), unicode, "{c:?}");
            } else {
                assert!(!ours.is_ascii(), "{c:?}");
            }
        }
    }

    #[test]
    fn each_rule_has_its_error_code() {
        for (token, code) in [
            (Value::Null, "invalid_parameter"),
            (text("totp"), "invalid_parameter"),
            (Value::Array(vec![]), "unknown_token_type"),
            (totp_with(&[("type", text("TOTP"))]), "unknown_token_type"),
            (totp_with(&[("type", Value::Undefined)]), "unknown_token_type"),
            (totp_with(&[("algorithm", Value::Null)]), "unknown_algorithm"),
            (totp_with(&[("algorithm", text("sha1"))]), "unknown_algorithm"),
            (totp_with(&[("algorithm", text("MD5"))]), "unknown_algorithm"),
            (totp_with(&[("digits", Value::Null)]), "invalid_digits"),
            (totp_with(&[("digits", text("6"))]), "invalid_digits"),
            (totp_with(&[("digits", Value::Number(6.5))]), "invalid_digits"),
            (totp_with(&[("digits", Value::Number(5.0))]), "invalid_digits"),
            (totp_with(&[("digits", Value::Number(11.0))]), "invalid_digits"),
            (totp_with(&[("secret", Value::Undefined)]), "empty_secret"),
            (totp_with(&[("secret", Value::Number(1.0))]), "empty_secret"),
            (totp_with(&[("secret", text(" =-\u{3000}\t"))]), "empty_secret"),
            (totp_with(&[("issuer", Value::Number(1.0))]), "invalid_parameter"),
            (totp_with(&[("issuer", text("a\u{7f}"))]), "invalid_parameter"),
            (totp_with(&[("account", text("a\nb"))]), "invalid_parameter"),
            (totp_with(&[("account", text(&"a".repeat(257)))]), "invalid_parameter"),
            // 129 characters outside the BMP are 258 UTF-16 units.
            (totp_with(&[("account", text(&"😀".repeat(129)))]), "invalid_parameter"),
            (totp_with(&[("period", Value::Number(0.0))]), "invalid_period"),
            (totp_with(&[("period", Value::Number(86_401.0))]), "invalid_period"),
            (totp_with(&[("period", Value::Number(1.5))]), "invalid_period"),
            (totp_with(&[("period", text("30"))]), "invalid_period"),
            (
                totp_with(&[("type", text("hotp")), ("counter", Value::Number(-1.0))]),
                "invalid_parameter",
            ),
            (
                totp_with(&[
                    ("type", text("hotp")),
                    ("counter", Value::Number(9_007_199_254_740_992.0)),
                ]),
                "invalid_parameter",
            ),
            (
                totp_with(&[("type", text("hotp")), ("counter", Value::Bool(true))]),
                "invalid_parameter",
            ),
            (totp_with(&[("sites", text("https://acme.test"))]), "invalid_parameter"),
            (
                totp_with(&[("sites", Value::Array(vec![text("https://acme.test/")]))]),
                "invalid_parameter",
            ),
            (
                totp_with(&[(
                    "sites",
                    Value::Array(vec![Value::Array(vec![text("https://acme.test")])]),
                )]),
                "invalid_parameter",
            ),
            (
                totp_with(&[("sites", Value::Array(vec![text("https://acme.test"); 65]))]),
                "invalid_parameter",
            ),
            (
                totp_with(&[("issuer", text(" ")), ("account", Value::Undefined)]),
                "invalid_parameter",
            ),
            (totp_with(&[("secret", text("JBSW1"))]), "invalid_base32"),
            (totp_with(&[("secret", text("ä"))]), "invalid_base32"),
            (totp_with(&[("secret", text(&"A".repeat(2049)))]), "too_long"),
            // Upper-casing `ä` takes two bytes, as in JavaScript's UTF-8 of `Ä`.
            (totp_with(&[("secret", text(&"ä".repeat(1025)))]), "too_long"),
        ] {
            assert_eq!(error(&token), code, "{token:?}");
        }
        // 64 sites are the most, and 256 UTF-16 units the longest name.
        let sites: Vec<Value> = (0..64).map(|i| text(&format!("https://s{i}.test"))).collect();
        assert_eq!(
            check_otp_token(&totp_with(&[("sites", Value::Array(sites))])).unwrap().sites.len(),
            64
        );
        assert!(check_otp_token(&totp_with(&[("account", text(&"😀".repeat(128)))])).is_ok());
    }

    #[test]
    fn names_are_checked_as_for_a_new_token() {
        assert_eq!(
            check_otp_names(&text(" ACME "), &Value::Undefined),
            Ok(("ACME".into(), String::new()))
        );
        assert_eq!(check_otp_names(&Value::Null, &text("bob")), Ok((String::new(), "bob".into())));
        for (issuer, account, name) in [
            (text(" "), Value::Null, "issuer or account"),
            (Value::Undefined, Value::Undefined, "issuer or account"),
            (Value::Number(1.0), text("bob"), "issuer"),
            (text("ACME"), text("a\u{0}b"), "account"),
            (text("ACME"), text(&"a".repeat(257)), "account"),
        ] {
            assert_eq!(
                check_otp_names(&issuer, &account),
                Err(Error::InvalidParameter { name }),
                "{issuer:?} {account:?}"
            );
        }
    }

    #[test]
    fn rules_run_in_order() {
        // A bad type wins over a bad algorithm, a bad name over a bad period, and the secret's
        // base32 is checked last.
        let all_bad = object(&[
            ("type", text("x")),
            ("algorithm", text("x")),
            ("digits", Value::Number(1.0)),
            ("secret", text("!")),
        ]);
        assert_eq!(error(&all_bad), "unknown_token_type");
        assert_eq!(
            error(&totp_with(&[("issuer", Value::Bool(true)), ("period", Value::Number(0.0))])),
            "invalid_parameter"
        );
        assert_eq!(
            error(&totp_with(&[("secret", text("!")), ("period", Value::Number(0.0))])),
            "invalid_period"
        );
        assert_eq!(
            error(&totp_with(&[
                ("secret", text("!")),
                ("issuer", Value::Undefined),
                ("account", Value::Undefined)
            ])),
            "invalid_parameter"
        );
    }
}
