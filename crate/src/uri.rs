//! `otpauth://` Key URIs: the format of enrolment QR codes.
//!
//! The format is Google's Key URI format
//! (<https://github.com/google/google-authenticator/wiki/Key-Uri-Format>):
//! `otpauth://TYPE/LABEL?PARAMETERS`, where TYPE is `totp` or `hotp`, LABEL is
//! `Issuer:account` (URI-encoded), and the parameters are `secret` (RFC 4648 base32),
//! `issuer`, `algorithm`, `digits`, `period` and, for HOTP, the required `counter`.
//!
//! Parsing is lenient wherever real QR codes are sloppy and the sloppiness cannot change a code
//! (letter case, padding, spaces, label encoding, unknown parameters), and strict wherever a
//! guess could produce wrong codes (type, algorithm, digits, period, counter, secret).

use core::{fmt, str::FromStr};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};
use serde::{Serialize, Serializer, ser::SerializeStruct};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::{Hotp, MAX_DIGITS, MIN_DIGITS};
use crate::secret::Secret;
use crate::totp::{DEFAULT_PERIOD, Totp};

/// The longest `otpauth://` URI accepted, in bytes, both when parsing and when building one.
///
/// A QR code holds at most about 4 KB, and real enrolment URIs are a few hundred bytes; the
/// bound keeps a hostile input from costing time or memory.
pub const MAX_URI_LEN: usize = 4096;

const SCHEME: &str = "otpauth://";

/// Everything except the RFC 3986 unreserved characters: safe for any URI component.
pub(crate) const COMPONENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Label parts keep `@` readable, as in the Key URI format's own example; RFC 3986 allows it
/// in a path.
const LABEL_PART: &AsciiSet = &COMPONENT.remove(b'@');

/// Whether the code changes with time (TOTP, RFC 6238) or with a counter (HOTP, RFC 4226),
/// with the parameter that goes with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Time-based: a new code every `period` seconds, counted from the Unix epoch.
    Totp {
        /// The time step in seconds (Key URI `period`, default 30).
        period: u64,
    },
    /// Counter-based: a new code each time the counter moves.
    Hotp {
        /// The counter value of the next code (Key URI `counter`).
        counter: u64,
    },
}

impl TokenKind {
    /// The Key URI TYPE: `totp` or `hotp`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Totp { .. } => "totp",
            Self::Hotp { .. } => "hotp",
        }
    }
}

/// A token as described by an `otpauth://` Key URI: who issued it, for which account, its
/// secret and how codes are made from it.
///
/// Values are always valid: digits 6 to 10, a period of 1 s to one day, no control characters
/// in the issuer or account, and a canonical URI of at most [`MAX_URI_LEN`] bytes. So
/// [`totp`](Self::totp) or [`hotp`](Self::hotp) always yields a generator, and
/// `parse(token.to_string()) == token`.
///
/// `Debug` and `Serialize` never include the secret; [`Display`](fmt::Display) does, since it
/// is the full URI (treat that string as secret). Serialization gives a description for a user
/// interface: `type`, `issuer`, `account`, `algorithm`, `digits` and `period` or `counter`. Call
/// [`secret_base32`](Self::secret_base32) to take the secret out deliberately.
///
/// ```
/// use pushotp::{TokenKind, TokenUri};
/// let token: TokenUri = "otpauth://totp/ACME%20Co:john.doe@email.com\
///     ?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co".parse()?;
/// assert_eq!(token.issuer(), Some("ACME Co"));
/// assert_eq!(token.account(), "john.doe@email.com");
/// assert_eq!(token.kind(), TokenKind::Totp { period: 30 });
/// assert_eq!(
///     token.to_string(),
///     "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\
///      &issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
/// );
/// assert!(token.totp().is_some() && token.hotp().is_none());
/// # Ok::<(), pushotp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUri {
    kind: TokenKind,
    issuer: Option<String>,
    account: String,
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
}

