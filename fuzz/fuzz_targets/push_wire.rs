//! The push protocol's JSON messages (docs/protocol.md §3 to §8), as a device or the server
//! receives them: every message type parses the same bytes, and what parses must write back to
//! JSON that parses to the same message and must go through the checks without a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::push::{
    Answer, EnrollRequest, Enrolled, MaskedKeys, NumberMatch, OtpParams, PinParams, PushEnded,
    PushRequest, RestoreRequest, Restored, TokenNotice, WebPushSubscription,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Parses `data` as `T`; when it parses, the JSON written back parses to the same value.
fn parse<T>(data: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let message: T = serde_json::from_slice(data).ok()?;
    let json = serde_json::to_vec(&message).expect("a parsed message serialises");
    let back: T = serde_json::from_slice(&json).expect("a written message parses");
    assert_eq!(back, message, "JSON round trip");
    Some(message)
}

fuzz_target!(|data: &[u8]| {
    let key = pushotp_fuzz::key();
    let now = 1_764_086_400;

    if let Some(mut request) = parse::<PushRequest>(data) {
        let verdict = request.verify(&key, now);
        // What the server signs, the device accepts while the request is valid.
        if request.sign(&key).is_ok() {
            let at = request.created_at;
            assert_eq!(request.verify(&key, at).is_ok(), at < request.expires_at, "{request:?}");
        } else {
            assert!(verdict.is_err(), "a request the server cannot sign verified");
        }
    }
    if let Some(ended) = parse::<PushEnded>(data) {
        let _ = ended.verify(&key);
    }
    if let Some(notice) = parse::<TokenNotice>(data) {
        let verdict = notice.verify(&key);
        // What the server tags, the device accepts.
        match TokenNotice::new(&notice.token_id, notice.kind, notice.at, &key) {
            Ok(signed) => assert!(signed.verify(&key).is_ok(), "{signed:?}"),
            Err(_) => assert!(verdict.is_err(), "a notice the server cannot tag verified"),
        }
    }
    if let Some(answer) = parse::<Answer>(data) {
        let _ = answer.verify_device_tag(&key);
        let _ = answer.verify_answer_tag(&key);
    }
    if let Some(request) = parse::<EnrollRequest>(data) {
        let _ = request.verify(&key);
    }
    if let Some(mut enrolled) = parse::<Enrolled>(data) {
        // The answer to a request with its own token id, so that the checks reach the tag.
        let request = EnrollRequest {
            v: pushotp::push::VERSION,
            token_id: enrolled.token_id.clone(),
            device_name: "fuzz".into(),
            device_nonce: [7; 16],
            proof: [0; 32],
        };
        let verdict = enrolled.verify(&key, &request);
        // What the server signs, the device accepts.
        if enrolled.sign(&key, &request).is_ok() {
            assert!(enrolled.verify(&key, &request).is_ok(), "{enrolled:?}");
        } else {
            assert!(verdict.is_err(), "an answer the server cannot sign verified");
        }
    }
    if let Some(request) = parse::<RestoreRequest>(data) {
        let _ = request.verify(&key);
    }
    if let Some(restored) = parse::<Restored>(data) {
        let request = RestoreRequest {
            v: pushotp::push::VERSION,
            token_id: restored.token_id.clone(),
            nonce: [7; 16],
            tag: [0; 32],
        };
        let _ = restored.verify(&request, &key);
    }
    if let Some(subscription) = parse::<WebPushSubscription>(data) {
        let _ = pushotp::push::verify_webpush(&key, "tok_1", now, &subscription, &[0; 32], now);
    }
    // Parsed only: unmasking runs Argon2id, which is slow by design and parses nothing.
    let _ = parse::<MaskedKeys>(data);
    let _ = parse::<PinParams>(data);
    if let Some(params) = parse::<OtpParams>(data) {
        let passcode = params.passcode(&key, &[7; 16]).expect("valid parameters make a passcode");
        assert!(params.verify_passcode(&key, &[7; 16], &passcode), "{params:?}");
    }
    if let Some(number) = parse::<NumberMatch>(data) {
        assert!(number.choices().contains(&number.right()), "the right number is a choice");
    }
});
