//! What the fuzz targets share: turning fuzz input into the values the parsers take.

use pushotp::Secret;
use pushotp::value::Value;

/// The input as text, when it is UTF-8: every parser here takes `&str`, as the browser and the
/// server hand it over.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A JSON text as the browser extension hands it to the core: `JSON.parse`, then converted to
/// a [`Value`] (numbers become doubles, as in JavaScript).
pub fn js_value(data: &[u8]) -> Option<Value> {
    serde_json::from_slice::<serde_json::Value>(data).ok().map(|json| js(&json))
}

fn js(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(js).collect()),
        serde_json::Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), js(v))).collect())
        }
    }
}

/// A fixed 32-byte key: a message from the fuzzer almost never carries a right tag, but the
/// checks before and after the tag run all the same.
pub fn key() -> Secret {
    Secret::from_bytes(vec![0x5a; 32]).expect("32 bytes is a valid secret")
}
