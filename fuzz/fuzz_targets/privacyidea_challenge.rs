//! A challenge as privacyIDEA's poll (`GET /ttype/push`) lists it: a JSON object checked field
//! by field before its signatures are verified, with its capabilities re-canonicalised.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::privacyidea::{capabilities_message, check_challenge, offers_decline_reason};

fuzz_target!(|data: &[u8]| {
    if let Some(challenge) = pushotp_fuzz::js_value(data) {
        // The serial of the token that polled, and one the challenge names, if any.
        let named = challenge.get("serial").as_str().unwrap_or("PIPU0001").to_owned();
        for serial in ["PIPU0001", named.as_str()] {
            if let Ok(checked) = check_challenge(&challenge, serial) {
                assert_eq!(checked.serial, serial);
                let _ = checked.message();
                let _ = checked.choices();
            }
        }
    }
    let Some(text) = pushotp_fuzz::text(data) else { return };
    if let Ok(message) = capabilities_message(text, "NONCE") {
        assert!(message.starts_with("{\"capabilities\":{"));
        assert!(offers_decline_reason(text).is_ok(), "checked capabilities are read");
    }
});
