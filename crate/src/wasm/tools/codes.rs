//! Verification of TOTP and HOTP codes, seconds left, new random secrets and OCRA (RFC 6287).

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::wasm::codes::codes_from_js;
use crate::wasm::{js_error, shape_error, unix_secs, whole};
use crate::{Error, OcraInput, OcraSuite, Secret, Window};

/// Seconds until the TOTP code of `token` shown at `unixMs` changes.
#[wasm_bindgen(js_name = secondsLeft)]
pub fn seconds_left(token: JsValue, unix_ms: f64) -> Result<f64, JsValue> {
    let token = codes_from_js(&token)?;
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
    let token = codes_from_js(&token)?;
    let window = Window { behind: whole(behind, "behind")?, ahead: whole(ahead, "ahead")? };
    let step =
        token.totp()?.verify(&token.secret, code, unix_secs(unix_ms)?, window).map_err(js_error)?;
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
    let token = codes_from_js(&token)?;
    let matched = token
        .hotp()?
        .verify(&token.secret, code, whole(counter, "counter")?, whole(look_ahead, "lookAhead")?)
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Questions {
    One(String),
    Two(String, String),
}

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
