//! privacyIDEA push tokens (`crate::privacyidea`). WebCrypto signs and verifies; the core builds
//! every signed string and decodes and encodes the signatures. They live in the tools module:
//! the worker's module has no room left for them (BENCHMARKS.md), so the worker loads the tools
//! module only while privacyIDEA tokens exist.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::value_from_js;
use crate::wasm::{js_error, shape_error, to_js};

/// The string a privacyIDEA device signs to poll: `{serial}|{timestamp}`.
#[wasm_bindgen(js_name = piPollMessage)]
#[must_use]
pub fn pi_poll_message(serial: &str, timestamp: &str) -> String {
    crate::privacyidea::poll_message(serial, timestamp)
}

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

/// The bytes behind a challenge's `capabilities_signature` (RFC 8785 JSON of the parsed
/// `capabilities` and the nonce), as a string.
#[wasm_bindgen(js_name = piCapabilitiesMessage)]
pub fn pi_capabilities_message(capabilities: &str, nonce: &str) -> Result<String, JsValue> {
    crate::privacyidea::capabilities_message(capabilities, nonce).map_err(js_error)
}

/// Decodes a privacyIDEA signature (strict upper-case, padded base32) into its bytes.
#[wasm_bindgen(js_name = piSignatureFromBase32)]
pub fn pi_signature_from_base32(text: &str) -> Result<Vec<u8>, JsValue> {
    crate::privacyidea::signature_from_base32(text).map_err(js_error)
}

/// Encodes signature bytes as privacyIDEA expects them (upper-case, padded base32).
#[wasm_bindgen(js_name = piSignatureToBase32)]
#[must_use]
pub fn pi_signature_to_base32(signature: &[u8]) -> String {
    crate::privacyidea::signature_to_base32(signature)
}

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

/// The SPKI DER of the server key in privacyIDEA's enrollment reply (`detail.public_key`,
/// base64 PKCS#1), ready for WebCrypto's `importKey('spki', …)`.
#[wasm_bindgen(js_name = piServerKeySpki)]
pub fn pi_server_key_spki(detail_public_key: &str) -> Result<Vec<u8>, JsValue> {
    crate::privacyidea::server_key_spki(detail_public_key).map_err(js_error)
}

/// Checks one challenge of the token `serial` as the poll listed it (an element of
/// `result.value`) before its signatures are verified: `nonce`, `url`, `serial`, `question`,
/// `title` and `sslverify` text, the serial the token's, capabilities (when there) the text of a
/// JSON object. Returns `{ nonce, url, serial, question, title, sslverify, requirePresence?,
/// choices?, declineReason, message, capabilitiesMessage? }`: verify `signature` over `message`
/// and, when there is a `capabilitiesMessage`, `capabilities_signature` over it, before the
/// challenge is shown. Throws `invalid_message` (or `too_long` for huge capabilities).
#[wasm_bindgen(js_name = piCheckChallenge)]
pub fn pi_check_challenge(
    challenge: JsValue,
    // Read as a value: a `&str`'s glue does not check the type. No token has a serial that is
    // no string, so none matches then.
    #[wasm_bindgen(unchecked_param_type = "string")] serial: JsValue,
) -> Result<JsValue, JsValue> {
    let serial = serial.as_string().unwrap_or_default();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Checked<'a> {
        nonce: &'a str,
        url: &'a str,
        serial: &'a str,
        question: &'a str,
        title: &'a str,
        sslverify: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        require_presence: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        choices: Option<Vec<&'a str>>,
        decline_reason: bool,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        capabilities_message: Option<&'a str>,
    }
    let checked = crate::privacyidea::check_challenge(&value_from_js(&challenge), &serial)
        .map_err(js_error)?;
    to_js(
        &Checked {
            nonce: &checked.nonce,
            url: &checked.url,
            serial: &checked.serial,
            question: &checked.question,
            title: &checked.title,
            sslverify: &checked.sslverify,
            require_presence: checked.require_presence.as_deref(),
            choices: checked.choices(),
            decline_reason: checked.decline_reason,
            message: checked.message(),
            capabilities_message: checked.capabilities_message.as_deref(),
        },
        "challenge",
    )
}

