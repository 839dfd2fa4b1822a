//! privacyIDEA push tokens against exchanges captured from a real privacyIDEA 3.14
//! (`vectors/privacyidea_push.json`, recorded by `scripts/privacyidea-vectors.mjs`; the server
//! accepted every device signature in it). The RSA signatures themselves are checked with
//! WebCrypto in `tests/unit/privacyidea-vectors.test.mjs`; here the core's strings and encodings.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "a panic is a test failure"
)]

use base64ct::{Base64, Encoding};
use pushotp::privacyidea::{
    Challenge, EnrollLink, Reply, capabilities_message, check_challenge, offers_decline_reason,
    poll_message, server_key_spki, signature_from_base32, signature_to_base32,
};
use serde_json::Value;

fn file() -> Value {
    serde_json::from_str(include_str!("vectors/privacyidea_push.json")).unwrap()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

#[test]
fn the_captured_enrollment_link_and_server_key() {
    let file = file();
    let link: EnrollLink = text(&file, "enroll_uri").parse().unwrap();
    let parsed = &file["enroll_uri_parsed"];
    assert_eq!(link.serial, text(parsed, "serial"));
    assert_eq!(link.url, text(parsed, "url"));
    assert_eq!(link.enrollment_credential, text(parsed, "enrollmentCredential"));
    assert!(!link.sslverify && link.poll_only && !link.needs_unlock());
    assert!(link.serial.starts_with("PIPU"));

    let detail = text(&file["server"], "public_key_detail");
    assert!(detail.starts_with("MIICCgKCAgEA"));
    let spki = server_key_spki(detail).unwrap();
    assert_eq!(Base64::encode_string(&spki), text(&file["server"], "public_key_spki_b64"));
    assert_eq!(
        spki[..24],
        [
            0x30, 0x82, 0x02, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
            0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x02, 0x0f, 0x00
        ]
    );
    // What the device sent at step 2 is SPKI too, one line of standard base64.
    assert!(text(&file["phone"], "pubkey_param").starts_with("MIICIjANBgkqhkiG9w0BAQEF"));
}

#[test]
fn the_captured_challenges() {
    let file = file();
    for captured in file["server_challenges"].as_array().unwrap() {
        let raw = &captured["raw_challenge_from_poll"];
        let challenge = Challenge {
            nonce: text(raw, "nonce"),
            url: text(raw, "url"),
            serial: text(raw, "serial"),
            question: text(raw, "question"),
            title: text(raw, "title"),
            sslverify: text(raw, "sslverify"),
            require_presence: raw["require_presence"].as_str(),
        };
        assert_eq!(challenge.message(), text(captured, "signed_string"));
        assert_eq!(challenge.nonce.len(), 32);
        if let Some(answer) = captured["presence_answer"].as_str() {
            assert_eq!(text(raw, "version"), "2");
            assert!(challenge.presence_options().any(|o| o == answer));
        }
        // The capabilities arrive as a JSON text made by Python, with a space.
        let capabilities = text(raw, "capabilities");
        assert_eq!(capabilities, "{\"decline_reason\": true}");
        assert!(offers_decline_reason(capabilities).unwrap());
        let signed = capabilities_message(capabilities, challenge.nonce).unwrap();
        assert_eq!(signed, text(captured, "capabilities_signed_bytes"));
        assert_eq!(
            signed,
            format!(
                "{{\"capabilities\":{{\"decline_reason\":true}},\"nonce\":\"{}\"}}",
                challenge.nonce
            )
        );
        for key in ["signature", "capabilities_signature"] {
            let b32 = text(raw, key);
            assert_eq!(b32.len(), 824);
            let bytes = signature_from_base32(b32).unwrap();
            assert_eq!(bytes.len(), 512);
            assert_eq!(signature_to_base32(&bytes), b32);
        }
    }
}

/// A parsed JSON value as the extension hands it to the core.
fn js(value: &Value) -> pushotp::value::Value {
    use pushotp::value::Value as Js;
    match value {
        Value::Null => Js::Null,
        Value::Bool(b) => Js::Bool(*b),
        Value::Number(n) => Js::Number(n.as_f64().unwrap()),
        Value::String(s) => Js::String(s.clone()),
        Value::Array(items) => Js::Array(items.iter().map(js).collect()),
        Value::Object(members) => {
            Js::Object(members.iter().map(|(k, v)| (k.clone(), js(v))).collect())
        }
    }
}

#[test]
fn the_captured_challenges_pass_the_check_as_they_were_signed() {
    let file = file();
    let serial = text(&file["enroll_uri_parsed"], "serial");
    for captured in file["server_challenges"].as_array().unwrap() {
        let raw = &captured["raw_challenge_from_poll"];
        let checked = check_challenge(&js(raw), serial).unwrap();
        assert_eq!(checked.message(), text(captured, "signed_string"));
        assert_eq!(
            checked.capabilities_message.as_deref(),
            Some(text(captured, "capabilities_signed_bytes"))
        );
        assert!(checked.decline_reason);
        match raw["require_presence"].as_str() {
            Some(options) => assert_eq!(checked.choices().unwrap().join(","), options),
            None => assert_eq!(checked.choices(), None),
        }
        // Another token's poll does not take it.
        assert_eq!(
            check_challenge(&js(raw), "PIPU00000000").unwrap_err().code(),
            "invalid_message"
        );
    }
}

#[test]
fn the_device_messages_the_server_accepted() {
    let file = file();
    let serial = text(&file["enroll_uri_parsed"], "serial");
    let challenges = file["server_challenges"].as_array().unwrap();
    let nonce_of = |i: usize| text(&challenges[i]["raw_challenge_from_poll"], "nonce");
    let mut answers = 0;
    for vector in file["vectors"].as_array().unwrap() {
        assert_eq!(vector["accepted"], Value::Bool(true));
        let message = text(vector, "message");
        let expected = match text(vector, "name") {
            "poll" => {
                let (s, timestamp) = message.split_once('|').unwrap();
                assert_eq!(s, serial);
                poll_message(serial, timestamp)
            }
            "approve" => Reply::Accept.message(nonce_of(0), serial),
            "approve_with_presence" => {
                let answer = challenges[1]["presence_answer"].as_str().unwrap();
                Reply::Presence(answer).message(nonce_of(1), serial)
            }
            "decline" => Reply::Decline.message(nonce_of(2), serial),
            "decline_unknown_trigger" => {
                Reply::DeclineWith("unknown_trigger").message(nonce_of(3), serial)
            }
            other => panic!("unknown vector {other}"),
        };
        assert_eq!(message, expected);
        if !message.starts_with(serial) {
            answers += 1;
        }
        let b32 = text(vector, "signature_b32");
        assert!(b32.ends_with("===="));
        assert_eq!(signature_to_base32(&signature_from_base32(b32).unwrap()), b32);
    }
    assert_eq!(answers, 4);
}
