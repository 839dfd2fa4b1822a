//! The JavaScript binding: the only place with `#[wasm_bindgen]`.
//!
//! It converts between JavaScript values and the core's types and does nothing else. Times
//! arrive as JavaScript milliseconds and randomness comes from `crypto.getRandomValues` through
//! `getrandom`; the core itself never reads a clock or a random source. Errors become
//! JavaScript `Error` objects whose `code` property is [`Error::code`], so callers switch on
//! `err.code`, never on the message.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{Algorithm, Error, Hotp, Secret, Totp, Window};

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

/// A token as JavaScript sees it. `secret` is base32.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

fn token_from_js(value: JsValue) -> Result<JsToken, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|_| shape_error("token"))
}

impl JsToken {
    fn secret(&self) -> Result<Secret, JsValue> {
        Secret::from_base32(&self.secret).map_err(js_error)
    }

    fn totp(&self) -> Result<Totp, JsValue> {
        if self.kind != JsKind::Totp {
            return Err(js_error(Error::InvalidParameter { name: "type" }));
        }
        let period = self.period.unwrap_or(crate::DEFAULT_PERIOD);
        Totp::new(self.algorithm, self.digits, period, 0).map_err(js_error)
    }

    fn hotp(&self) -> Result<Hotp, JsValue> {
        if self.kind != JsKind::Hotp {
            return Err(js_error(Error::InvalidParameter { name: "type" }));
        }
        Hotp::new(self.algorithm, self.digits).map_err(js_error)
    }
}

/// The TOTP code (RFC 6238 §4.2) of `token` at `unixMs` milliseconds since the epoch.
#[wasm_bindgen(js_name = totp)]
pub fn totp(token: JsValue, unix_ms: f64) -> Result<String, JsValue> {
    let token = token_from_js(token)?;
    token.totp()?.generate(&token.secret()?, unix_secs(unix_ms)?).map_err(js_error)
}

/// The HOTP code (RFC 4226 §5.3) of `token` for `counter`.
#[wasm_bindgen(js_name = hotp)]
pub fn hotp(token: JsValue, counter: f64) -> Result<String, JsValue> {
    let token = token_from_js(token)?;
    Ok(token.hotp()?.generate(&token.secret()?, whole(counter, "counter")?))
}

/// Seconds until the TOTP code of `token` shown at `unixMs` changes.
#[wasm_bindgen(js_name = secondsLeft)]
pub fn seconds_left(token: JsValue, unix_ms: f64) -> Result<f64, JsValue> {
    let token = token_from_js(token)?;
    let left = token.totp()?.seconds_left(unix_secs(unix_ms)?).map_err(js_error)?;
    // At most one day (MAX_PERIOD), exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(left as f64)
}

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
    let token = token_from_js(token)?;
    let window = Window { behind: whole(behind, "behind")?, ahead: whole(ahead, "ahead")? };
    let step = token
        .totp()?
        .verify(&token.secret()?, code, unix_secs(unix_ms)?, window)
        .map_err(js_error)?;
    Ok(step.map(to_f64))
}

/// Verifies an HOTP code against `counter ..= counter + lookAhead` (RFC 4226 §7.4) and returns
/// the matching counter, or `undefined`.
#[wasm_bindgen(js_name = verifyHotp)]
pub fn verify_hotp(
    token: JsValue,
    code: &str,
    counter: f64,
    look_ahead: f64,
) -> Result<Option<f64>, JsValue> {
    let token = token_from_js(token)?;
    let matched = token
        .hotp()?
        .verify(&token.secret()?, code, whole(counter, "counter")?, whole(look_ahead, "lookAhead")?)
        .map_err(js_error)?;
    Ok(matched.map(to_f64))
}

/// Counters and steps reach JavaScript as numbers; the core's inputs came from JavaScript
/// numbers, so they stay below 2^53.
#[allow(clippy::cast_precision_loss)]
fn to_f64(value: u64) -> f64 {
    value as f64
}

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
