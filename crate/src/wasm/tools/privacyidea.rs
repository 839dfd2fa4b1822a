//! privacyIDEA push tokens (`crate::privacyidea`). WebCrypto signs and verifies; the core builds
//! every signed string and decodes and encodes the signatures. They live in the tools module:
//! the worker's module has no room left for them (BENCHMARKS.md), so the worker loads the tools
//! module only while privacyIDEA tokens exist.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::wasm::{js_error, shape_error};

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
