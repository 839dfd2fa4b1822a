//! Google Authenticator export links: `otpauth-migration://offline?data=…`.
//!
//! The app's "Transfer accounts" screen shows one or more QR codes, each a link whose `data`
//! parameter is URL-encoded standard base64 (RFC 4648 §4) of a protocol buffer. Google has not
//! published the schema; the one used here is the reconstruction shared by the importers of
//! Aegis, privacyIDEA's pi-authenticator and others:
//!
//! ```text
//! message MigrationPayload {
//!   repeated OtpParameters otp_parameters = 1;
//!   int32 version = 2; int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5;
//! }
//! message OtpParameters {
//!   bytes secret = 1;           // raw key bytes, not base32
//!   string name = 2;            // "account" or "Issuer:account"
//!   string issuer = 3;
//!   Algorithm algorithm = 4;    // 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5
//!   DigitCount digits = 5;      // 0 unspecified, 1 six, 2 eight
//!   OtpType type = 6;           // 0 unspecified, 1 HOTP, 2 TOTP
//!   int64 counter = 7;
//! }
//! ```
//!
//! The format has no period: every TOTP token in it uses 30 s steps.

// RustCrypto's constant-time codec: the payload carries secrets, and it is small in WebAssembly.
use base64ct::{Base64, Base64Unpadded, Encoding};
use percent_encoding::utf8_percent_encode;
use prost::Message;
use serde::Serialize;
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::MIN_DIGITS;
use crate::secret::Secret;
use crate::totp::DEFAULT_PERIOD;
use crate::uri::{
    COMPONENT, TokenKind, TokenUri, decode_bytes, key_is, query_pairs, split_label, strip_scheme,
};

/// The longest export link accepted or produced, in bytes.
///
/// One QR code holds at most about 4.3 KB of text; Google's app splits larger exports into a
/// batch of several codes. The bound leaves room for a link that was percent-encoded twice
/// and keeps a hostile input from costing memory.
pub const MAX_MIGRATION_LEN: usize = 8192;

const SCHEME: &str = "otpauth-migration://";
const HOST: &str = "offline";

/// The tokens of one export QR code, with its place in the batch.
///
/// Google's app splits large exports across several QR codes; the user must scan all
/// `batch_size` of them. Links from other tools often leave the batch fields at 0.
/// Serializes (camelCase) without any secret, like [`TokenUri`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationBatch {
    /// The tokens, in the order of the export.
    pub tokens: Vec<TokenUri>,
    /// The format version written by the exporter (1 today).
    pub version: i32,
    /// How many QR codes the export has (0 when the exporter did not say).
    pub batch_size: u32,
    /// Which of them this is, counted from 0.
    pub batch_index: u32,
    /// An identifier shared by all QR codes of one export.
    pub batch_id: i32,
}

#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
struct Payload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<Parameters>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

// The enums are read as plain int32, which has the same wire encoding: unknown values then
// reach our own checks instead of being silently kept as numbers by prost.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
struct Parameters {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    #[prost(int32, tag = "4")]
    algorithm: i32,
    #[prost(int32, tag = "5")]
    digits: i32,
    #[prost(int32, tag = "6")]
    kind: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
}

