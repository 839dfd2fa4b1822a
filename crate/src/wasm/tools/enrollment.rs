//! Push enrollment (protocol §3), PIN masking of a token's keys (protocol §6), and the checks of
//! the server's word about a token: restored elsewhere (§8), notices (§4).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::wasm::{js_error, key_from_js, shape_error, to_js, unix_secs, whole};
use crate::{Error, Secret};

fn key_to_js(key: &Secret) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(key.expose())
}

/// Starts enrollment from an activation link (protocol §3): checks it has not expired at
/// `nowMs` and returns `{ server, tokenId, request }`, `request` being the body to POST to
/// `{server}/api/v1/enroll` (with a fresh random device nonce). Throws the link's errors first,
/// then `invalid_message` for a device name that breaks the protocol's text rule.
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
/// otp, pin, loginOrigins?, keys: { otp, request, answer, channel }, confirmCode }` (keys as
/// base64url; `loginOrigins` only when the server declared some, protocol §3; `confirmCode`
/// the six digits to compare with the page that showed the link, not to be stored). Throws
/// `bad_tag` when the answer was changed on the way.
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
        #[serde(skip_serializing_if = "Option::is_none")]
        login_origins: Option<&'a [String]>,
        keys: Keys,
        confirm_code: String,
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
            login_origins: enrolled.login_origins.as_deref(),
            keys: Keys {
                otp: key_to_js(&keys.otp),
                request: key_to_js(&keys.request),
                answer: key_to_js(&keys.answer),
                channel: key_to_js(&keys.channel),
            },
            confirm_code: crate::push::enroll_confirm_code(
                link.secret(),
                &enrolled.token_id,
                &request.device_nonce,
                &enrolled.server_nonce,
            ),
        },
        "token",
    )
}

/// Masks a PIN token's `K_otp` and `K_ans` under `pin` (protocol §6, Argon2id) with a fresh
/// random salt; returns the object to store instead of the two keys.
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

/// Whether `tag` is the server's refusal "restored elsewhere" of token `tokenId` under its
/// `kReq` (protocol §8): only then does the device give the token up. In this module because
/// the worker needs it rarely, and its own module has no room.
#[wasm_bindgen(js_name = isRestoredElsewhere)]
pub fn is_restored_elsewhere(k_req: &str, token_id: &str, tag: &str) -> Result<bool, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let Ok(tag) = Base64UrlUnpadded::decode_vec(tag) else { return Ok(false) };
    Ok(crate::push::verify_restored_elsewhere(&key_from_js(k_req, "kReq")?, token_id, &tag).is_ok())
}

/// Whether the fields of a notice about a token (protocol §4, "Notices about a token"), as its
/// server sent them, verify under the token's `kReq`: only then does the device show it. The
/// fields come one by one, so that this module holds no deserializer for the notice; in it,
/// beside the proof of a restore elsewhere, for the same reason.
#[wasm_bindgen(js_name = isTokenNotice)]
pub fn is_token_notice(
    k_req: &str,
    v: u32,
    token_id: &str,
    kind: &str,
    at: f64,
    tag: &str,
) -> Result<bool, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let (Ok(at), Ok(tag)) = (whole(at, "at"), Base64UrlUnpadded::decode_vec(tag)) else {
        return Ok(false);
    };
    let fields = (v, token_id, kind, at, tag.as_slice());
    Ok(crate::push::verify_token_notice(fields, &key_from_js(k_req, "kReq")?).is_ok())
}
