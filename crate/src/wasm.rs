//! The JavaScript binding: the only place with `#[wasm_bindgen]`.
//!
//! It converts between JavaScript values and the core's types and does nothing else. Times
//! arrive as JavaScript milliseconds and randomness comes from `crypto.getRandomValues` through
//! `getrandom`; the core itself never reads a clock or a random source. Errors become
//! JavaScript `Error` objects whose `code` property is [`Error::code`], so callers switch on
//! `err.code`, never on the message.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{Algorithm, Error, Hotp, Secret, Totp};
#[cfg(feature = "wasm-tools")]
use crate::{OcraInput, OcraSuite};
#[cfg(feature = "wasm-tools")]
use crate::{TokenKind, TokenUri, Window};

/// Converts a core error into a JavaScript `Error` with `name` `PushOtpError` and a `code`.
fn js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    js.set_name("PushOtpError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(err.code()));
    js.into()
}

/// An error for a JavaScript value of the wrong shape.
fn shape_error(what: &'static str) -> JsValue {
    js_error(Error::InvalidParameter { name: what })
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
#[cfg(feature = "wasm-tools")]
const MAX_SAFE_INTEGER_U64: u64 = (1 << 53) - 1;

/// A JavaScript number that must be a whole, non-negative, exactly representable integer.
fn whole(value: f64, name: &'static str) -> Result<u64, JsValue> {
    if (0.0..=MAX_SAFE_INTEGER).contains(&value) && value.fract() == 0.0 {
        // Checked above: integral and within u64 range.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(value as u64)
    } else {
        Err(shape_error(name))
    }
}

/// Unix milliseconds (as from `Date.now()`) to whole Unix seconds.
fn unix_secs(ms: f64) -> Result<u64, JsValue> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(shape_error("time"));
    }
    whole((ms / 1000.0).floor(), "time")
}

/// A token as JavaScript sees it. `secret` is base32. Other properties (an id, a label the
/// extension keeps beside the token) are ignored.
#[cfg(feature = "wasm-tools")]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsToken {
    #[serde(rename = "type")]
    kind: JsKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(default)]
    account: String,
    secret: String,
    #[serde(default)]
    algorithm: Algorithm,
    #[serde(default = "default_digits")]
    digits: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum JsKind {
    Totp,
    Hotp,
}

fn default_digits() -> u8 {
    6
}

#[cfg(feature = "wasm-tools")]
fn token_from_js(value: JsValue) -> Result<TokenUri, JsValue> {
    let token: JsToken = serde_wasm_bindgen::from_value(value).map_err(|_| shape_error("token"))?;
    let kind = match token.kind {
        JsKind::Totp => TokenKind::Totp { period: token.period.unwrap_or(crate::DEFAULT_PERIOD) },
        JsKind::Hotp => TokenKind::Hotp { counter: token.counter.unwrap_or(0) },
    };
    let secret = Secret::from_base32(&token.secret).map_err(js_error)?;
    TokenUri::new(kind, token.issuer, token.account, secret, token.algorithm, token.digits)
        .map_err(js_error)
}

#[cfg(feature = "wasm-tools")]
fn token_to_js(token: &TokenUri) -> Result<JsValue, JsValue> {
    let (kind, period, counter) = match token.kind() {
        TokenKind::Totp { period } => (JsKind::Totp, Some(period), None),
        // JavaScript numbers hold integers exactly only up to 2^53 - 1; a larger counter
        // would come back as a different one.
        TokenKind::Hotp { counter } if counter > MAX_SAFE_INTEGER_U64 => {
            return Err(shape_error("counter"));
        }
        TokenKind::Hotp { counter } => (JsKind::Hotp, None, Some(counter)),
    };
    let js = JsToken {
        kind,
        issuer: token.issuer().map(str::to_owned),
        account: token.account().to_owned(),
        secret: token.secret_base32(),
        algorithm: token.algorithm(),
        digits: token.digits(),
        period,
        counter,
    };
    js.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error("token"))
}

/// A token object's secret and code parameters, without the label rules of a full Key URI: the
/// worker's module only computes codes, and leaving `TokenUri` out keeps it small.
struct Codes {
    secret: Secret,
    kind: JsKind,
    algorithm: Algorithm,
    digits: u8,
    period: u64,
}

#[wasm_bindgen]
extern "C" {
    /// A token object as the extension passes it, read property by property: direct property
    /// reads are much cheaper than a generic conversion (`serde-wasm-bindgen` looks each field
    /// up by name and checks its type in several calls), and leave its deserializer, with its
    /// error messages and float formatting, out of the worker's module.
    type TokenObject;
    #[wasm_bindgen(method, getter, js_name = type)]
    fn kind(this: &TokenObject) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn secret(this: &TokenObject) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn algorithm(this: &TokenObject) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn digits(this: &TokenObject) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn period(this: &TokenObject) -> JsValue;
}

