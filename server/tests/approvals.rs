//! An approval counts only with everything right: both tags (`K_chan`, `K_ans`) are not enough
//! without the request's own passcode (docs/protocol.md §5).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::push::Answer;
use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Server};

/// A passcode that is not `code`: the next one in the 6-digit space.
fn other_than(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn an_approval_with_valid_tags_but_a_wrong_or_another_requests_passcode_approves_nothing() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;

    // A wrong passcode, tagged with the device's real keys.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let otp = device.keys.otp.clone();
    let wrong = other_than(&device.passcode(&otp, &request));
    let at = device.next_answered_at();
    let answer = Answer::approve(
        &request,
        Some(number),
        &wrong,
        None,
        at,
        &device.keys.channel,
        &device.keys.answer,
    )
    .unwrap();
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("rejected")), "{reply}");
    assert_eq!(reply["reason"], "bad_passcode", "{reply}");
    assert_ne!(browser.outcome().await["state"], "approved");
    // The answer tag proved the keys right: no failed try (a wrong key is no guess).
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The passcode of another request (one approved before), with valid tags.
    let approved = Browser::new(&server.url);
    approved.sign_in("alice").await;
    let number = u8::try_from(approved.push().await.1["number"].as_u64().unwrap()).unwrap();
    let first = device.next_push(&mut ws).await;
    let spent = device.passcode(&otp, &first);
    let (_, reply) = device.approve_send(&first, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    let sessions = server.count("SELECT COUNT(*) FROM sessions").await;
    let third = Browser::new(&server.url);
    third.sign_in("alice").await;
    let number = u8::try_from(third.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let at = device.next_answered_at();
    let answer = Answer::approve(
        &request,
        Some(number),
        &spent,
        None,
        at,
        &device.keys.channel,
        &device.keys.answer,
    )
    .unwrap();
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("rejected")), "{reply}");
    assert_eq!(reply["reason"], "bad_passcode", "{reply}");
    assert_ne!(third.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, sessions);
    server.stop().await;
}