impl TokenUri {
    /// A token from its parts.
    ///
    /// The issuer and account are trimmed of surrounding white space, and an empty issuer
    /// becomes `None`, as the parser does. Fails with [`Error::InvalidDigits`] or
    /// [`Error::InvalidPeriod`] on parameters no generator accepts, with
    /// [`Error::InvalidParameter`] (`issuer` or `account`) on control characters, and with
    /// [`Error::TooLong`] if the URI would be longer than [`MAX_URI_LEN`].
    pub fn new(
        kind: TokenKind,
        issuer: Option<String>,
        account: String,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
    ) -> Result<Self> {
        Self::build(kind, issuer.as_deref(), &account, secret, algorithm, digits)
    }

    /// The one place that checks invariants, so that parsed, imported and built tokens obey the
    /// same rules.
    pub(crate) fn build(
        kind: TokenKind,
        issuer: Option<&str>,
        account: &str,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
    ) -> Result<Self> {
        match kind {
            TokenKind::Totp { period } => {
                Totp::new(algorithm, digits, period, 0)?;
            }
            TokenKind::Hotp { .. } => {
                Hotp::new(algorithm, digits)?;
            }
        }
        let issuer = issuer.map(str::trim).filter(|issuer| !issuer.is_empty());
        let account = account.trim();
        // Control characters (new lines, escapes) in names shown to people only serve to
        // confuse the user interface that displays them.
        if issuer.is_some_and(|issuer| issuer.chars().any(char::is_control)) {
            return Err(Error::InvalidParameter { name: "issuer" });
        }
        if account.chars().any(char::is_control) {
            return Err(Error::InvalidParameter { name: "account" });
        }
        let token = Self {
            kind,
            issuer: issuer.map(String::from),
            account: String::from(account),
            secret,
            algorithm,
            digits,
        };
        // Whatever is built must parse again, and the parser refuses longer input.
        let mut length = Length(0);
        fmt::write(&mut length, format_args!("{token}"))
            .map_err(|_| Error::TooLong { max: MAX_URI_LEN })?;
        if length.0 > MAX_URI_LEN {
            return Err(Error::TooLong { max: MAX_URI_LEN });
        }
        Ok(token)
    }

    /// TOTP or HOTP, with its period or counter.
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The service that issued the token, such as `ACME Co`, if the URI names one.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account at the issuer, such as `john.doe@email.com`; may be empty.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The shared secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The secret as unpadded upper-case base32 (RFC 4648 §6), for storing or showing it on
    /// purpose. Never log it.
    #[must_use]
    pub fn secret_base32(&self) -> String {
        self.secret.to_base32()
    }

    /// The HMAC hash function.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits of each code.
    #[must_use]
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The TOTP generator (T0 = 0, as the Key URI format has no start time) of a TOTP token;
    /// `None` for an HOTP token.
    #[must_use]
    pub fn totp(&self) -> Option<Totp> {
        match self.kind {
            // Cannot fail: `build` checked the same parameters.
            TokenKind::Totp { period } => Totp::new(self.algorithm, self.digits, period, 0).ok(),
            TokenKind::Hotp { .. } => None,
        }
    }

    /// The HOTP generator of an HOTP token (its counter is in [`kind`](Self::kind)); `None`
    /// for a TOTP token.
    #[must_use]
    pub fn hotp(&self) -> Option<Hotp> {
        match self.kind {
            TokenKind::Totp { .. } => None,
            // Cannot fail: `build` checked the same parameters.
            TokenKind::Hotp { .. } => Hotp::new(self.algorithm, self.digits).ok(),
        }
    }

    /// The label as text, not URI-encoded: `Issuer:account`, or the account alone. An account
    /// that holds a colon but has no issuer gets an empty issuer prefix, `:a:b`, so that
    /// splitting at the first colon gives it back whole.
    pub(crate) fn label(&self) -> String {
        match &self.issuer {
            Some(issuer) => format!("{issuer}:{}", self.account),
            None if self.account.contains(':') => format!(":{}", self.account),
            None => self.account.clone(),
        }
    }
}

/// Counts the bytes of a formatted value without keeping them (they include the secret).
struct Length(usize);