thread_local! {
    /// `type` and `algorithm` values, made once per module instance.
    static NAMES: [JsValue; 5] = ["totp", "hotp", "SHA1", "SHA256", "SHA512"].map(JsValue::from_str);
}

const ALGORITHMS: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

/// A whole, non-negative number property of a token; anything else is `invalid_parameter`.
fn integer(value: JsValue) -> Result<u64, JsValue> {
    // `Number.isInteger` and a direct read: no conversion through the module's memory.
    if js_sys::Number::is_integer(&value) {
        whole(value.unchecked_into_f64(), "token")
    } else {
        Err(shape_error("token"))
    }
}

/// A property that may be left out: `undefined` and `null` read as absent.
fn given(value: JsValue) -> Option<JsValue> {
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// The code parameters of a token object (`type`, `secret`, `algorithm`, `digits`, `period`);
/// other properties are ignored. Values of the wrong type are `invalid_parameter` (`token`);
/// values of the right type but out of range are left to the generators' own errors.
fn codes_from_js(value: &JsValue) -> Result<Codes, JsValue> {
    // Reading a property of `null` or `undefined` would throw a TypeError instead of our error.
    if !value.is_object() {
        return Err(shape_error("token"));
    }
    let token: &TokenObject = value.unchecked_ref();
    // The names are compared as JavaScript strings (one `===` each) rather than copied into
    // the module: only the secret is copied.
    let kind = NAMES.with(|names| {
        let kind = token.kind();
        if kind == names[0] {
            Ok(JsKind::Totp)
        } else if kind == names[1] {
            Ok(JsKind::Hotp)
        } else {
            Err(shape_error("token"))
        }
    })?;
    let secret = token.secret().as_string().ok_or_else(|| shape_error("token"))?;
    let algorithm = match given(token.algorithm()) {
        None => Algorithm::Sha1,
        Some(name) => NAMES.with(|names| {
            ALGORITHMS
                .iter()
                .zip(&names[2..])
                .find_map(|(algorithm, known)| (name == *known).then_some(*algorithm))
                .ok_or_else(|| shape_error("token"))
        })?,
    };
    let digits = match given(token.digits()) {
        None => default_digits(),
        // Any count above 10 is refused by the generator as `invalid_digits`.
        Some(digits) => u8::try_from(integer(digits)?).unwrap_or(u8::MAX),
    };
    let period = match given(token.period()) {
        None => crate::DEFAULT_PERIOD,
        Some(period) => integer(period)?,
    };
    Ok(Codes {
        secret: Secret::from_base32(&secret).map_err(js_error)?,
        kind,
        algorithm,
        digits,
        period,
    })
}

impl Codes {
    fn totp(&self) -> Result<Totp, JsValue> {
        if self.kind != JsKind::Totp {
            return Err(shape_error("type"));
        }
        Totp::new(self.algorithm, self.digits, self.period, 0).map_err(js_error)
    }

    fn hotp(&self) -> Result<Hotp, JsValue> {
        if self.kind != JsKind::Hotp {
            return Err(shape_error("type"));
        }
        Hotp::new(self.algorithm, self.digits).map_err(js_error)
    }
}

#[cfg(feature = "wasm-tools")]
/// Parses an `otpauth://` Key URI (also a sloppy one from a real QR code) into a token object.
#[wasm_bindgen(js_name = parseUri)]
pub fn parse_uri(uri: &str) -> Result<JsValue, JsValue> {
    token_to_js(&uri.parse::<TokenUri>().map_err(js_error)?)
}

#[cfg(feature = "wasm-tools")]
/// Writes a token object as a canonical `otpauth://` Key URI. The URI holds the secret.
#[wasm_bindgen(js_name = formatUri)]
pub fn format_uri(token: JsValue) -> Result<String, JsValue> {
    Ok(token_from_js(token)?.to_string())
}

#[cfg(feature = "wasm-tools")]
/// The text of every QR code in an RGBA image of `width` by `height` pixels, as an array of
/// strings (empty when there is none). `rgba` is the `data` of a canvas `ImageData` (a
/// `Uint8ClampedArray`) or any `Uint8Array` of `width * height * 4` bytes; it is copied into
/// the module. Transparent pixels count as white; codes whose payload is not UTF-8 text are
/// left out. Throws `invalid_image` when the sizes do not fit together or a side is over 8192
/// pixels.
#[wasm_bindgen(js_name = decodeQr)]
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Result<Vec<String>, JsValue> {
    crate::decode_qr(rgba, width, height).map_err(js_error)
}

#[cfg(feature = "wasm-tools")]
/// Imports every token of a Google Authenticator export link (`otpauth-migration://offline`):
/// `{ tokens, batchIndex, batchSize, batchId, version }`.
#[wasm_bindgen(js_name = importMigration)]
pub fn import_migration(link: &str) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Batch {
        #[serde(with = "serde_wasm_bindgen::preserve")]
        tokens: js_sys::Array,
        batch_index: u32,
        batch_size: u32,
        batch_id: i32,
        version: i32,
    }
    let batch = crate::import_migration(link).map_err(js_error)?;
    let tokens = js_sys::Array::new();
    for token in &batch.tokens {
        tokens.push(&token_to_js(token)?);
    }
    let out = Batch {
        tokens,
        batch_index: batch.batch_index,
        batch_size: batch.batch_size,
        batch_id: batch.batch_id,
        version: batch.version,
    };
    out.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error("batch"))
}

