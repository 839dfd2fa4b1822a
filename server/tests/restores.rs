//! What a restore (docs/protocol.md §8) shuts out, and the limits docs/threat-model.md lists
//! for it, each checked so that the document stays true.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp_server::{Config, ServerKey};
use serde_json::Value;
use support::{Browser, Device, Server};

async fn alice() -> (Server, Device) {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    (server, device)
}

fn error(reply: &Value) -> Option<&str> {
    reply["error"].as_str()
}

/// The server keeps the keys of a token's last 16 restores: a copy retired by one of them is
/// told `restored_elsewhere`; a copy older than that is refused like a stranger, without the
/// reason.
#[tokio::test]
async fn a_copy_older_than_the_last_16_restores_is_refused_as_a_stranger() {
    let (server, mut device) = alice().await;
    let mut copies = Vec::new();
    for _ in 0..17 {
        copies.push(device.clone());
        assert_eq!(device.restore().await.0, 200);
    }
    for (i, copy) in copies.iter().enumerate().skip(1) {
        let (status, reply) = copy.poll_raw().await;
        assert_eq!((status, error(&reply)), (410, Some("restored_elsewhere")), "copy {i}");
    }
    let (status, reply) = copies[0].poll_raw().await;
    assert_eq!(status, 401, "{reply}");
    assert_ne!(error(&reply), Some("restored_elsewhere"), "{reply}");
    assert_eq!(device.poll_raw().await.0, 200, "the current copy still polls");
    server.stop().await;
}

/// A restore moves the request and channel keys only: a stale copy can no longer answer, and
/// the codes its `K_otp` still makes (the token's HOTP codes, or the approval passcode of a
/// sign-in's request) sign nobody in when typed: the login page takes only the sign-in code an
/// approval gave.
#[tokio::test]
async fn a_stale_copy_can_neither_answer_nor_sign_in_with_a_typed_code() {
    let (server, mut device) = alice().await;
    let stale = device.clone();
    assert_eq!(device.restore().await.0, 200);
    let (status, reply) = stale.poll_raw().await;
    assert_eq!((status, error(&reply)), (410, Some("restored_elsewhere")));
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    assert_eq!(browser.push().await.0, 200);
    let request = device.poll().await.pop().unwrap();
    let otp = &stale.enrolled.otp;
    let hotp = pushotp::Hotp::new(otp.algorithm(), otp.digits()).unwrap();
    for code in [hotp.generate(&stale.keys.otp, 0), stale.passcode(&stale.keys.otp, &request)] {
        assert_eq!(browser.passcode(&code).await, 401, "{code}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    server.stop().await;
}

/// A restore tells a stale copy's open socket why, and from then on that socket gets nothing
/// more of the token: no request shows there (app, page, address, place, numbers), while the
/// restored copy's socket gets it.
#[tokio::test]
async fn a_stale_copy_s_open_socket_gets_nothing_more_after_a_restore() {
    let (server, mut device) = alice().await;
    let stale = device.clone();
    let mut stale_ws = stale.connect().await;
    assert_eq!(device.restore().await.0, 200);
    let told = support::next_json(&mut stale_ws).await;
    assert_eq!(told["type"], "restored", "{told}");
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    assert_eq!(browser.push().await.0, 200);
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.token_id, device.token_id);
    // Its only token gone, the stale socket is closed; whatever it still reads is no request.
    let rest = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let mut seen = Vec::new();
        while let Some(Ok(message)) = futures_util::StreamExt::next(&mut stale_ws).await {
            seen.push(message.to_string());
        }
        seen
    })
    .await
    .expect("the stale socket is closed");
    assert!(rest.iter().all(|m| !m.contains(r#""type":"push""#)), "{rest:?}");
    server.stop().await;
}

/// When an export is in the wrong hands (or a thief restored it), the administrator revokes the
/// token: its device is told that its pending request ended, and no copy of it, current or
/// stale, polls, answers or types a passcode again.
#[tokio::test]
async fn an_administrator_revokes_a_token_and_no_copy_of_it_works_again() {
    let (server, device) = alice().await;
    let mut thief = device.clone();
    assert_eq!(thief.restore().await.0, 200);
    let mut ws = thief.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = thief.next_push(&mut ws).await;

    pushotp_server::ended::revoke(&server.state, &device.token_id).await.unwrap();
    let notice = thief.next_ended(&mut ws, std::time::Duration::from_secs(2)).await;
    assert_eq!((notice.id, notice.reason), (request.id, pushotp::push::EndReason::Removed));
    for copy in [&device, &thief] {
        let (status, reply) = copy.poll_raw().await;
        assert_eq!(status, 401, "{reply}");
    }
    let (status, reply) = thief.approve_send(&request, Some(number), None).await;
    assert_eq!(status, 401, "{reply}");
    let typed = Browser::new(&server.url);
    typed.sign_in("alice").await;
    let code = thief.passcode(&thief.keys.otp, &request);
    assert_ne!(typed.passcode(&code).await, 303, "a revoked token's passcode signs nobody in");
    let err = pushotp_server::ended::revoke(&server.state, &device.token_id).await.unwrap_err();
    assert!(err.to_string().contains("already revoked"), "{err}");
    let removed = server
        .count("SELECT COUNT(*) FROM audit WHERE event = 'token_removed' AND detail = 'by administrator'")
        .await;
    assert_eq!(removed, 1);
    server.stop().await;
}