impl fmt::Write for Length {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        Ok(())
    }
}

impl fmt::Display for TokenUri {
    /// The canonical Key URI:
    /// `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`
    /// (`counter=` instead of `period=` for HOTP). Every parameter is written, so that apps
    /// with other defaults read the same token; the secret is unpadded base32 as the format
    /// recommends; spaces are `%20`, and `+` is `%2B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/", self.kind.name())?;
        match &self.issuer {
            Some(issuer) => write!(f, "{}:", utf8_percent_encode(issuer, LABEL_PART))?,
            None if self.account.contains(':') => f.write_str(":")?,
            None => {}
        }
        let secret = Zeroizing::new(self.secret.to_base32());
        write!(f, "{}?secret={}", utf8_percent_encode(&self.account, LABEL_PART), secret.as_str())?;
        if let Some(issuer) = &self.issuer {
            write!(f, "&issuer={}", utf8_percent_encode(issuer, COMPONENT))?;
        }
        write!(f, "&algorithm={}&digits={}", self.algorithm, self.digits)?;
        match self.kind {
            TokenKind::Totp { period } => write!(f, "&period={period}"),
            TokenKind::Hotp { counter } => write!(f, "&counter={counter}"),
        }
    }
}

impl FromStr for TokenUri {
    type Err = Error;

    /// Parses an `otpauth://` Key URI.
    ///
    /// Accepted although sloppy: any case in the scheme, the type and parameter names;
    /// surrounding white space; extra slashes before the type or the label; a base32 secret in
    /// any case, padded or grouped with spaces or dashes; the issuer in the label, in the
    /// `issuer` parameter or both (the parameter wins when they differ); `%3A` as the label
    /// separator and spaces after it; `+` or `%20` for spaces in the label (but a label with a
    /// literal `@` was not form-encoded, so its `+` stays, as in `john+tag@example.com`);
    /// missing `algorithm`, `digits` or `period` (SHA1, 6, 30); unknown parameters such as
    /// `image`, and `counter` on TOTP or `period` on HOTP, whatever their value.
    ///
    /// Refused, with the error named: more than [`MAX_URI_LEN`] bytes ([`Error::TooLong`]);
    /// another scheme ([`Error::WrongScheme`]); a type other than `totp` or `hotp`
    /// ([`Error::UnknownTokenType`]); no secret ([`Error::MissingSecret`]), an empty one
    /// ([`Error::EmptySecret`]) or one that is not base32 ([`Error::InvalidBase32`]); an
    /// unknown algorithm ([`Error::UnknownAlgorithm`]); digits outside 6 to 10
    /// ([`Error::InvalidDigits`]); a period of 0 or over a day ([`Error::InvalidPeriod`]); an
    /// HOTP URI without counter ([`Error::MissingCounter`]); a non-numeric digits, period or
    /// counter, a known parameter given twice with different values, a known parameter that
    /// is not UTF-8 after percent-decoding, or control characters in the issuer or account
    /// ([`Error::InvalidParameter`]); a label that is not UTF-8 ([`Error::MalformedUri`]).
    fn from_str(uri: &str) -> Result<Self> {
        if uri.len() > MAX_URI_LEN {
            return Err(Error::TooLong { max: MAX_URI_LEN });
        }
        let rest =
            strip_scheme(uri.trim(), SCHEME).ok_or(Error::WrongScheme { expected: SCHEME })?;
        let rest = rest.split_once('#').map_or(rest, |(before, _fragment)| before);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path.trim_start_matches('/');
        let (type_name, label) = path.split_once('/').unwrap_or((path, ""));
        let is_totp = if type_name.eq_ignore_ascii_case("totp") {
            true
        } else if type_name.eq_ignore_ascii_case("hotp") {
            false
        } else {
            return Err(Error::UnknownTokenType);
        };
        let label = label.trim_start_matches('/');
        // Form encoders escape `@`, so a raw one shows the label was not form-encoded and a `+`
        // in it is a real plus (e-mail sub-addresses), not a space.
        let label = decode_text(label, !label.contains('@'))
            .ok_or(Error::MalformedUri("the label is not UTF-8"))?;
        let params = Params::parse(query, is_totp)?;

        let secret = params.secret.ok_or(Error::MissingSecret)?;
        let kind = if is_totp {
            TokenKind::Totp { period: params.period.unwrap_or(DEFAULT_PERIOD) }
        } else {
            TokenKind::Hotp { counter: params.counter.ok_or(Error::MissingCounter)? }
        };
        let (issuer, account) = split_label(&label, params.issuer.as_deref());
        Self::build(
            kind,
            issuer,
            account,
            secret,
            params.algorithm.unwrap_or_default(),
            params.digits.unwrap_or(MIN_DIGITS),
        )
    }
}

