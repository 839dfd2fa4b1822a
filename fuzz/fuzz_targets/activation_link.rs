//! Activation links (`pushotp://enroll?…`, docs/protocol.md §3), as a device reads them from a
//! QR code or a paste: what parses must write back to the same link.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::push::{ActivationLink, EnrollRequest};

fuzz_target!(|data: &[u8]| {
    let Some(text) = pushotp_fuzz::text(data) else { return };
    let Ok(link) = text.parse::<ActivationLink>() else { return };
    let written = link.to_string();
    let back: ActivationLink = written.parse().expect("a written link parses");
    assert_eq!(back, link, "link round trip: {written}");
    assert!(link.check_expiry(link.expires_at()).is_err(), "expired from exp on");
    // The device's enrollment request for it carries a proof the server accepts.
    let request = EnrollRequest::new(&link, "fuzz", [7; 16]).expect("a request for a valid link");
    assert!(request.verify(link.secret()).is_ok());
});