#[cfg(feature = "wasm-tools")]
/// The inputs of an OCRA computation as JavaScript passes them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsOcraInput {
    /// One challenge, or two for mutual challenge-response (RFC 6287 §7.3).
    question: Questions,
    #[serde(default)]
    counter: Option<u64>,
    /// The PIN in clear; the suite's hash is applied here.
    #[serde(default)]
    pin: Option<String>,
    /// Session information as hex.
    #[serde(default)]
    session: Option<String>,
    /// The time as Unix milliseconds; converted to the suite's time steps.
    #[serde(default)]
    time_ms: Option<f64>,
}

#[cfg(feature = "wasm-tools")]
#[derive(Deserialize)]
#[serde(untagged)]
enum Questions {
    One(String),
    Two(String, String),
}

#[cfg(feature = "wasm-tools")]
/// An OCRA response (RFC 6287 §5.2) of `suite` with the hex `keyHex` for `input`:
/// `{ question, counter?, pin?, session?, timeMs? }`.
#[wasm_bindgen(js_name = ocra)]
pub fn ocra(suite: &str, key_hex: &str, input: JsValue) -> Result<String, JsValue> {
    let suite: OcraSuite = suite.parse().map_err(js_error)?;
    let key = base16ct::mixed::decode_vec(key_hex)
        .map_err(|_| shape_error("key"))
        .and_then(|bytes| Secret::from_bytes(bytes).map_err(js_error))?;
    let given: JsOcraInput =
        serde_wasm_bindgen::from_value(input).map_err(|_| shape_error("input"))?;
    let mut input = match given.question {
        Questions::One(q) => OcraInput::new().question(q),
        Questions::Two(first, second) => OcraInput::new().mutual_question(first, second),
    };
    if let Some(counter) = given.counter {
        input = input.counter(counter);
    }
    if let Some(pin) = &given.pin {
        input = input.pin_hash(suite.hash_pin(pin).map_err(js_error)?);
    }
    if let Some(session) = &given.session {
        input = input
            .session(base16ct::mixed::decode_vec(session).map_err(|_| shape_error("session"))?);
    }
    if let Some(ms) = given.time_ms {
        let step = suite.time_step().ok_or_else(|| js_error(Error::InvalidOcraInput("T")))?;
        let steps =
            step.steps(unix_secs(ms)?).ok_or_else(|| js_error(Error::InvalidOcraInput("T")))?;
        input = input.timestamp(steps);
    }
    suite.compute(&key, &input).map_err(js_error)
}

/// The TOTP code (RFC 6238 §4.2) of `token` at `unixMs` milliseconds since the epoch.
#[wasm_bindgen(js_name = totp)]
pub fn totp(token: JsValue, unix_ms: f64) -> Result<String, JsValue> {
    let token = codes_from_js(&token)?;
    token.totp()?.generate(&token.secret, unix_secs(unix_ms)?).map_err(js_error)
}

/// The TOTP codes (RFC 6238 §4.2) of many tokens at `unixMs`, in one call: element `i` is the
/// code of `tokens[i]` as a number, without its leading zeros, so pad it to the token's
/// `digits` (`String(n).padStart(digits, '0')`). One call instead of one per token, and no
/// string per code, is what makes a list of codes cheap: crossing into WebAssembly and back
/// costs more than an HMAC. Throws the error of the first token that has one, like `totp`.
#[wasm_bindgen(js_name = totpCodes)]
pub fn totp_codes(tokens: Vec<JsValue>, unix_ms: f64) -> Result<Vec<u32>, JsValue> {
    let at = unix_secs(unix_ms)?;
    let mut codes = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let token = codes_from_js(token)?;
        // One code per token: keying it costs what the plain path does (plus one copy of the
        // keyed state), and the keyed token gives the code as a number.
        codes.push(token.totp()?.keyed(&token.secret).generate_number(at).map_err(js_error)?);
    }
    Ok(codes)
}

/// The HOTP code (RFC 4226 §5.3) of `token` for `counter`.
#[wasm_bindgen(js_name = hotp)]
pub fn hotp(token: JsValue, counter: f64) -> Result<String, JsValue> {
    let token = codes_from_js(&token)?;
    Ok(token.hotp()?.generate(&token.secret, whole(counter, "counter")?))
}