impl Serialize for TokenUri {
    /// A description without the secret: `{type, issuer, account, algorithm, digits, period}`
    /// for TOTP, `counter` instead of `period` for HOTP.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("TokenUri", 6)?;
        s.serialize_field("type", self.kind.name())?;
        s.serialize_field("issuer", &self.issuer)?;
        s.serialize_field("account", &self.account)?;
        s.serialize_field("algorithm", &self.algorithm)?;
        s.serialize_field("digits", &self.digits)?;
        match self.kind {
            TokenKind::Totp { period } => s.serialize_field("period", &period)?,
            TokenKind::Hotp { counter } => s.serialize_field("counter", &counter)?,
        }
        s.end()
    }
}

/// The known parameters of a Key URI, each checked as soon as it is read.
#[derive(Default)]
struct Params {
    secret: Option<Secret>,
    issuer: Option<String>,
    algorithm: Option<Algorithm>,
    digits: Option<u8>,
    period: Option<u64>,
    counter: Option<u64>,
}

impl Params {
    fn parse(query: &str, is_totp: bool) -> Result<Self> {
        let mut params = Self::default();
        for (key, value) in query_pairs(query) {
            if key_is(key, "secret") {
                let text = decode_text(value, true)
                    .map(Zeroizing::new)
                    .ok_or(Error::InvalidParameter { name: "secret" })?;
                set_once(&mut params.secret, Secret::from_base32(&text)?, "secret")?;
            } else if key_is(key, "issuer") {
                let issuer =
                    decode_text(value, true).ok_or(Error::InvalidParameter { name: "issuer" })?;
                set_once(&mut params.issuer, issuer, "issuer")?;
            } else if key_is(key, "algorithm") {
                let text = decode_text(value, true)
                    .ok_or(Error::InvalidParameter { name: "algorithm" })?;
                set_once(&mut params.algorithm, text.trim().parse()?, "algorithm")?;
            } else if key_is(key, "digits") {
                let number =
                    number(value, true).ok_or(Error::InvalidParameter { name: "digits" })?;
                let digits = u8::try_from(number)
                    .map_err(|_| Error::InvalidDigits { min: MIN_DIGITS, max: MAX_DIGITS })?;
                set_once(&mut params.digits, digits, "digits")?;
            } else if is_totp && key_is(key, "period") {
                // Out-of-range values saturate, then fail the period range check with the
                // precise error.
                let period =
                    number(value, true).ok_or(Error::InvalidParameter { name: "period" })?;
                set_once(&mut params.period, period, "period")?;
            } else if !is_totp && key_is(key, "counter") {
                let counter =
                    number(value, false).ok_or(Error::InvalidParameter { name: "counter" })?;
                set_once(&mut params.counter, counter, "counter")?;
            }
        }
        Ok(params)
    }
}

