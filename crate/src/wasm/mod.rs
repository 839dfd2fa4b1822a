//! The JavaScript binding: the only place with `#[wasm_bindgen]`.
//!
//! It converts between JavaScript values and the core's types and does nothing else: every rule
//! it applies lives in the core, where it is tested natively. Times arrive as JavaScript
//! milliseconds and randomness comes from `crypto.getRandomValues` through `getrandom`; the core
//! itself never reads a clock or a random source. Errors become JavaScript `Error` objects whose
//! `code` property is [`Error::code`], so callers switch on `err.code`, never on the message.
//!
//! One file per area. The worker's module (feature `wasm`, `extension/pkg/pushotp.js`) has:
//!
//! | file | binds |
//! |---|---|
//! | `mod.rs` | the conversions and errors every area shares |
//! | `codes.rs` | TOTP and HOTP codes of token objects |
//! | `push.rs` | push requests and the notices of their end, answers, passcodes and channel tags (`crate::push`) |
//! | `restore.rs` | the restore of an imported push token (`crate::push`, §8); not in the tools module |
//! | `plain.rs` | the small `serde` deserializer those messages are read with |
//!
//! The tools module (feature `wasm-tools`, `extension/pkg/pushotp_tools.js`) adds everything
//! under [`tools`] and leaves out `restore.rs`, which no page needs and for which its size
//! budget has no room.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::value::MAX_SAFE_INTEGER;
use crate::{Error, Secret};

mod codes;
mod plain;
mod push;
// The worker's alone: no page restores a token, and the tools module has no room for it.
#[cfg(not(feature = "wasm-tools"))]
mod restore;
#[cfg(feature = "wasm-tools")]
pub mod tools;

pub use codes::{hotp, totp, totp_codes};
pub use push::{
    SignedPurpose, approve_answer, channel_auth_tag, deny_answer, push_passcode, signed_at,
    verify_push_ended, verify_push_request, web_push_tag,
};
#[cfg(not(feature = "wasm-tools"))]
pub use restore::{restore_tag, restored_keys};

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

// Keys travel between JavaScript and WebAssembly as unpadded base64url strings; messages as
// plain objects (the JSON of the wire format, parsed and serialized by the caller).

fn key_from_js(b64: &str, name: &'static str) -> Result<Secret, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let bytes = Base64UrlUnpadded::decode_vec(b64).map_err(|_| shape_error(name))?;
    Secret::from_bytes(bytes).map_err(js_error)
}

fn to_js<T: Serialize>(value: &T, what: &'static str) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error(what))
}
