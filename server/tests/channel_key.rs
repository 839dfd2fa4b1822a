//! What a thief of a copied profile can do with a token's channel key alone (`K_chan`, which
//! the extension keeps outside the PIN mask and the vault so that requests arrive and denials
//! work while locked), as docs/threat-model.md says: see the person's requests, refuse, report,
//! remove or take over the token; never approve.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::Secret;
use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Server};

/// A copy of `device` as a copied profile gives it to someone who does not know the PIN: the
/// request and channel keys in clear, the passcode and answer keys only masked with the PIN.
fn stolen(device: &Device) -> Device {
    let mut copy = device.clone();
    copy.keys.otp = Secret::from_bytes(vec![0x5a; 20]).unwrap();
    copy.keys.answer = Secret::from_bytes(vec![0xa5; 32]).unwrap();
    assert!(copy.masked.is_some());
    copy
}

#[tokio::test]
async fn the_channel_key_alone_sees_reports_removes_and_takes_over_but_never_approves() {
    let config = Config { lock_on_report: true, ..Config::default() };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    device.protect_with_pin("4711");
    let mut thief = stolen(&device);

    // It sees the person's sign-in as the device does (app, page, address) and can refuse and
    // report it: the sign-in ends, and the report locks the token.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = browser.push().await.1["number"].as_u64().map(|n| u8::try_from(n).unwrap());
    let request = thief.poll().await.pop().expect("the thief sees the request");
    assert_eq!(request.app, device.poll().await[0].app);
    let guess = thief.approve(&request, number, Some("0000"));
    let (status, reply) = thief.send(&guess).await;
    assert_eq!(status, 200, "{reply}");
    assert_ne!(reply["status"], "approved", "no approval without the PIN: {reply}");
    browser.sign_in("alice").await;
    browser.push().await;
    let request = thief.poll().await.pop().unwrap();
    let (status, reply) = thief.send(&thief.report(&request)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("reported")), "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);

    // It can take the token over by a restore (protocol §8): the person's device is told
    // `restored_elsewhere` and stops.
    let taken = thief.clone();
    assert_eq!(thief.restore().await.0, 200);
    let (status, reply) = device.poll_raw().await;
    assert_eq!((status, reply["error"].as_str()), (410, Some("restored_elsewhere")), "{reply}");

    // And it can remove the token for good: every copy is refused from then on.
    assert_eq!(thief.remove().await.0, 200);
    for copy in [&thief, &taken, &device] {
        assert_eq!(copy.poll_raw().await.0, 401);
    }
    server.stop().await;
}
