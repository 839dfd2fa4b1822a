//! Tokens as an export file or storage hands them back to the extension (JSON objects): the
//! checks each token passes before it is stored.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::Secret;
use pushotp::tokens::{check_otp_names, check_otp_token, check_push_token, is_web_origin};

fuzz_target!(|data: &[u8]| {
    if let Some(token) = pushotp_fuzz::js_value(data) {
        if let Ok(checked) = check_otp_token(&token) {
            // The secret is kept as the core reads it.
            assert!(Secret::from_base32(&checked.secret).is_ok(), "a stored secret reads back");
        }
        let _ = check_push_token(&token);
        let _ = check_otp_names(token.get("issuer"), token.get("account"));
    }
    if let Some(text) = pushotp_fuzz::text(data) {
        let _ = is_web_origin(text);
    }
});