#[cfg(feature = "wasm-tools")]
/// Seconds until the TOTP code of `token` shown at `unixMs` changes.
#[wasm_bindgen(js_name = secondsLeft)]
pub fn seconds_left(token: JsValue, unix_ms: f64) -> Result<f64, JsValue> {
    let token = codes_from_js(&token)?;
    let left = token.totp()?.seconds_left(unix_secs(unix_ms)?).map_err(js_error)?;
    // At most one day (MAX_PERIOD), exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(left as f64)
}

#[cfg(feature = "wasm-tools")]
/// Verifies a TOTP code within `behind` and `ahead` steps of `unixMs` (RFC 6238 §5.2) and
/// returns the matching time step, or `undefined`.
#[wasm_bindgen(js_name = verifyTotp)]
pub fn verify_totp(
    token: JsValue,
    code: &str,
    unix_ms: f64,
    behind: f64,
    ahead: f64,
) -> Result<Option<f64>, JsValue> {
    let token = codes_from_js(&token)?;
    let window = Window { behind: whole(behind, "behind")?, ahead: whole(ahead, "ahead")? };
    let step =
        token.totp()?.verify(&token.secret, code, unix_secs(unix_ms)?, window).map_err(js_error)?;
    Ok(step.map(to_f64))
}

#[cfg(feature = "wasm-tools")]
/// Verifies an HOTP code against `counter ..= counter + lookAhead` (RFC 4226 §7.4) and returns
/// the matching counter, or `undefined`.
#[wasm_bindgen(js_name = verifyHotp)]
pub fn verify_hotp(
    token: JsValue,
    code: &str,
    counter: f64,
    look_ahead: f64,
) -> Result<Option<f64>, JsValue> {
    let token = codes_from_js(&token)?;
    let matched = token
        .hotp()?
        .verify(&token.secret, code, whole(counter, "counter")?, whole(look_ahead, "lookAhead")?)
        .map_err(js_error)?;
    Ok(matched.map(to_f64))
}

#[cfg(feature = "wasm-tools")]
/// Counters and steps reach JavaScript as numbers; the core's inputs came from JavaScript
/// numbers, so they stay below 2^53.
#[allow(clippy::cast_precision_loss)]
fn to_f64(value: u64) -> f64 {
    value as f64
}

#[cfg(feature = "wasm-tools")]
/// A fresh random secret of `bytes` bytes (16 to 64), as base32, from the browser's CSPRNG.
#[wasm_bindgen(js_name = randomSecret)]
pub fn random_secret(bytes: f64) -> Result<String, JsValue> {
    let len = whole(bytes, "bytes")?;
    if !(16..=64).contains(&len) {
        return Err(shape_error("bytes"));
    }
    let mut buf = vec![0u8; usize::try_from(len).map_err(|_| shape_error("bytes"))?];
    getrandom::fill(&mut buf).map_err(|_| shape_error("random"))?;
    Ok(Secret::from_bytes(buf).map_err(js_error)?.to_base32())
}

// The push protocol (docs/protocol.md). Keys travel between JavaScript and WebAssembly as
// unpadded base64url strings; messages as plain objects (the JSON of the wire format, parsed and
// serialized by the caller).

fn key_from_js(b64: &str, name: &'static str) -> Result<Secret, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let bytes = Base64UrlUnpadded::decode_vec(b64).map_err(|_| shape_error(name))?;
    Secret::from_bytes(bytes).map_err(js_error)
}

#[cfg(feature = "wasm-tools")]
fn key_to_js(key: &Secret) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(key.expose())
}

fn to_js<T: Serialize>(value: &T, what: &'static str) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error(what))
}

fn request_from_js(request: JsValue) -> Result<crate::push::PushRequest, JsValue> {
    serde::Deserialize::deserialize(plain::Value(request))
        .map_err(|_| js_error(Error::InvalidMessage("request")))
}

/// A `serde` deserializer over plain JavaScript values, for the messages the worker's module
/// reads (push requests, Web Push subscriptions).
///
/// `serde-wasm-bindgen` would do, but its errors are messages: building them formats every
/// kind of unexpected value, floats included, and that formatting machinery was about 20 KB of
/// the worker's module. Here an error is only "this value does not fit", which is all the
/// binding reports anyway (`invalid_message`, `invalid_parameter`). The rules are those of the
/// wire JSON: numbers must be whole and exact for integer fields, arrays must have exactly the
/// expected length, `undefined` and `null` are both "absent".
mod plain {
    use core::fmt;

    use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
    use wasm_bindgen::JsValue;

    /// A value that does not fit the type asked for. Deliberately without detail (see above).
    #[derive(Debug)]
    pub(super) struct Unfit;