impl Drop for Parameters {
    // Tokens that fail to import, and every token of an export, still hold key bytes here.
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

const ALGORITHM_UNSPECIFIED: i32 = 0;
const ALGORITHM_SHA1: i32 = 1;
const ALGORITHM_SHA256: i32 = 2;
const ALGORITHM_SHA512: i32 = 3;
const DIGITS_UNSPECIFIED: i32 = 0;
const DIGITS_SIX: i32 = 1;
const DIGITS_EIGHT: i32 = 2;
const TYPE_UNSPECIFIED: i32 = 0;
const TYPE_HOTP: i32 = 1;
const TYPE_TOTP: i32 = 2;

/// Reads a Google Authenticator export link, `otpauth-migration://offline?data=…`, and
/// returns its tokens with the batch information.
///
/// Lenient about how the link travelled: any case in the scheme, host and key; surrounding
/// white space; base64 with or without `=` padding, with spaces where `+` was read as a
/// form-encoded space, or in the URL-safe alphabet. Unspecified enum values take the schema's
/// defaults: SHA1, 6 digits and TOTP (the reconstructed proto2 schema declares
/// `type = 6 [default = TOTP]`, and TOTP is what the app exports unless the user added a
/// counter-based token). A name of the form `Issuer:account` is split like a Key URI label.
///
/// All or nothing: the first token that cannot be imported fails the whole link, with its
/// typed error — [`Error::UnknownAlgorithm`] (MD5 or an unknown value),
/// [`Error::InvalidDigits`] (a digit count other than six or eight),
/// [`Error::UnknownTokenType`], [`Error::EmptySecret`], [`Error::InvalidParameter`] (a negative
/// counter). A link that cannot be read fails with [`Error::TooLong`] (over
/// [`MAX_MIGRATION_LEN`]), [`Error::WrongScheme`], or [`Error::InvalidMigration`] (another
/// host, no `data`, not base64, not the protocol buffer, no tokens, an impossible batch index).
pub fn import_migration(link: &str) -> Result<MigrationBatch> {
    if link.len() > MAX_MIGRATION_LEN {
        return Err(Error::TooLong { max: MAX_MIGRATION_LEN });
    }
    let rest = strip_scheme(link.trim(), SCHEME).ok_or(Error::WrongScheme { expected: SCHEME })?;
    let rest = rest.split_once('#').map_or(rest, |(before, _fragment)| before);
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !host.trim_end_matches('/').eq_ignore_ascii_case(HOST) {
        return Err(Error::InvalidMigration("expected otpauth-migration://offline"));
    }
    let mut data: Option<Zeroizing<Vec<u8>>> = None;
    for (key, value) in query_pairs(query) {
        if !key_is(key, "data") {
            continue;
        }
        let text = base64_text(value);
        match &data {
            Some(first) if *first != text => {
                return Err(Error::InvalidMigration("the link has two different data parameters"));
            }
            Some(_) => {}
            None => data = Some(text),
        }
    }
    let text = data.ok_or(Error::InvalidMigration("the link has no data parameter"))?;
    let bytes = Zeroizing::new(
        core::str::from_utf8(text.as_slice())
            .ok()
            .and_then(|text| Base64Unpadded::decode_vec(text).ok())
            .ok_or(Error::InvalidMigration("the data is not base64"))?,
    );
    let mut payload = Payload::decode(bytes.as_slice())
        .map_err(|_| Error::InvalidMigration("the data is not an export payload"))?;
    if payload.otp_parameters.is_empty() {
        return Err(Error::InvalidMigration("the link holds no tokens"));
    }
    let batch_size = u32::try_from(payload.batch_size)
        .map_err(|_| Error::InvalidMigration("negative batch size"))?;
    let batch_index = u32::try_from(payload.batch_index)
        .ok()
        .filter(|index| batch_size == 0 || *index < batch_size)
        .ok_or(Error::InvalidMigration("the batch index is outside the batch"))?;
    let tokens = payload.otp_parameters.iter_mut().map(import_token).collect::<Result<_>>()?;
    Ok(MigrationBatch {
        tokens,
        version: payload.version,
        batch_size,
        batch_index,
        batch_id: payload.batch_id,
    })
}

/// The unpadded base64 text of a `data` value, undoing what links suffer on the way:
/// percent-encoding (without reading `+` as a space), a `+` already turned into a space by a
/// form decoder, line breaks, and the URL-safe alphabet.
fn base64_text(raw: &str) -> Zeroizing<Vec<u8>> {
    let mut text = decode_bytes(raw, false);
    text.retain(|b| !matches!(b, b'\r' | b'\n' | b'\t'));
    // Padding is optional (some tools drop it); the decoder takes none.
    while text.last() == Some(&b'=') {
        text.pop();
    }
    for b in text.iter_mut() {
        *b = match *b {
            b' ' | b'-' => b'+',
            b'_' => b'/',
            other => other,
        };
    }
    text
}

fn import_token(params: &mut Parameters) -> Result<TokenUri> {
    let algorithm = match params.algorithm {
        ALGORITHM_UNSPECIFIED | ALGORITHM_SHA1 => Algorithm::Sha1,
        ALGORITHM_SHA256 => Algorithm::Sha256,
        ALGORITHM_SHA512 => Algorithm::Sha512,
        _ => return Err(Error::UnknownAlgorithm),
    };
    let digits = match params.digits {
        DIGITS_UNSPECIFIED | DIGITS_SIX => MIN_DIGITS,
        DIGITS_EIGHT => 8,
        _ => return Err(Error::InvalidDigits { min: MIN_DIGITS, max: 8 }),
    };
    let kind = match params.kind {
        TYPE_UNSPECIFIED | TYPE_TOTP => TokenKind::Totp { period: DEFAULT_PERIOD },
        TYPE_HOTP => TokenKind::Hotp {
            counter: u64::try_from(params.counter)
                .map_err(|_| Error::InvalidParameter { name: "counter" })?,
        },
        _ => return Err(Error::UnknownTokenType),
    };
    // Moving the bytes out leaves nothing behind to wipe; `Secret` wipes them from now on.
    let secret = Secret::from_bytes(core::mem::take(&mut params.secret))?;
    let (issuer, account) = split_label(&params.name, Some(&params.issuer));
    TokenUri::build(kind, issuer, account, secret, algorithm, digits)
}

/// Writes tokens as one Google Authenticator export link (a batch of one QR code, version 1,
/// batch id 0), the inverse of [`import_migration`].
///
/// Only what the format can carry is accepted: TOTP with 30 s steps or HOTP, 6 or 8 digits
/// ([`Error::InvalidDigits`]), counters up to `i64::MAX` ([`Error::InvalidParameter`]). An
/// empty list or another period fails with [`Error::InvalidMigration`], and a link longer than
/// [`MAX_MIGRATION_LEN`] with [`Error::TooLong`]: split large exports yourself. The link
/// contains the secrets.
pub fn export_migration(tokens: &[TokenUri]) -> Result<String> {
    if tokens.is_empty() {
        return Err(Error::InvalidMigration("there are no tokens to export"));
    }
    let otp_parameters = tokens.iter().map(export_token).collect::<Result<_>>()?;
    let payload =
        Payload { otp_parameters, version: 1, batch_size: 1, batch_index: 0, batch_id: 0 };
    let bytes = Zeroizing::new(payload.encode_to_vec());
    let text = Zeroizing::new(Base64::encode_string(bytes.as_slice()));
    let link = format!("{SCHEME}{HOST}?data={}", utf8_percent_encode(&text, COMPONENT));
    if link.len() > MAX_MIGRATION_LEN {
        return Err(Error::TooLong { max: MAX_MIGRATION_LEN });
    }
    Ok(link)
}

fn export_token(token: &TokenUri) -> Result<Parameters> {
    let (kind, counter) = match token.kind() {
        TokenKind::Totp { period: DEFAULT_PERIOD } => (TYPE_TOTP, 0),
        TokenKind::Totp { .. } => {
            return Err(Error::InvalidMigration("the export format only has 30-second TOTP"));
        }
        TokenKind::Hotp { counter } => (
            TYPE_HOTP,
            i64::try_from(counter).map_err(|_| Error::InvalidParameter { name: "counter" })?,
        ),
    };
    let digits = match token.digits() {
        6 => DIGITS_SIX,
        8 => DIGITS_EIGHT,
        _ => return Err(Error::InvalidDigits { min: MIN_DIGITS, max: 8 }),
    };
    let algorithm = match token.algorithm() {
        Algorithm::Sha1 => ALGORITHM_SHA1,
        Algorithm::Sha256 => ALGORITHM_SHA256,
        Algorithm::Sha512 => ALGORITHM_SHA512,
    };
    Ok(Parameters {
        secret: token.secret().expose().to_vec(),
        // The label form, as Google's app writes it, so that older importers that ignore the
        // issuer field still show it.
        name: token.label(),
        issuer: token.issuer().unwrap_or_default().into(),
        algorithm,
        digits,
        kind,
        counter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public sample from dim13/otpauth: one TOTP token `Example:alice@google.com` with the
    /// secret `Hello!\xde\xad\xbe\xef` and no algorithm, digits or batch fields.
    const SAMPLE: &str = "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC";

    fn link(payload: &Payload) -> String {
        let text = Base64::encode_string(&payload.encode_to_vec());
        format!("otpauth-migration://offline?data={}", utf8_percent_encode(&text, COMPONENT))
    }

    fn params(kind: i32) -> Parameters {
        Parameters {
            secret: b"12345678901234567890".to_vec(),
            name: "Issuer:account".into(),
            issuer: String::new(),
            algorithm: 0,
            digits: 0,
            kind,
            counter: 0,
        }
    }

    fn payload(otp_parameters: Vec<Parameters>) -> Payload {
        Payload { otp_parameters, version: 1, batch_size: 1, batch_index: 0, batch_id: 7 }
    }

    #[test]
    fn the_public_sample_imports() {
        let batch = import_migration(SAMPLE).unwrap();
        let [token] = batch.tokens.as_slice() else { panic!("one token expected") };
        assert_eq!(token.issuer(), Some("Example"));
        assert_eq!(token.account(), "alice@google.com");
        assert_eq!(token.secret_base32(), "JBSWY3DPEHPK3PXP");
        assert_eq!(token.kind(), TokenKind::Totp { period: 30 });
        assert_eq!((batch.version, batch.batch_size, batch.batch_index), (0, 0, 0));
    }

    #[test]
    fn unspecified_values_take_the_schema_defaults() {
        let batch = import_migration(&link(&payload(vec![params(0)]))).unwrap();
        let [token] = batch.tokens.as_slice() else { panic!("one token expected") };
        assert_eq!(token.kind(), TokenKind::Totp { period: 30 });
        assert_eq!((token.algorithm(), token.digits()), (Algorithm::Sha1, 6));
        assert_eq!((token.issuer(), token.account()), (Some("Issuer"), "account"));
        assert_eq!((batch.batch_size, batch.batch_index, batch.batch_id), (1, 0, 7));
    }

    #[test]
    fn sloppy_transport_of_the_data_is_undone() {
        // A secret whose payload's base64 text holds `+`, `/` and padding, the characters that
        // suffer in transport.
        let text = (0u8..=255)
            .map(|b| {
                let mut p = params(TYPE_HOTP);
                p.secret = vec![0xfb, 0xef, 0xff, b, 0xfe, 0xbf, 0xfb];
                p.counter = 5;
                Base64::encode_string(&payload(vec![p]).encode_to_vec())
            })
            .find(|text| text.contains('+') && text.contains('/') && text.ends_with('='))
            .unwrap();
        let expected = import_migration(&format!("otpauth-migration://offline?data={text}"));
        let expected = expected.unwrap();
        for variant in [
            utf8_percent_encode(&text, COMPONENT).to_string(),
            text.replace('+', " "),
            text.replace('+', "%20"),
            text.trim_end_matches('=').to_string(),
            text.replace('+', "-").replace('/', "_"),
            format!("{}\n{}", &text[..8], &text[8..]),
        ] {
            for prefix in
                ["otpauth-migration://offline?data=", " OTPAUTH-MIGRATION://Offline/?DATA="]
            {
                let batch = import_migration(&format!("{prefix}{variant}")).unwrap();
                assert_eq!(batch, expected, "{prefix}{variant}");
            }
        }
    }

    #[test]
    fn export_round_trips() {
        let uris = [
            "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&digits=8",
            "otpauth://hotp/bob?secret=GEZDGNBVGY3TQOJQ&counter=42&algorithm=SHA512",
            "otpauth://totp/:a:b?secret=GEZDGNBVGY3TQOJQ&algorithm=SHA256",
        ];
        let tokens: Vec<TokenUri> = uris.iter().map(|u| u.parse().unwrap()).collect();
        let batch = import_migration(&export_migration(&tokens).unwrap()).unwrap();
        assert_eq!(batch.tokens, tokens);
        assert_eq!((batch.version, batch.batch_size, batch.batch_index), (1, 1, 0));
    }

    #[test]
    fn export_refuses_what_the_format_cannot_carry() {
        let token = |uri: &str| uri.parse::<TokenUri>().unwrap();
        let base = "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP";
        assert_eq!(
            export_migration(&[token(&format!("{base}&digits=7"))]),
            Err(Error::InvalidDigits { min: 6, max: 8 })
        );
        assert!(matches!(
            export_migration(&[token(&format!("{base}&period=60"))]),
            Err(Error::InvalidMigration(_))
        ));
        assert!(matches!(export_migration(&[]), Err(Error::InvalidMigration(_))));
        let hotp = token(&format!("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter={}", u64::MAX));
        assert_eq!(export_migration(&[hotp]), Err(Error::InvalidParameter { name: "counter" }));
        let many = vec![token(base); 400];
        assert_eq!(export_migration(&many), Err(Error::TooLong { max: MAX_MIGRATION_LEN }));
    }

    #[test]
    fn malformed_links_get_typed_errors_and_never_panic() {
        let bad = |p: Payload| import_migration(&link(&p));
        let with = |f: fn(&mut Parameters)| {
            let mut p = params(TYPE_TOTP);
            f(&mut p);
            bad(payload(vec![p]))
        };
        assert_eq!(with(|p| p.algorithm = 4), Err(Error::UnknownAlgorithm));
        assert_eq!(with(|p| p.algorithm = -1), Err(Error::UnknownAlgorithm));
        assert_eq!(with(|p| p.digits = 3), Err(Error::InvalidDigits { min: 6, max: 8 }));
        assert_eq!(with(|p| p.kind = 3), Err(Error::UnknownTokenType));
        assert_eq!(with(|p| p.secret.clear()), Err(Error::EmptySecret));
        assert_eq!(
            with(|p| {
                p.kind = TYPE_HOTP;
                p.counter = -1;
            }),
            Err(Error::InvalidParameter { name: "counter" })
        );
        let mut p = payload(vec![params(TYPE_TOTP)]);
        p.batch_index = 1;
        assert!(matches!(bad(p), Err(Error::InvalidMigration(_))));
        assert!(matches!(bad(payload(vec![])), Err(Error::InvalidMigration(_))));

        for link in [
            "",
            "otpauth-migration://",
            "otpauth-migration://online?data=CjEKCkhlbGxv",
            "otpauth-migration://offline",
            "otpauth-migration://offline?data=",
            "otpauth-migration://offline?data=!!!!",
            "otpauth-migration://offline?data=CjEKCkhlbGxv",
            "otpauth-migration://offline?data=AAAA&data=BBBB",
        ] {
            assert!(
                matches!(
                    import_migration(link),
                    Err(Error::InvalidMigration(_) | Error::WrongScheme { .. })
                ),
                "{link}"
            );
        }
        assert_eq!(
            import_migration(&format!("{SAMPLE}{}", "A".repeat(MAX_MIGRATION_LEN))),
            Err(Error::TooLong { max: MAX_MIGRATION_LEN })
        );

        // Random changes to a valid payload, before and after base64: no panic, whatever the
        // outcome.
        let valid = payload(vec![params(TYPE_TOTP), params(TYPE_HOTP)]).encode_to_vec();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % 1_000_003).unwrap()
        };
        for round in 0..3000 {
            let mut bytes = valid.clone();
            for _ in 0..=next() % 3 {
                let at = next() % bytes.len();
                bytes[at] = u8::try_from(next() % 256).unwrap();
            }
            let mut text = Base64::encode_string(&bytes);
            if round % 2 == 0 {
                let at = next() % text.len();
                text.replace_range(at..=at, ["%", "%FF", "=", "&", "é", ""][next() % 6]);
            }
            let _ = import_migration(&format!("otpauth-migration://offline?data={text}"));
        }
    }
}
