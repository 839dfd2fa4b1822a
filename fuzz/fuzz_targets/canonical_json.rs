//! The RFC 8785 canonicaliser (JSON Canonicalization Scheme) that privacyIDEA's signed
//! capabilities go through: its output is JSON, and canonical already.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::privacyidea::canonical_json;

fuzz_target!(|data: &[u8]| {
    let Some(text) = pushotp_fuzz::text(data) else { return };
    let Ok(canonical) = canonical_json(text) else { return };
    assert!(
        serde_json::from_str::<serde_json::Value>(&canonical).is_ok(),
        "the canonical form is JSON: {canonical}"
    );
    let again = canonical_json(&canonical).expect("the canonical form is accepted");
    assert_eq!(again, canonical, "canonicalising is idempotent");
});