/// A new token's device: a fresh random seed, stored plain or, when `pin` is a string, masked
/// with it (Argon2id), and the public key of the key it derives. Returns `{ secret, seed,
/// publicKey }`: `secret` (`{ seed }` or `{ masked }`) for the vault, `seed` (base64url) for
/// the session's polls, `publicKey` the base64 SPKI DER for privacyIDEA's enrollment; nothing of it
/// may be stored but `secret`. Throws `pin_required` when `pin` is given and is not 4 to 64
/// digits.
#[wasm_bindgen(js_name = piNewDevice)]
pub fn pi_new_device(
    #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] pin: JsValue,
) -> Result<JsValue, JsValue> {
    let pin = (!pin.is_null() && !pin.is_undefined()).then(|| pin_text(&pin));
    let mut seed = zeroize::Zeroizing::new([0u8; crate::privacyidea::DEVICE_SEED_LEN]);
    let mut salt: crate::push::PinSalt = [0; 16];
    for buf in [&mut seed[..], &mut salt[..]] {
        getrandom::fill(buf).map_err(|_| shape_error("random"))?;
    }
    let seed = crate::Secret::from_bytes(seed.to_vec()).map_err(js_error)?;
    let secret =
        crate::privacyidea::DeviceSecret::new(&seed, pin.as_deref().map(|p| p.as_str()), salt)
            .map_err(js_error)?;
    let key = crate::privacyidea::DeviceKey::derive(&seed).map_err(js_error)?;
    let seed_text = zeroize::Zeroizing::new(
        <base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(seed.expose()),
    );
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct NewDevice<'a> {
        secret: &'a crate::privacyidea::DeviceSecret,
        seed: &'a str,
        public_key: String,
    }
    to_js(
        &NewDevice {
            secret: &secret,
            seed: seed_text.as_str(),
            public_key: <base64ct::Base64 as base64ct::Encoding>::encode_string(
                &key.public_key_spki(),
            ),
        },
        "device",
    )
}

/// The seed (base64url) of a token's stored `secret` (`{ seed }`, or `{ masked }` with `pin`).
/// A wrong PIN gives another seed, never an error. Throws `pin_required` for a masked seed
/// without a PIN of digits, `invalid_message` for a secret of another shape (a token stored
/// in an earlier form) or a damaged one.
#[wasm_bindgen(js_name = piDeviceSeed)]
pub fn pi_device_seed(
    secret: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] pin: JsValue,
) -> Result<String, JsValue> {
    let secret: crate::privacyidea::DeviceSecret =
        serde_wasm_bindgen::from_value(secret).map_err(|_| shape_error("secret"))?;
    let pin = (!pin.is_null() && !pin.is_undefined()).then(|| pin_text(&pin));
    let seed = secret.seed(pin.as_deref().map(|p| p.as_str())).map_err(js_error)?;
    // The text crosses to JavaScript, which keeps it only in memory.
    Ok(<base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(seed.expose()))
}

/// A token's device key, derived from its seed (`crate::privacyidea::DeviceKey`); the worker
/// keeps it in memory only, for as long as it may sign.
#[wasm_bindgen(js_name = PiDeviceKey)]
pub struct PiDeviceKey(crate::privacyidea::DeviceKey);

#[wasm_bindgen(js_class = PiDeviceKey)]
impl PiDeviceKey {
    /// Derives the key of `seed` (base64url, 32 bytes). Throws `invalid_message` otherwise.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: &str) -> Result<PiDeviceKey, JsValue> {
        let seed = crate::privacyidea::seed_from_text(seed).map_err(js_error)?;
        crate::privacyidea::DeviceKey::derive(&seed).map(PiDeviceKey).map_err(js_error)
    }

    /// privacyIDEA's signature of `message` (RSASSA-PKCS1-v1_5, SHA-256), in its base32.
    pub fn sign(&self, message: &str) -> Result<String, JsValue> {
        let signature = self.0.sign(message.as_bytes()).map_err(js_error)?;
        Ok(crate::privacyidea::signature_to_base32(&signature))
    }
}

/// A PIN as the caller passed it. It is read as a JavaScript value rather than a `&str`, whose
/// glue does not check the type (a number there makes the module read out of bounds); anything
/// but a string is no PIN, which the PIN rules then refuse.
fn pin_text(pin: &JsValue) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(pin.as_string().unwrap_or_default())
}
