//! What only the options page, the popup's PIN prompt and the code list need, built into the
//! second module (`extension/pkg/pushotp_tools.js`, feature `wasm-tools`) so that the service
//! worker's, loaded at every wake-up, stays small. The worker loads this one too while
//! privacyIDEA tokens exist.
//!
//! | file | binds |
//! |---|---|
//! | `mod.rs` | token objects as full Key URIs (labels included); JavaScript values for the core's rules |
//! | `codes.rs` | verification, seconds left, new secrets, OCRA |
//! | `uri.rs` | `otpauth://` links, Google Authenticator export links, QR codes |
//! | `enrollment.rs` | push enrollment, PIN masking, the proof that a token was restored elsewhere and notices about a token (`crate::push`) |
//! | `vault.rs` | the vault key and its salt (`crate::vault`) |
//! | `privacyidea.rs` | privacyIDEA push tokens (`crate::privacyidea`) |
//! | `tokens.rs` | the checks of a token before the worker stores it (`crate::tokens`) |

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::codes::{JsKind, default_digits};
use super::{js_error, shape_error};
use crate::value::Value;
use crate::{Algorithm, Secret, TokenKind, TokenUri};

mod codes;
mod enrollment;
mod privacyidea;
mod tokens;
mod uri;
mod vault;

pub use codes::{ocra, random_secret, seconds_left, verify_hotp, verify_totp};
pub use enrollment::{
    complete_enrollment, enroll_request, is_restored_elsewhere, is_token_notice, mask_keys,
    unmask_keys,
};
pub use privacyidea::{
    PiDeviceKey, pi_answer_message, pi_capabilities_message, pi_challenge_message,
    pi_check_challenge, pi_device_seed, pi_new_device, pi_parse_enroll_link, pi_poll_message,
    pi_server_key_spki, pi_signature_from_base32, pi_signature_to_base32,
};
pub use tokens::{
    binding_matches, check_otp_names, check_otp_token, check_push_token, may_fill,
    verify_login_code,
};
pub use uri::{decode_qr, format_uri, import_migration, parse_uri};
pub use vault::{derive_key, new_kdf};

const MAX_SAFE_INTEGER_U64: u64 = (1 << 53) - 1;

/// A token as JavaScript sees it. `secret` is base32. Other properties (an id, a label the
/// extension keeps beside the token) are ignored.
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

/// How deep [`value_from_js`] follows arrays and objects; deeper ones arrive empty. The rules
/// that read values look two levels deep (`token.keys.request`, `token.sites[0]`).
const MAX_DEPTH: u8 = 8;

/// A JavaScript value as the core's rules read it ([`Value`]): types as `typeof` tells them,
/// objects by their own enumerable properties (`Object.keys`), strings as UTF-8 (a lone
/// surrogate, which no text needs, becomes U+FFFD).
fn value_from_js(value: &JsValue) -> Value {
    from_js_at(value, 0)
}

fn from_js_at(value: &JsValue, depth: u8) -> Value {
    if value.is_undefined() {
        Value::Undefined
    } else if value.is_null() {
        Value::Null
    } else if let Some(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Value::Number(n)
    } else if let Some(text) = value.as_string() {
        Value::String(text)
    } else if js_sys::Array::is_array(value) {
        let array: &js_sys::Array = value.unchecked_ref();
        let items = if depth < MAX_DEPTH {
            array.iter().map(|item| from_js_at(&item, depth + 1)).collect()
        } else {
            Vec::new()
        };
        Value::Array(items)
    } else if value.is_object() {
        let mut properties = Vec::new();
        if depth < MAX_DEPTH {
            for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
                // A getter that throws reads as a missing property.
                let item = js_sys::Reflect::get(value, &key).unwrap_or(JsValue::UNDEFINED);
                if let Some(name) = key.as_string() {
                    properties.push((name, from_js_at(&item, depth + 1)));
                }
            }
        }
        Value::Object(properties)
    } else {
        Value::Other { truthy: value.is_truthy() }
    }
}