    impl fmt::Display for Unfit {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value does not fit")
        }
    }

    impl std::error::Error for Unfit {}

    impl de::Error for Unfit {
        // The message is dropped unformatted: that is the point of this deserializer.
        fn custom<T: fmt::Display>(_message: T) -> Self {
            Self
        }
    }

    type Result<T> = core::result::Result<T, Unfit>;

    /// One JavaScript value to deserialize.
    pub(super) struct Value(pub(super) JsValue);

    impl Value {
        fn absent(&self) -> bool {
            self.0.is_undefined() || self.0.is_null()
        }

        /// A whole number within `-(2^53 - 1) ..= 2^53 - 1`, the integers a JavaScript number
        /// holds exactly.
        fn integer(&self) -> Result<f64> {
            match self.0.as_f64() {
                Some(n) if n.fract() == 0.0 && n.abs() <= super::MAX_SAFE_INTEGER => Ok(n),
                _ => Err(Unfit),
            }
        }

        fn array(self) -> Result<Seq> {
            if js_sys::Array::is_array(&self.0) {
                let array = js_sys::Array::from(&self.0);
                Ok(Seq { len: array.length(), array, next: 0 })
            } else {
                Err(Unfit)
            }
        }
    }

    impl<'de> de::Deserializer<'de> for Value {
        type Error = Unfit;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            if self.absent() {
                visitor.visit_unit()
            } else if let Some(b) = self.0.as_bool() {
                visitor.visit_bool(b)
            } else if let Some(n) = self.0.as_f64() {
                visitor.visit_f64(n)
            } else if let Some(s) = self.0.as_string() {
                visitor.visit_string(s)
            } else if js_sys::Array::is_array(&self.0) {
                self.deserialize_seq(visitor)
            } else {
                self.deserialize_map(visitor)
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            if self.absent() { visitor.visit_none() } else { visitor.visit_some(self) }
        }

        fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let n = self.integer()?;
            if n < 0.0 {
                return Err(Unfit);
            }
            // Whole and below 2^53, checked above.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            visitor.visit_u64(n as u64)
        }

        fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            // Whole and within ±2^53, checked.
            #[allow(clippy::cast_possible_truncation)]
            visitor.visit_i64(self.integer()? as i64)
        }

        fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_u64(visitor)
        }

        fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_u64(visitor)
        }

        fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_u64(visitor)
        }

        fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_i64(visitor)
        }

        fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_i64(visitor)
        }

        fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_i64(visitor)
        }

        fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            visitor.visit_string(self.0.as_string().ok_or(Unfit)?)
        }

        fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_str(visitor)
        }

        fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let mut seq = self.array()?;
            let value = visitor.visit_seq(&mut seq)?;
            // Like JSON parsers: elements left over are an error, not ignored.
            if seq.next == seq.len { Ok(value) } else { Err(Unfit) }
        }

        fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            if !self.0.is_object() || js_sys::Array::is_array(&self.0) {
                return Err(Unfit);
            }
            let keys = js_sys::Object::keys(self.0.unchecked_ref::<js_sys::Object>());
            visitor.visit_map(Map {
                len: keys.length(),
                keys,
                object: self.0,
                next: 0,
                value: None,
            })
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value> {
            self.deserialize_map(visitor)
        }

        serde::forward_to_deserialize_any! {
            bool i128 u128 f32 f64 char bytes byte_buf unit unit_struct newtype_struct
            tuple_struct enum identifier ignored_any
        }
    }

    use wasm_bindgen::JsCast;

    struct Seq {
        array: js_sys::Array,
        len: u32,
        next: u32,
    }

    impl<'de> SeqAccess<'de> for Seq {
        type Error = Unfit;

        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>> {
            if self.next == self.len {
                return Ok(None);
            }
            let item = self.array.get(self.next);
            self.next += 1;
            seed.deserialize(Value(item)).map(Some)
        }
    }

    /// The own enumerable properties of an object, as `Object.keys` lists them.
    struct Map {
        keys: js_sys::Array,
        object: JsValue,
        len: u32,
        next: u32,
        value: Option<JsValue>,
    }

    impl<'de> MapAccess<'de> for Map {
        type Error = Unfit;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
            if self.next == self.len {
                return Ok(None);
            }
            let key = self.keys.get(self.next);
            self.next += 1;
            self.value = Some(js_sys::Reflect::get(&self.object, &key).map_err(|_| Unfit)?);
            let key = key.as_string().ok_or(Unfit)?;
            seed.deserialize(IntoDeserializer::<Unfit>::into_deserializer(key)).map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
            seed.deserialize(Value(self.value.take().ok_or(Unfit)?))
        }
    }
}

/// Checks a push login request (protocol §4) under the token's `K_req` at `nowMs`: version,
/// field rules, tag, then validity window. Returns nothing; throws `bad_tag`, `expired`,
/// `not_yet_valid`, `unsupported_version` or `invalid_message`.
#[wasm_bindgen(js_name = verifyPushRequest)]
pub fn verify_push_request(request: JsValue, k_req: &str, now_ms: f64) -> Result<(), JsValue> {
    let request = request_from_js(request)?;
    request.verify(&key_from_js(k_req, "kReq")?, unix_secs(now_ms)?).map_err(js_error)
}

