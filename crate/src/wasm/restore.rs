//! The restore of an imported push token (`crate::push`, protocol §8) as the service worker
//! makes it: the request's tag and the check of the server's answer. Only in the worker's
//! module; the check of the server's refusal of a copy that another device took over, needed
//! far more rarely, is in the tools module (`isRestoredElsewhere`).

use wasm_bindgen::prelude::*;

use super::push::{nonce_from_js, nonce_tag};
use super::{js_error, key_from_js, shape_error, whole};

/// The tag of a restore of an imported token (protocol §8) under its current `kChan`:
/// `nonce` is 16 random bytes, base64url, that the caller keeps until the answer arrives and
/// sends again if the answer is lost.
#[wasm_bindgen(js_name = restoreTag)]
pub fn restore_tag(k_chan: &str, token_id: &str, nonce: &str) -> Result<String, JsValue> {
    nonce_tag(crate::push::restore_input, k_chan, token_id, nonce)
}

/// The server's answer (its `v`, `tokenId`, `counter` and `tag`) to the restore of `tokenId`
/// with `nonce` (protocol §8), checked with the token's `kChan` before the restore:
/// `[K_req', K_chan']` (base64url) to keep instead. Throws `bad_tag`, `invalid_message` or
/// `unsupported_version`. The answer's fields come one by one rather than as its object, so
/// that the worker's module holds no deserializer for it.
#[wasm_bindgen(js_name = restoredKeys)]
pub fn restored_keys(
    k_chan: &str,
    token_id: &str,
    nonce: &str,
    v: u32,
    reply_token_id: &str,
    counter: f64,
    tag: &str,
) -> Result<js_sys::Array, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let counter = whole(counter, "counter")?;
    let tag = Base64UrlUnpadded::decode_vec(tag).map_err(|_| shape_error("tag"))?;
    let (k_req, k_chan) = crate::push::verify_restored(
        (v, reply_token_id, counter, &tag),
        token_id,
        &nonce_from_js(nonce)?,
        &key_from_js(k_chan, "kChan")?,
    )
    .map_err(js_error)?;
    let key = |secret: &crate::Secret| JsValue::from_str(&secret_to_js(secret));
    Ok(js_sys::Array::of2(&key(&k_req), &key(&k_chan)))
}

fn secret_to_js(secret: &crate::Secret) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(secret.expose())
}
