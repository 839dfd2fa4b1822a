//! The push protocol (`crate::push`, docs/protocol.md) as the service worker uses it: checks of
//! push login requests, answers, passcodes and the device channel's tags.

use wasm_bindgen::prelude::*;

use super::{js_error, key_from_js, plain, shape_error, to_js, unix_secs, whole};
use crate::Error;

pub(crate) fn request_from_js(request: JsValue) -> Result<crate::push::PushRequest, JsValue> {
    serde::Deserialize::deserialize(plain::Value(request))
        .map_err(|_| js_error(Error::InvalidMessage("request")))
}

/// Checks a push login request (protocol §4) under the token's `K_req` at `nowMs`: version,
/// field rules, tag, then validity window. Returns nothing; throws `bad_tag`, `expired`,
/// `not_yet_valid`, `unsupported_version` or `invalid_message`.
#[wasm_bindgen(js_name = verifyPushRequest)]
pub fn verify_push_request(request: JsValue, k_req: &str, now_ms: f64) -> Result<(), JsValue> {
    let request = request_from_js(request)?;
    request.verify(&key_from_js(k_req, "kReq")?, unix_secs(now_ms)?).map_err(js_error)
}

/// Checks the notice that a push login request ended (protocol §4) under the request's token's
/// `K_req`: version, field rules, then tag. Returns why it ended (`"answered"`, `"replaced"`,
/// `"expired"` or `"removed"`); throws `bad_tag`, `unsupported_version` or `invalid_message`.
#[wasm_bindgen(js_name = verifyPushEnded)]
pub fn verify_push_ended(notice: JsValue, k_req: &str) -> Result<String, JsValue> {
    let notice: crate::push::PushEnded = serde::Deserialize::deserialize(plain::Value(notice))
        .map_err(|_| js_error(Error::InvalidMessage("ended")))?;
    notice.verify(&key_from_js(k_req, "kReq")?).map_err(js_error)?;
    Ok(notice.reason.name().to_owned())
}

/// An approval of `request` (protocol §5): `number` is the picked choice (or `null` without
/// number matching), `passcode` the request's approval passcode (`pushPasscode`); `kAns` is the (PIN-unmasked) answer
/// key; `binding` the binding read from the request's login page in this browser, or `null`
/// (with one, `number` may be `null`: §5, "Same-browser approvals"). Returns the answer object
/// to send; throws `invalid_message` for a binding the request does not commit to.
#[wasm_bindgen(js_name = approveAnswer)]
pub fn approve_answer(
    request: JsValue,
    number: Option<u8>,
    passcode: &str,
    now_ms: f64,
    k_chan: &str,
    k_ans: &str,
    binding: Option<String>,
) -> Result<JsValue, JsValue> {
    let request = request_from_js(request)?;
    let binding = binding.as_deref().map(nonce_from_js).transpose()?;
    let answer = crate::push::Answer::approve(
        &request,
        number,
        passcode,
        binding.as_ref(),
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

/// The approval passcode of the request `requestId` (its `id`, base64url) for a push token of
/// `algorithm` and `digits`, from its `K_otp` (protocol §5: the OCRA response of RFC 6287 to
/// the request id). The same request always gives the same passcode.
#[wasm_bindgen(js_name = pushPasscode)]
pub fn push_passcode(
    k_otp: &str,
    algorithm: &str,
    digits: u8,
    request_id: &str,
) -> Result<String, JsValue> {
    let otp = crate::push::OtpParams::new(algorithm.parse().map_err(js_error)?, digits)
        .map_err(js_error)?;
    otp.passcode(&key_from_js(k_otp, "kOtp")?, &nonce_from_js(request_id)?).map_err(js_error)
}

pub(super) fn nonce_from_js(nonce: &str) -> Result<crate::push::Nonce, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| shape_error("nonce"))
}

fn tag_to_js(tag: &crate::push::Tag) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(tag)
}

/// The channel log-in tag for the server's WebSocket challenge `nonce` (protocol §7).
#[wasm_bindgen(js_name = channelAuthTag)]
pub fn channel_auth_tag(k_chan: &str, token_id: &str, nonce: &str) -> Result<String, JsValue> {
    nonce_tag(crate::push::channel_auth_input, k_chan, token_id, nonce)
}

/// A tag over `str(tokenId), bytes(nonce)` under `kChan`: the channel log-in and the restore
/// share the shape, and this one function.
#[inline(never)]
pub(super) fn nonce_tag(
    input: fn(&str, &crate::push::Nonce) -> crate::push::Canonical,
    k_chan: &str,
    token_id: &str,
    nonce: &str,
) -> Result<String, JsValue> {
    let nonce = nonce_from_js(nonce)?;
    Ok(tag_to_js(&input(token_id, &nonce).mac(&key_from_js(k_chan, "kChan")?)))
}

pub use purpose::SignedPurpose;

// wasm-bindgen adds an undocumented hidden variant and function to a string enum.
#[allow(missing_docs)]
mod purpose {
    use wasm_bindgen::prelude::*;

    /// What a tag of [`signed_at`](super::signed_at) is for: `"poll"` or `"remove"`. A string
    /// enum: TypeScript sees `"poll" | "remove"`, and no other string reaches the core (one
    /// that slips past the types is `invalid_parameter`).
    #[wasm_bindgen]
    #[derive(Clone, Copy)]
    pub enum SignedPurpose {
        /// A poll for the pending requests.
        Poll = "poll",
        /// A removal of the token.
        Remove = "remove",
    }
}

/// The tag of a poll (`purpose` `"poll"`) or a removal (`"remove"`) at `atSecs` (protocol §7).
#[wasm_bindgen(js_name = signedAt)]
pub fn signed_at(
    purpose: SignedPurpose,
    k_chan: &str,
    token_id: &str,
    at_secs: f64,
) -> Result<String, JsValue> {
    let purpose = match purpose {
        SignedPurpose::Poll => crate::push::SignedAt::Poll,
        SignedPurpose::Remove => crate::push::SignedAt::Remove,
        // The binding's value for any other string.
        _ => return Err(shape_error("purpose")),
    };
    let k_chan = key_from_js(k_chan, "kChan")?;
    Ok(tag_to_js(&purpose.tag(&k_chan, token_id, whole(at_secs, "at")?)))
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