/// An approval of `request` (protocol §5): `number` is the picked choice (or `null` without
/// number matching), `passcode` the token's next passcode; `kAns` is the (PIN-unmasked) answer
/// key. Returns the answer object to send.
#[wasm_bindgen(js_name = approveAnswer)]
pub fn approve_answer(
    request: JsValue,
    number: Option<u8>,
    passcode: &str,
    now_ms: f64,
    k_chan: &str,
    k_ans: &str,
) -> Result<JsValue, JsValue> {
    let request = request_from_js(request)?;
    let answer = crate::push::Answer::approve(
        &request,
        number,
        passcode,
        unix_secs(now_ms)?,
        &key_from_js(k_chan, "kChan")?,
        &key_from_js(k_ans, "kAns")?,
    )
    .map_err(js_error)?;
    to_js(&answer, "answer")
}

/// A denial of `request` (protocol §5), or with `report` a report of a login the person did not
/// make. Needs no PIN.
#[wasm_bindgen(js_name = denyAnswer)]
pub fn deny_answer(
    request: JsValue,
    report: bool,
    now_ms: f64,
    k_chan: &str,
) -> Result<JsValue, JsValue> {
    let request = request_from_js(request)?;
    let k_chan = key_from_js(k_chan, "kChan")?;
    let at = unix_secs(now_ms)?;
    let answer = if report {
        crate::push::Answer::report(&request, at, &k_chan)
    } else {
        crate::push::Answer::deny(&request, at, &k_chan)
    };
    to_js(&answer, "answer")
}

/// The HOTP passcode (RFC 4226) of a push token for `counter`, from its `K_otp`.
#[wasm_bindgen(js_name = pushPasscode)]
pub fn push_passcode(
    k_otp: &str,
    algorithm: &str,
    digits: u8,
    counter: f64,
) -> Result<String, JsValue> {
    let hotp = Hotp::new(algorithm.parse().map_err(js_error)?, digits).map_err(js_error)?;
    Ok(hotp.generate(&key_from_js(k_otp, "kOtp")?, whole(counter, "counter")?))
}

fn tag_to_js(tag: &crate::push::Tag) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(tag)
}

/// The channel log-in tag for the server's WebSocket challenge `nonce` (protocol §7).
#[wasm_bindgen(js_name = channelAuthTag)]
pub fn channel_auth_tag(k_chan: &str, token_id: &str, nonce: &str) -> Result<String, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let nonce: crate::push::Nonce = Base64UrlUnpadded::decode_vec(nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| shape_error("nonce"))?;
    Ok(tag_to_js(&crate::push::channel_auth_tag(&key_from_js(k_chan, "kChan")?, token_id, &nonce)))
}

/// The tag of a poll (`purpose` `"poll"`) or a removal (`"remove"`) at `atSecs` (protocol §7).
#[wasm_bindgen(js_name = signedAt)]
pub fn signed_at(
    purpose: &str,
    k_chan: &str,
    token_id: &str,
    at_secs: f64,
) -> Result<String, JsValue> {
    let k_chan = key_from_js(k_chan, "kChan")?;
    let at = whole(at_secs, "at")?;
    let tag = match purpose {
        "poll" => crate::push::poll_tag(&k_chan, token_id, at),
        "remove" => crate::push::remove_tag(&k_chan, token_id, at),
        _ => return Err(shape_error("purpose")),
    };
    Ok(tag_to_js(&tag))
}

/// The tag of a Web Push registration (protocol §7); `subscription` is
/// `{ endpoint, keys: { p256dh, auth } }`.
#[wasm_bindgen(js_name = webPushTag)]
pub fn web_push_tag(
    k_chan: &str,
    token_id: &str,
    at_secs: f64,
    subscription: JsValue,
) -> Result<String, JsValue> {
    let subscription: crate::push::WebPushSubscription =
        serde::Deserialize::deserialize(plain::Value(subscription))
            .map_err(|_| shape_error("subscription"))?;
    let tag = crate::push::webpush_tag(
        &key_from_js(k_chan, "kChan")?,
        token_id,
        whole(at_secs, "at")?,
        &subscription,
    );
    Ok(tag_to_js(&tag))
}

