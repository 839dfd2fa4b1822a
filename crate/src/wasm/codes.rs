//! TOTP and HOTP codes (RFC 6238, RFC 4226) of the token objects the extension keeps: what the
//! service worker computes at every wake-up, so the objects are read property by property.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{js_error, shape_error, unix_secs, whole};
use crate::{Algorithm, Hotp, Secret, Totp};

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum JsKind {
    Totp,
    Hotp,
}

pub(super) fn default_digits() -> u8 {
    6
}

/// A token object's secret and code parameters, without the label rules of a full Key URI: the
/// worker's module only computes codes, and leaving `TokenUri` out keeps it small.
pub(super) struct Codes {
    pub(super) secret: Secret,
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
pub(super) fn codes_from_js(value: &JsValue) -> Result<Codes, JsValue> {
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
    pub(super) fn totp(&self) -> Result<Totp, JsValue> {
        if self.kind != JsKind::Totp {
            return Err(shape_error("type"));
        }
        Totp::new(self.algorithm, self.digits, self.period, 0).map_err(js_error)
    }

    pub(super) fn hotp(&self) -> Result<Hotp, JsValue> {
        if self.kind != JsKind::Hotp {
            return Err(shape_error("type"));
        }
        Hotp::new(self.algorithm, self.digits).map_err(js_error)
    }
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
