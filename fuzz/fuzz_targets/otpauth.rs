//! `otpauth://totp/…` and `otpauth://hotp/…` links (Key Uri Format) and the texts inside them:
//! what parses must write back to a link that parses to the same token.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::{Algorithm, OcraSuite, Secret, TokenUri};

fuzz_target!(|data: &[u8]| {
    let Some(text) = pushotp_fuzz::text(data) else { return };
    if let Ok(uri) = text.parse::<TokenUri>() {
        let written = uri.to_string();
        let back: TokenUri = written.parse().expect("a written link parses");
        assert_eq!(back, uri, "link round trip: {written}");
        let _ = uri.totp();
        let _ = uri.hotp();
    }
    if let Ok(secret) = Secret::from_base32(text) {
        let back = Secret::from_base32(&secret.to_base32()).expect("written base32 parses");
        assert_eq!(back.expose(), secret.expose(), "base32 round trip");
    }
    let _ = text.parse::<Algorithm>();
    let _ = text.parse::<OcraSuite>();
});
