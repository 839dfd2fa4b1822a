//! `otpauth://` Key URIs, Google Authenticator export links and the QR codes that carry them.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{token_from_js, token_to_js};
use crate::TokenUri;
use crate::wasm::{js_error, shape_error};

/// Parses an `otpauth://` Key URI (also a sloppy one from a real QR code) into a token object.
#[wasm_bindgen(js_name = parseUri)]
pub fn parse_uri(uri: &str) -> Result<JsValue, JsValue> {
    token_to_js(&uri.parse::<TokenUri>().map_err(js_error)?)
}

/// Writes a token object as a canonical `otpauth://` Key URI. The URI holds the secret.
#[wasm_bindgen(js_name = formatUri)]
pub fn format_uri(token: JsValue) -> Result<String, JsValue> {
    Ok(token_from_js(token)?.to_string())
}

/// The text of every QR code in an RGBA image of `width` by `height` pixels, as an array of
/// strings (empty when there is none). `rgba` is the `data` of a canvas `ImageData` (a
/// `Uint8ClampedArray`) or any `Uint8Array` of `width * height * 4` bytes; it is copied into
/// the module. Transparent pixels count as white; codes whose payload is not UTF-8 text are
/// left out. Throws `invalid_image` when the sizes do not fit together or a side is over 8192
/// pixels.
#[wasm_bindgen(js_name = decodeQr)]
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Result<Vec<String>, JsValue> {
    crate::decode_qr(rgba, width, height).map_err(js_error)
}

/// Imports every token of a Google Authenticator export link (`otpauth-migration://offline`):
/// `{ tokens, batchIndex, batchSize, batchId, version }`.
#[wasm_bindgen(js_name = importMigration)]
pub fn import_migration(link: &str) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Batch {
        #[serde(with = "serde_wasm_bindgen::preserve")]
        tokens: js_sys::Array,
        batch_index: u32,
        batch_size: u32,
        batch_id: i32,
        version: i32,
    }
    let batch = crate::import_migration(link).map_err(js_error)?;
    let tokens = js_sys::Array::new();
    for token in &batch.tokens {
        tokens.push(&token_to_js(token)?);
    }
    let out = Batch {
        tokens,
        batch_index: batch.batch_index,
        batch_size: batch.batch_size,
        batch_id: batch.batch_id,
        version: batch.version,
    };
    out.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| shape_error("batch"))
}