/// Keeps the first value of a parameter and refuses a later, different one: two secrets or two
/// digit counts in one QR code mean it is broken or forged, and guessing would give wrong codes.
fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<()> {
    match slot {
        Some(first) if *first != value => Err(Error::InvalidParameter { name }),
        Some(_) => Ok(()),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// A decimal number written with ASCII digits only (no sign), percent-decoded and trimmed.
/// When `saturate` is false, a number that does not fit in `u64` is refused.
fn number(raw: &str, saturate: bool) -> Option<u64> {
    let text = decode_text(raw, true)?;
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.bytes().try_fold(0u64, |acc, b| {
        let digit = u64::from(b - b'0');
        match acc.checked_mul(10).and_then(|acc| acc.checked_add(digit)) {
            Some(next) => Some(next),
            None if saturate => Some(u64::MAX),
            None => None,
        }
    })
}

/// Splits a decoded label into issuer and account; the `issuer` parameter, when present, wins
/// over the label's prefix. An issuer parameter that itself holds colons is matched as a
/// whole prefix first, so that such issuers survive a round trip.
pub(crate) fn split_label<'a>(
    label: &'a str,
    issuer_param: Option<&'a str>,
) -> (Option<&'a str>, &'a str) {
    let label = label.trim();
    match issuer_param.map(str::trim).filter(|issuer| !issuer.is_empty()) {
        Some(issuer) => {
            let account = label
                .strip_prefix(issuer)
                .and_then(|rest| rest.strip_prefix(':'))
                .or_else(|| label.split_once(':').map(|(_, account)| account))
                .unwrap_or(label);
            (Some(issuer), account)
        }
        None => match label.split_once(':') {
            Some((issuer, account)) => (Some(issuer), account),
            None => (None, label),
        },
    }
}

/// `text` without a leading `scheme`, compared without regard to case.
pub(crate) fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    let head = text.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme).then(|| text.get(scheme.len()..)).flatten()
}

/// The raw `key=value` pairs of a query; a key without `=` has an empty value.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Whether a raw query key names `name`, after percent-decoding and ignoring case.
pub(crate) fn key_is(raw_key: &str, name: &str) -> bool {
    // Keys are short; a long one cannot be a known name and is not worth decoding.
    raw_key.len() <= name.len() * 3
        && decode_bytes(raw_key, true).eq_ignore_ascii_case(name.as_bytes())
}

/// Percent-decodes a URI component; `plus_is_space` reads `+` as a space, as HTML forms
/// encode it.
pub(crate) fn decode_bytes(raw: &str, plus_is_space: bool) -> Zeroizing<Vec<u8>> {
    let spaced: Zeroizing<Vec<u8>> = Zeroizing::new(
        raw.bytes().map(|b| if plus_is_space && b == b'+' { b' ' } else { b }).collect(),
    );
    Zeroizing::new(percent_decode(&spaced).collect())
}

