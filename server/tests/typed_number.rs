//! `--number-matching type`: the push request carries no numbers to pick from and asks for the
//! number the login page shows to be typed, so that a person who taps blindly approves once in
//! 90 tries rather than once in 3. The right typed number approves; a wrong one ends the
//! request and counts as a failed try, as a wrong picked number does.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::push::NumberEntry;
use pushotp_server::config::NumberMatching;
use pushotp_server::{Config, ServerKey};
use serde_json::{Value, json};
use support::{Browser, Device, Server, Ws};

/// A server that asks for typed numbers, with alice enrolled on one device, connected.
async fn alice() -> (Server, Device, Ws) {
    let config = Config { number_entry: NumberMatching::Type, ..Config::default() };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let ws = device.connect().await;
    (server, device, ws)
}

/// A new sign-in of alice's past the password and its push: the browser and the number its
/// page shows.
async fn signed_in(server: &Server) -> (Browser, u8) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (status, body): (u16, Value) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    (browser, u8::try_from(body["number"].as_u64().expect("a number on the page")).unwrap())
}

#[tokio::test]
async fn a_typed_number_request_has_no_choices_and_the_right_number_signs_in() {
    let (server, mut device, mut ws) = alice().await;
    let (browser, number) = signed_in(&server).await;
    // Verified as the extension verifies it, the field covered by the tag.
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.choices, None);
    assert_eq!(request.number_entry, Some(NumberEntry::Type));
    let sent = serde_json::to_value(&request).unwrap();
    assert_eq!((&sent["choices"], &sent["numberEntry"]), (&Value::Null, &json!("type")));
    // Without a number the core builds no approval; with the typed one, it signs in.
    assert!(
        pushotp::push::Answer::approve(
            &request,
            None,
            "123456",
            None,
            1,
            &device.keys.channel,
            &device.keys.answer
        )
        .is_err()
    );
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
}

#[tokio::test]
async fn a_wrong_typed_number_is_refused_ends_the_request_and_counts() {
    let (server, mut device, mut ws) = alice().await;
    let (browser, number) = signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    // Any two-digit number but the page's: the device cannot tell them apart.
    let wrong = if number == 99 { 10 } else { number + 1 };
    let (status, reply) = device.approve_send(&request, Some(wrong), None).await;
    assert_eq!(status, 200);
    assert_eq!(reply, json!({ "status": "rejected", "reason": "wrong_number", "triesLeft": 4 }));
    let outcome = browser.outcome().await;
    assert_eq!(
        (outcome["state"].as_str(), outcome["reason"].as_str()),
        (Some("rejected"), Some("wrong_number"))
    );
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
    // Over: the right number afterwards answers nothing.
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn choosing_stays_the_default() {
    assert_eq!(Config::default().number_entry, NumberMatching::Choose);
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.choices.map(|c| c.len()), Some(3));
    assert_eq!(request.number_entry, None);
    assert!(!serde_json::to_string(&request).unwrap().contains("numberEntry"));
}
