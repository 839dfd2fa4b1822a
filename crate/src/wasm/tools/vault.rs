//! The vault key (`crate::vault`): Argon2id of the person's password, and its random salt.

use wasm_bindgen::prelude::*;

use crate::wasm::{js_error, shape_error};

/// The key derivation of a new vault password or of one export file:
/// `{ salt, memoryKib, iterations, parallelism }`, 16 fresh random bytes from the browser's
/// CSPRNG as base64url and the core's costs for them (`crate::vault::VAULT_COSTS`).
#[wasm_bindgen(js_name = newKdf)]
pub fn new_kdf() -> Result<JsValue, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut salt = [0u8; crate::vault::SALT_LEN];
    getrandom::fill(&mut salt).map_err(|_| shape_error("random"))?;
    let costs = crate::vault::VAULT_COSTS;
    let kdf = js_sys::Object::new();
    for (name, value) in [
        ("salt", JsValue::from_str(&Base64UrlUnpadded::encode_string(&salt))),
        ("memoryKib", costs.memory_kib.into()),
        ("iterations", costs.iterations.into()),
        ("parallelism", costs.parallelism.into()),
    ] {
        js_sys::Reflect::set(&kdf, &name.into(), &value).map_err(|_| shape_error("kdf"))?;
    }
    Ok(kdf.into())
}

/// The 32-byte key (base64url) that encrypts the stored secrets or an export file: Argon2id of
/// `password` with `salt` (16 bytes, base64url) under `params` `{ memoryKib, iterations,
/// parallelism }` (those the secrets or the file were sealed with). Throws `invalid_parameter` naming the
/// password (empty or over 1024 bytes), the salt or the cost that is wrong.
#[wasm_bindgen(js_name = deriveKey)]
pub fn derive_key(password: &str, salt: &str, params: JsValue) -> Result<String, JsValue> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let salt = Base64UrlUnpadded::decode_vec(salt).map_err(|_| shape_error("salt"))?;
    let params: crate::vault::KdfParams =
        serde_wasm_bindgen::from_value(params).map_err(|_| shape_error("params"))?;
    let key = crate::vault::derive_key(password, &salt, &params).map_err(js_error)?;
    Ok(Base64UrlUnpadded::encode_string(key.as_ref()))
}
