//! privacyIDEA's enrollment: the `otpauth://pipush/…` or `pia://pipush/…` link from the QR
//! code, the server key of the enrollment reply (base64 of a DER PKCS#1 key) and base32
//! signatures.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::privacyidea::{
    EnrollLink, pkcs1_to_spki, server_key_spki, signature_from_base32, signature_to_base32,
};

fuzz_target!(|data: &[u8]| {
    // DER as bytes: what the base64 of the reply decodes to.
    if let Ok(spki) = pkcs1_to_spki(data) {
        assert!(spki.ends_with(data), "the SPKI wraps the key unchanged");
    }
    let Some(text) = pushotp_fuzz::text(data) else { return };
    if let Ok(link) = text.parse::<EnrollLink>() {
        let _ = link.needs_unlock();
    }
    let _ = server_key_spki(text);
    if let Ok(signature) = signature_from_base32(text) {
        let written = signature_to_base32(&signature);
        assert_eq!(signature_from_base32(&written).ok(), Some(signature), "base32 round trip");
    }
});