/// Starts enrollment from an activation link (protocol §3): checks it has not expired at
/// `nowMs` and returns `{ server, tokenId, request }`, `request` being the body to POST to
/// `{server}/api/v1/enroll` (with a fresh random device nonce).
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = enrollRequest)]
pub fn enroll_request(link: &str, device_name: &str, now_ms: f64) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Started {
        server: String,
        token_id: String,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        request: JsValue,
    }
    let link: crate::push::ActivationLink = link.parse().map_err(js_error)?;
    link.check_expiry(unix_secs(now_ms)?).map_err(js_error)?;
    let mut nonce: crate::push::Nonce = [0; 16];
    getrandom::fill(&mut nonce).map_err(|_| shape_error("random"))?;
    let request = crate::push::EnrollRequest::new(&link, device_name, nonce).map_err(js_error)?;
    to_js(
        &Started {
            server: link.server().into(),
            token_id: link.token_id().into(),
            request: to_js(&request, "request")?,
        },
        "enrollment",
    )
}

/// Finishes enrollment: checks the server's answer `enrolled` to `request` under the link's
/// activation secret and returns what the device stores: `{ tokenId, tokenName, user, issuer,
/// otp, pin, keys: { otp, request, answer, channel } }` (keys as base64url). Throws `bad_tag`
/// when the answer was changed on the way.
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = completeEnrollment)]
pub fn complete_enrollment(
    link: &str,
    request: JsValue,
    enrolled: JsValue,
) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Keys {
        otp: String,
        request: String,
        answer: String,
        channel: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Stored<'a> {
        token_id: &'a str,
        token_name: &'a str,
        user: &'a str,
        issuer: &'a str,
        otp: &'a crate::push::OtpParams,
        pin: &'a crate::push::PinPolicy,
        keys: Keys,
    }
    let link: crate::push::ActivationLink = link.parse().map_err(js_error)?;
    let request: crate::push::EnrollRequest = serde_wasm_bindgen::from_value(request)
        .map_err(|_| js_error(Error::InvalidMessage("request")))?;
    let enrolled: crate::push::Enrolled = serde_wasm_bindgen::from_value(enrolled)
        .map_err(|_| js_error(Error::InvalidMessage("enrolled")))?;
    let keys = enrolled.verify(link.secret(), &request).map_err(js_error)?;
    to_js(
        &Stored {
            token_id: &enrolled.token_id,
            token_name: &enrolled.token_name,
            user: &enrolled.user,
            issuer: &enrolled.issuer,
            otp: &enrolled.otp,
            pin: &enrolled.pin,
            keys: Keys {
                otp: key_to_js(&keys.otp),
                request: key_to_js(&keys.request),
                answer: key_to_js(&keys.answer),
                channel: key_to_js(&keys.channel),
            },
        },
        "token",
    )
}

/// Masks a PIN token's `K_otp` and `K_ans` under `pin` (protocol §6, Argon2id) with a fresh
/// random salt; returns the object to store instead of the two keys.
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = maskKeys)]
pub fn mask_keys(k_otp: &str, k_ans: &str, pin: &str) -> Result<JsValue, JsValue> {
    let mut salt: crate::push::PinSalt = [0; 16];
    getrandom::fill(&mut salt).map_err(|_| shape_error("random"))?;
    let masked = crate::push::MaskedKeys::mask(
        &key_from_js(k_otp, "kOtp")?,
        &key_from_js(k_ans, "kAns")?,
        pin,
        salt,
    )
    .map_err(js_error)?;
    to_js(&masked, "masked")
}

/// The keys back from `masked` with the PIN the person typed: `{ otp, answer }`. A wrong PIN
/// gives wrong keys, never an error: only the server can tell.
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = unmaskKeys)]
pub fn unmask_keys(masked: JsValue, pin: &str) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Unmasked {
        otp: String,
        answer: String,
    }
    let masked: crate::push::MaskedKeys =
        serde_wasm_bindgen::from_value(masked).map_err(|_| shape_error("masked"))?;
    let (otp, answer) = masked.unmask(pin).map_err(js_error)?;
    to_js(&Unmasked { otp: key_to_js(&otp), answer: key_to_js(&answer) }, "keys")
}

/// 16 fresh random bytes from the browser's CSPRNG, as base64url: the salt of a new vault
/// password or of one export file.
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = randomSalt)]
pub fn random_salt() -> Result<String, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut salt = [0u8; crate::vault::SALT_LEN];
    getrandom::fill(&mut salt).map_err(|_| shape_error("random"))?;
    Ok(Base64UrlUnpadded::encode_string(&salt))
}

/// The 32-byte key (base64url) that encrypts the stored secrets or an export file: Argon2id of
/// `password` with `salt` (16 bytes, base64url) under `params` `{ memoryKib, iterations,
/// parallelism }`, the PIN's costs when left out. Throws `invalid_parameter` naming the
/// password (empty or over 1024 bytes), the salt or the cost that is wrong.
#[cfg(feature = "wasm-tools")]
#[wasm_bindgen(js_name = deriveKey)]
pub fn derive_key(password: &str, salt: &str, params: JsValue) -> Result<String, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let salt = Base64UrlUnpadded::decode_vec(salt).map_err(|_| shape_error("salt"))?;
    let params = if params.is_undefined() || params.is_null() {
        crate::vault::KdfParams::default()
    } else {
        serde_wasm_bindgen::from_value(params).map_err(|_| shape_error("params"))?
    };
    let key = crate::vault::derive_key(password, &salt, &params).map_err(js_error)?;
    Ok(Base64UrlUnpadded::encode_string(key.as_ref()))
}

