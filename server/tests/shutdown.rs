//! Stopping the server (`Hub::close`, called on SIGTERM or Ctrl-C): a login page's event stream
//! and a device's socket end at once instead of holding the stop up until the login's outcome.
//! The binary's own stop, signal to exit, is tested end to end (tests/e2e/shutdown.test.mjs).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Server};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const AT_ONCE: Duration = Duration::from_secs(1);

#[tokio::test]
async fn closing_ends_event_streams_and_device_sockets_at_once() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    assert_eq!(browser.push().await.0, 200);
    device.next_push(&mut ws).await;
    let reply = browser.http.get(format!("{}/auth/events", server.url)).send().await.unwrap();
    let mut events = reply.bytes_stream();
    let first = events.next().await.unwrap().unwrap();
    assert!(std::str::from_utf8(&first).unwrap().contains(r#""state":"waiting""#));

    server.state.hub.close();

    // The stream ends, with nothing more.
    let rest = tokio::time::timeout(AT_ONCE, async {
        let mut rest = Vec::new();
        while let Some(chunk) = events.next().await {
            rest.extend_from_slice(&chunk.unwrap());
        }
        rest
    })
    .await
    .expect("the event stream ends at once");
    assert!(!String::from_utf8(rest).unwrap().contains("data:"));
    // The socket is closed as "going away" (RFC 6455 §7.4.1).
    let close = tokio::time::timeout(AT_ONCE, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the socket closes at once");
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Away));
    assert!(server.state.hub.sockets_gone(AT_ONCE).await);
    // A page that comes back meanwhile gets where its login is, and is not held.
    let reply = browser.http.get(format!("{}/auth/events", server.url)).send().await.unwrap();
    let body = tokio::time::timeout(AT_ONCE, reply.text()).await.expect("no stream is held");
    assert!(body.unwrap().contains(r#""state":"waiting""#));
}