/// Like [`decode_bytes`], but the result must be UTF-8.
pub(crate) fn decode_text(raw: &str, plus_is_space: bool) -> Option<String> {
    let bytes = decode_bytes(raw, plus_is_space);
    core::str::from_utf8(&bytes).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    fn parse(uri: &str) -> Result<TokenUri> {
        uri.parse()
    }

    #[test]
    fn debug_and_serialize_never_show_the_secret() {
        let token = parse(&format!("otpauth://totp/A:b?secret={SECRET}")).unwrap();
        let debug = format!("{token:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("Secret(..)"), "{debug}");
        let json = serde_json::to_string(&token).unwrap();
        assert_eq!(
            json,
            r#"{"type":"totp","issuer":"A","account":"b","algorithm":"SHA1","digits":6,"period":30}"#
        );
        assert_eq!(token.secret_base32(), SECRET);
    }

    #[test]
    fn generators_follow_the_kind() {
        let totp = parse(&format!("otpauth://totp/a?secret={SECRET}&digits=8&period=60")).unwrap();
        assert_eq!(totp.totp().unwrap().period(), 60);
        assert_eq!(totp.totp().unwrap().digits(), 8);
        assert!(totp.hotp().is_none());
        let hotp = parse(&format!("otpauth://hotp/a?secret={SECRET}&counter=7")).unwrap();
        assert_eq!(hotp.kind(), TokenKind::Hotp { counter: 7 });
        assert_eq!(hotp.hotp().unwrap().digits(), 6);
        assert!(hotp.totp().is_none());
    }

    #[test]
    fn issuers_and_accounts_with_colons_round_trip() {
        let secret = || Secret::from_base32(SECRET).unwrap();
        let totp = TokenKind::Totp { period: 30 };
        for (issuer, account) in [
            (Some("A:B"), "c:d"),
            (None, "c:d"),
            (None, "plain"),
            (Some("Ünïcödé & Co"), "a+b@example.com"),
            (Some("x"), ""),
            (Some("100% sure"), "#1 ?&="),
        ] {
            let token = TokenUri::new(
                totp,
                issuer.map(String::from),
                account.into(),
                secret(),
                Algorithm::Sha1,
                6,
            )
            .unwrap();
            let again = parse(&token.to_string()).unwrap();
            assert_eq!(again, token, "{token}");
            assert_eq!(again.issuer(), issuer);
            assert_eq!(again.account(), account);
        }
    }

    #[test]
    fn new_checks_and_normalizes() {
        let secret = || Secret::from_base32(SECRET).unwrap();
        let totp = TokenKind::Totp { period: 30 };
        let token =
            TokenUri::new(totp, Some("  ".into()), " a ".into(), secret(), Algorithm::Sha1, 6)
                .unwrap();
        assert_eq!((token.issuer(), token.account()), (None, "a"));
        let make = |kind, issuer: &str, account: &str, digits| {
            TokenUri::new(
                kind,
                Some(issuer.into()),
                account.into(),
                secret(),
                Algorithm::Sha1,
                digits,
            )
        };
        assert!(matches!(make(totp, "i", "a", 5), Err(Error::InvalidDigits { .. })));
        assert!(matches!(
            make(TokenKind::Totp { period: 0 }, "i", "a", 6),
            Err(Error::InvalidPeriod { .. })
        ));
        assert_eq!(make(totp, "i\nj", "a", 6), Err(Error::InvalidParameter { name: "issuer" }));
        assert_eq!(make(totp, "i", "a\u{7}b", 6), Err(Error::InvalidParameter { name: "account" }));
        let long = "a".repeat(MAX_URI_LEN);
        assert_eq!(make(totp, "i", &long, 6), Err(Error::TooLong { max: MAX_URI_LEN }));
        // A name that fits raw but not once percent-encoded is refused too.
        let spaced = " x".repeat(MAX_URI_LEN / 3);
        assert_eq!(make(totp, "i", &spaced, 6), Err(Error::TooLong { max: MAX_URI_LEN }));
    }

    #[test]
    fn conflicting_duplicates_are_refused_and_equal_ones_accepted() {
        let base = format!("otpauth://totp/a?secret={SECRET}");
        assert!(parse(&format!("{base}&secret={}", SECRET.to_lowercase())).is_ok());
        assert!(parse(&format!("{base}&digits=6&digits=6")).is_ok());
        for (extra, name) in [
            ("secret=GEZDGNBVGY3TQOJQ", "secret"),
            ("Secret=GEZDGNBVGY3TQOJQ", "secret"),
            ("digits=6&digits=8", "digits"),
            ("period=30&period=60", "period"),
            ("algorithm=SHA1&algorithm=SHA256", "algorithm"),
            ("issuer=A&issuer=B", "issuer"),
        ] {
            assert_eq!(
                parse(&format!("{base}&{extra}")),
                Err(Error::InvalidParameter { name }),
                "{extra}"
            );
        }
        let hotp = format!("otpauth://hotp/a?secret={SECRET}&counter=1&counter=2");
        assert_eq!(parse(&hotp), Err(Error::InvalidParameter { name: "counter" }));
    }

    #[test]
    fn non_utf8_after_decoding_is_refused() {
        assert_eq!(
            parse(&format!("otpauth://totp/%FF?secret={SECRET}")),
            Err(Error::MalformedUri("the label is not UTF-8"))
        );
        assert_eq!(
            parse(&format!("otpauth://totp/a?secret={SECRET}&issuer=%C3%28")),
            Err(Error::InvalidParameter { name: "issuer" })
        );
        assert_eq!(
            parse("otpauth://totp/a?secret=%FF"),
            Err(Error::InvalidParameter { name: "secret" })
        );
        // Unknown parameters are ignored whatever they hold.
        assert!(parse(&format!("otpauth://totp/a?secret={SECRET}&image=%FF%FE")).is_ok());
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number("42", false), Some(42));
        assert_eq!(number("%2042+", false), Some(42));
        assert_eq!(number("18446744073709551615", false), Some(u64::MAX));
        assert_eq!(number("18446744073709551616", false), None);
        assert_eq!(number("99999999999999999999999", true), Some(u64::MAX));
        for bad in ["", "-1", "0x10", "1e3", "4.0", "½", "%2B5"] {
            assert_eq!(number(bad, true), None, "{bad}");
        }
    }

    /// A small deterministic generator, so the robustness test needs no extra crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }

    #[test]
    fn malformed_input_gets_typed_errors_and_never_panics() {
        let cases: &[(&str, Error)] = &[
            ("", Error::WrongScheme { expected: SCHEME }),
            ("otpauth", Error::WrongScheme { expected: SCHEME }),
            ("otpauth-migration://offline?data=", Error::WrongScheme { expected: SCHEME }),
            (
                "https://example.com/?secret=JBSWY3DPEHPK3PXP",
                Error::WrongScheme { expected: SCHEME },
            ),
            ("otpauth://", Error::UnknownTokenType),
            ("otpauth://?secret=JBSWY3DPEHPK3PXP", Error::UnknownTokenType),
            ("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", Error::UnknownTokenType),
            ("otpauth://totp", Error::MissingSecret),
            ("otpauth://totp/a?secret=", Error::EmptySecret),
            ("otpauth://totp/a?secret=JBSW1", Error::InvalidBase32),
            ("otpauth://totp/a?secret=é", Error::InvalidBase32),
            ("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP", Error::MissingCounter),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=",
                Error::InvalidParameter { name: "counter" },
            ),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", Error::UnknownAlgorithm),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=256",
                Error::InvalidDigits { min: 6, max: 10 },
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0",
                Error::InvalidPeriod { max: 86_400 },
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30",
                Error::InvalidParameter { name: "period" },
            ),
        ];
        for (uri, error) in cases {
            assert_eq!(parse(uri).as_ref(), Err(error), "{uri}");
        }
        let huge = format!("otpauth://totp/{}?secret={SECRET}", "a".repeat(MAX_URI_LEN));
        assert_eq!(parse(&huge), Err(Error::TooLong { max: MAX_URI_LEN }));
        let many = format!("otpauth://totp/a?secret={SECRET}{}", "&".repeat(MAX_URI_LEN - 40));
        assert!(parse(&many).is_ok());

        // Random bytes, and valid URIs with random bytes changed: any result is fine as long
        // as there is no panic, and whatever parses comes back unchanged from its URI.
        let seeds = [
            format!("otpauth://totp/ACME%20Co:a@b.c?secret={SECRET}&issuer=ACME&digits=8"),
            format!("otpauth://hotp/x%3Ay?secret={SECRET}&counter=5&algorithm=sha256"),
        ];
        let alphabet = b"%:/?&=+#@ 0123456789ABCDEFabcdefotpauthsecret\xc3\xa9\xff";
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut parsed = 0;
        for round in 0..3000 {
            let mut bytes: Vec<u8> = if round % 3 == 0 {
                (0..rng.below(200)).map(|_| rng.next().to_le_bytes()[0]).collect()
            } else {
                seeds[round % 2].clone().into_bytes()
            };
            for _ in 0..=rng.below(4) {
                let b = alphabet[rng.below(alphabet.len())];
                let at = rng.below(bytes.len() + 1);
                match rng.below(3) {
                    0 if at < bytes.len() => bytes[at] = b,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(token) = parse(&text) {
                assert_eq!(parse(&token.to_string()).as_ref(), Ok(&token), "{text}");
                parsed += 1;
            }
        }
        // The mutations must leave enough valid URIs for the round trip to be exercised.
        assert!(parsed > 300, "only {parsed} mutated URIs parsed");
    }
}