// privacyIDEA push tokens (`crate::privacyidea`). WebCrypto signs and verifies; the core builds
// every signed string and decodes and encodes the signatures. They live in the tools module:
// the worker's module has no room left for them (BENCHMARKS.md), so the worker loads the
// tools module only while privacyIDEA tokens exist.

#[cfg(feature = "wasm-tools")]
/// The string a privacyIDEA device signs to poll: `{serial}|{timestamp}`.
#[wasm_bindgen(js_name = piPollMessage)]
#[must_use]
pub fn pi_poll_message(serial: &str, timestamp: &str) -> String {
    crate::privacyidea::poll_message(serial, timestamp)
}

#[cfg(feature = "wasm-tools")]
/// The string privacyIDEA signed for a challenge (its `signature`); `require_presence` is the
/// challenge's `require_presence` field, when it has one.
#[wasm_bindgen(js_name = piChallengeMessage)]
#[must_use]
pub fn pi_challenge_message(
    nonce: &str,
    url: &str,
    serial: &str,
    question: &str,
    title: &str,
    sslverify: &str,
    require_presence: Option<String>,
) -> String {
    crate::privacyidea::Challenge {
        nonce,
        url,
        serial,
        question,
        title,
        sslverify,
        require_presence: require_presence.as_deref(),
    }
    .message()
}

#[cfg(feature = "wasm-tools")]
/// The string a device signs to answer a challenge: accept (no `presence`, not `decline`),
/// accept with the picked presence option, or decline with an optional `reason`.
#[wasm_bindgen(js_name = piAnswerMessage)]
#[must_use]
pub fn pi_answer_message(
    nonce: &str,
    serial: &str,
    presence: Option<String>,
    decline: bool,
    reason: Option<String>,
) -> String {
    use crate::privacyidea::Reply;
    let reply = match (decline, reason.as_deref(), presence.as_deref()) {
        (true, Some(reason), _) => Reply::DeclineWith(reason),
        (true, None, _) => Reply::Decline,
        (false, _, Some(answer)) => Reply::Presence(answer),
        (false, _, None) => Reply::Accept,
    };
    reply.message(nonce, serial)
}

#[cfg(feature = "wasm-tools")]
/// The bytes behind a challenge's `capabilities_signature` (RFC 8785 JSON of the parsed
/// `capabilities` and the nonce), as a string.
#[wasm_bindgen(js_name = piCapabilitiesMessage)]
pub fn pi_capabilities_message(capabilities: &str, nonce: &str) -> Result<String, JsValue> {
    crate::privacyidea::capabilities_message(capabilities, nonce).map_err(js_error)
}

#[cfg(feature = "wasm-tools")]
/// Decodes a privacyIDEA signature (strict upper-case, padded base32) into its bytes.
#[wasm_bindgen(js_name = piSignatureFromBase32)]
pub fn pi_signature_from_base32(text: &str) -> Result<Vec<u8>, JsValue> {
    crate::privacyidea::signature_from_base32(text).map_err(js_error)
}

#[cfg(feature = "wasm-tools")]
/// Encodes signature bytes as privacyIDEA expects them (upper-case, padded base32).
#[wasm_bindgen(js_name = piSignatureToBase32)]
#[must_use]
pub fn pi_signature_to_base32(signature: &[u8]) -> String {
    crate::privacyidea::signature_to_base32(signature)
}

#[cfg(feature = "wasm-tools")]
/// Parses a privacyIDEA push enrollment link (`otpauth://pipush/…` or `pia://pipush/…`) into
/// `{ label, url, ttlMinutes, issuer, enrollmentCredential, serial, sslverify, pollOnly, pin,
/// appForceUnlock }`.
#[wasm_bindgen(js_name = piParseEnrollLink)]
pub fn pi_parse_enroll_link(link: &str) -> Result<JsValue, JsValue> {
    let parsed: crate::privacyidea::EnrollLink = link.parse().map_err(js_error)?;
    parsed
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error("link"))
}

#[cfg(feature = "wasm-tools")]
/// The SPKI DER of the server key in privacyIDEA's enrollment reply (`detail.public_key`,
/// base64 PKCS#1), ready for WebCrypto's `importKey('spki', …)`.
#[wasm_bindgen(js_name = piServerKeySpki)]
pub fn pi_server_key_spki(detail_public_key: &str) -> Result<Vec<u8>, JsValue> {
    crate::privacyidea::server_key_spki(detail_public_key).map_err(js_error)
}
