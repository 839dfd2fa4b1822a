//! The checks of a token before the service worker stores it (`crate::tokens`). They run when
//! a token is added, which is rare, and would not fit the worker's module (`BENCHMARKS.md`), so
//! the worker loads this module for them, as it does for privacyIDEA tokens.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::value_from_js;
use crate::wasm::{js_error, key_from_js, shape_error, to_js};
use crate::{Algorithm, TokenKind};

/// Checks an everyday token to add (`{ type, secret, algorithm?, digits?, period?, counter?,
/// issuer?, account?, sites? }`) and returns it normalised: `{ issuer, account, type,
/// algorithm, digits, period | counter, sites, secret }`, names trimmed, defaults filled in,
/// sites without repeats, the secret without spaces, `=` or `-` in upper case. Throws
/// `invalid_parameter`, `unknown_token_type`, `unknown_algorithm`, `invalid_digits`,
/// `empty_secret`, `invalid_period`, `invalid_base32` or `too_long`
/// (`crate::tokens::check_otp_token` lists the rules).
#[wasm_bindgen(js_name = checkOtpToken)]
pub fn check_otp_token(token: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Normalised<'a> {
        issuer: &'a str,
        account: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        algorithm: Algorithm,
        digits: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        period: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        counter: Option<u64>,
        sites: &'a [String],
        secret: &'a str,
    }
    let token = crate::tokens::check_otp_token(&value_from_js(&token)).map_err(js_error)?;
    let (kind, period, counter) = match token.kind {
        TokenKind::Totp { period } => ("totp", Some(period), None),
        // At most 2^53 - 1: the serializer writes it as an exact number.
        TokenKind::Hotp { counter } => ("hotp", None, Some(counter)),
    };
    to_js(
        &Normalised {
            issuer: &token.issuer,
            account: &token.account,
            kind,
            algorithm: token.algorithm,
            digits: token.digits,
            period,
            counter,
            sites: &token.sites,
            secret: &token.secret,
        },
        "token",
    )
}

/// Checks the new names of an everyday token (`issuer`, `account`) as `checkOtpToken` checks
/// them and returns them trimmed, `{ issuer, account }`. Throws `invalid_parameter` for a name
/// that is no text or too long or has control characters, or when both are empty.
#[wasm_bindgen(js_name = checkOtpNames)]
pub fn check_otp_names(issuer: JsValue, account: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Names {
        issuer: String,
        account: String,
    }
    let (issuer, account) =
        crate::tokens::check_otp_names(&value_from_js(&issuer), &value_from_js(&account))
            .map_err(js_error)?;
    to_js(&Names { issuer, account }, "names")
}

/// Checks the shape of an enrolled push token before it is stored: its id, its server's
/// address, its keys, and with a PIN its masked keys. Returns nothing; throws `invalid_token`
/// (`crate::tokens::check_push_token` lists the rules).
#[wasm_bindgen(js_name = checkPushToken)]
pub fn check_push_token(token: JsValue) -> Result<(), JsValue> {
    crate::tokens::check_push_token(&value_from_js(&token)).map_err(js_error)
}

/// Whether the passcode of an approved push request naming `origin` may be filled there for
/// the stored push `token`: its server's own origin, the login origins its server declared or
/// a site the person confirmed (`crate::tokens::push_token_may_fill`, `crate::push::may_fill`).
#[wasm_bindgen(js_name = mayFill)]
pub fn may_fill(token: JsValue, origin: &str) -> bool {
    crate::tokens::push_token_may_fill(&value_from_js(&token), origin)
}

/// Whether `binding`, read from a login page, is the binding the push login request `request`
/// commits to (its `bindingHash`, protocol §5, "Same-browser approvals"): false for a request
/// without one, a malformed binding or another page load's. Here, not in the worker's own
/// module, which has no room for it.
#[wasm_bindgen(js_name = bindingMatches)]
pub fn binding_matches(request: JsValue, binding: &str) -> Result<bool, JsValue> {
    let request = crate::wasm::push::request_from_js(request)?;
    Ok(crate::wasm::push::nonce_from_js(binding).is_ok_and(|b| request.binding_matches(&b)))
}

/// Checks the sign-in code `loginCode` of the reply to the approval of request `requestId`
/// (base64url) of token `tokenId`, and its `loginCodeTag` (base64url), under the token's
/// `K_req` (protocol §5, "What the login page gets"). Returns nothing; throws
/// `invalid_message` or `bad_tag`: then nothing is filled. Here beside [`may_fill`], which the
/// worker asks at the same step, since the worker's own module has no room for it.
#[wasm_bindgen(js_name = verifyLoginCode)]
pub fn verify_login_code(
    k_req: &str,
    request_id: &str,
    token_id: &str,
    login_code: &str,
    tag: &str,
) -> Result<(), JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let tag = Base64UrlUnpadded::decode_vec(tag).map_err(|_| shape_error("tag"))?;
    crate::push::verify_login_code(
        &key_from_js(k_req, "kReq")?,
        &crate::wasm::push::nonce_from_js(request_id)?,
        token_id,
        login_code,
        &tag,
    )
    .map_err(js_error)
}
