//! The end of a push request (docs/protocol.md §4, "The end of a request"): when a request ends
//! without the answer of the device holding it, that device is told at once over its socket, in
//! its next poll and by Web Push, with a notice it checks under the request's key.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::push::{EndReason, PushEnded, PushRequest};
use pushotp_server::{Config, ServerKey, ended, store};
use serde_json::Value;
use support::{Browser, Device, Server, Ws, browser_keys, push_service, quiet};

/// How long a notice may take: it is sent in the same step that ends the request.
const AT_ONCE: Duration = Duration::from_secs(2);

/// alice with two devices, both connected, at the login page.
struct Two {
    server: Server,
    laptop: Device,
    desktop: Device,
    laptop_ws: Ws,
    desktop_ws: Ws,
    browser: Browser,
}

async fn two_devices(config: Config) -> Two {
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    let laptop = Device::enroll(&server.link("alice").await, "laptop").await;
    let desktop = Device::enroll(&server.link("alice").await, "desktop").await;
    let (laptop_ws, desktop_ws) = (laptop.connect().await, desktop.connect().await);
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    Two { server, laptop, desktop, laptop_ws, desktop_ws, browser }
}

impl Two {
    /// "Use my mobile": the number shown and each device's copy of the request.
    async fn push(&mut self) -> (Option<u8>, PushRequest, PushRequest) {
        let (status, body) = self.browser.push().await;
        assert_eq!(status, 200, "{body}");
        let number = body["number"].as_u64().map(|n| u8::try_from(n).unwrap());
        let on_laptop = self.laptop.next_push(&mut self.laptop_ws).await;
        let on_desktop = self.desktop.next_push(&mut self.desktop_ws).await;
        (number, on_laptop, on_desktop)
    }
}

fn said(notice: &PushEnded) -> ([u8; 16], EndReason) {
    (notice.id, notice.reason)
}

#[tokio::test]
async fn an_approval_on_one_device_ends_the_request_on_the_other() {
    let mut t = two_devices(Config::default()).await;
    let (number, on_laptop, on_desktop) = t.push().await;
    let (_, reply) = t.laptop.approve_send(&on_laptop, number, None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    let notice = t.desktop.next_ended(&mut t.desktop_ws, AT_ONCE).await;
    assert_eq!(said(&notice), (on_desktop.id, EndReason::Answered));
    // The device that answered learns the outcome from its answer's reply, not from a notice.
    quiet(&mut t.laptop_ws).await;
    // What the notice says holds: the other copy can no longer be answered.
    let (_, reply) = t.desktop.send(&t.desktop.deny(&on_desktop)).await;
    assert_eq!(
        (reply["status"].as_str(), reply["reason"].as_str()),
        (Some("rejected"), Some("cancelled"))
    );
}

#[tokio::test]
async fn a_denial_or_a_report_on_one_device_ends_the_request_on_the_other() {
    for report in [false, true] {
        let mut t = two_devices(Config::default()).await;
        let (_, on_laptop, on_desktop) = t.push().await;
        let answer = if report { t.laptop.report(&on_laptop) } else { t.laptop.deny(&on_laptop) };
        assert_eq!(t.laptop.send(&answer).await.0, 200);
        let notice = t.desktop.next_ended(&mut t.desktop_ws, AT_ONCE).await;
        assert_eq!(said(&notice), (on_desktop.id, EndReason::Answered), "report: {report}");
        quiet(&mut t.laptop_ws).await;
    }
}

#[tokio::test]
async fn a_newer_push_replaces_the_request_on_every_device() {
    let mut t = two_devices(Config::default()).await;
    let (_, first_laptop, first_desktop) = t.push().await;
    assert_eq!(t.browser.push().await.0, 200);
    // The end of the first comes before the second.
    let notice = t.laptop.next_ended(&mut t.laptop_ws, AT_ONCE).await;
    assert_eq!(said(&notice), (first_laptop.id, EndReason::Replaced));
    let notice = t.desktop.next_ended(&mut t.desktop_ws, AT_ONCE).await;
    assert_eq!(said(&notice), (first_desktop.id, EndReason::Replaced));
    let second_laptop = t.laptop.next_push(&mut t.laptop_ws).await;
    let second_desktop = t.desktop.next_push(&mut t.desktop_ws).await;
    // Only the first ended: the newer one is still pending on both.
    assert_eq!(t.laptop.poll().await, vec![second_laptop]);
    assert_eq!(t.desktop.poll().await, vec![second_desktop]);
}

#[tokio::test]
async fn a_request_that_expires_on_the_server_ends_on_every_device() {
    let mut t = two_devices(Config { request_ttl: 1, ..Config::default() }).await;
    let (status, _) = t.browser.push().await;
    assert_eq!(status, 200);
    let on_laptop = t.laptop.next_push_late(&mut t.laptop_ws).await;
    let on_desktop = t.desktop.next_push_late(&mut t.desktop_ws).await;
    let within = Duration::from_secs(1) + AT_ONCE;
    let notice = t.laptop.next_ended(&mut t.laptop_ws, within).await;
    assert_eq!(said(&notice), (on_laptop.id, EndReason::Expired));
    let notice = t.desktop.next_ended(&mut t.desktop_ws, within).await;
    assert_eq!(said(&notice), (on_desktop.id, EndReason::Expired));
    assert_eq!(t.browser.outcome().await["state"], "expired");
}

#[tokio::test]
async fn a_removed_token_ends_its_requests_and_only_its_own() {
    let mut t = two_devices(Config::default()).await;
    let (_, on_laptop, on_desktop) = t.push().await;
    assert_eq!(t.laptop.remove().await.0, 200);
    let notice = t.laptop.next_ended(&mut t.laptop_ws, AT_ONCE).await;
    assert_eq!(said(&notice), (on_laptop.id, EndReason::Removed));
    // The person's other device can still answer its copy.
    quiet(&mut t.desktop_ws).await;
    assert_eq!(t.desktop.poll().await, vec![on_desktop]);
}

#[tokio::test]
async fn a_poll_lists_what_ended_while_the_device_was_away() {
    let mut t = two_devices(Config::default()).await;
    let (number, on_laptop, on_desktop) = t.push().await;
    drop(t.desktop_ws);
    let (_, reply) = t.laptop.approve_send(&on_laptop, number, None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    let (pending, ended) = t.desktop.poll_all().await;
    assert!(pending.is_empty());
    assert_eq!(ended.iter().map(said).collect::<Vec<_>>(), [(on_desktop.id, EndReason::Answered)]);
    // The device that answered is not told of its own answer.
    assert_eq!(t.laptop.poll_all().await, (vec![], vec![]));
    // A socket opened now is told too, right after its log-in.
    let mut ws = t.desktop.connect().await;
    let notice = t.desktop.next_ended(&mut ws, AT_ONCE).await;
    assert_eq!(said(&notice), (on_desktop.id, EndReason::Answered));
    // A minute after its time was up the device has dropped it by itself: no longer listed.
    let gone = i64::try_from(support::now()).unwrap() - 61;
    sqlx::query("UPDATE push_requests SET expires_at = $1")
        .bind(gone)
        .execute(&t.server.state.db.writer)
        .await
        .unwrap();
    assert_eq!(t.desktop.poll_all().await, (vec![], vec![]));
    let mut ws = t.desktop.connect().await;
    quiet(&mut ws).await;
}

#[tokio::test]
async fn web_push_carries_the_end_under_the_request_s_topic() {
    // The push service runs on loopback, which only this option lets the server reach.
    let mut t = two_devices(Config { webpush_allow_loopback: true, ..Config::default() }).await;
    let mut service = push_service(201).await;
    let (ua_secret, auth, p256dh, auth_b64) = browser_keys();
    assert_eq!(t.desktop.register_webpush(&service.endpoint, &p256dh, &auth_b64).await.0, 200);
    let mut next_message = async || {
        let (headers, body) =
            tokio::time::timeout(Duration::from_secs(10), service.received.recv())
                .await
                .expect("a Web Push message in time")
                .unwrap();
        let plain =
            web_push_native::decrypt(body, &ua_secret, &web_push_native::Auth::from(auth)).unwrap();
        let topic = headers.get("topic").map(|t| t.to_str().unwrap().to_owned());
        (topic, serde_json::from_slice::<Value>(&plain).unwrap())
    };
    let (number, on_laptop, on_desktop) = t.push().await;
    let (topic, message) = next_message().await;
    assert_eq!(message["type"], "push");
    assert_eq!(message["request"]["id"], Base64UrlUnpadded::encode_string(&on_desktop.id));
    // The request's id is its topic: a push service still holding it for a device that is
    // away delivers only the notice of its end, which has the same topic.
    assert_eq!(topic.as_deref(), Some(Base64UrlUnpadded::encode_string(&on_desktop.id).as_str()));
    let (_, reply) = t.laptop.approve_send(&on_laptop, number, None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    let (end_topic, message) = next_message().await;
    assert_eq!(message["type"], "ended", "{message}");
    let notice: PushEnded = serde_json::from_value(message["ended"].clone()).unwrap();
    notice.verify(&t.desktop.keys.request).unwrap();
    assert_eq!(said(&notice), (on_desktop.id, EndReason::Answered));
    assert_eq!(end_topic, topic);
}

#[tokio::test]
async fn a_notice_for_another_token_s_key_does_not_verify() {
    // What a device checks: a notice is tagged with the key of the token it names, so one
    // device's notices cannot end requests on another.
    let mut t = two_devices(Config::default()).await;
    let (number, on_laptop, _) = t.push().await;
    t.laptop.approve_send(&on_laptop, number, None).await;
    let notice = t.desktop.next_ended(&mut t.desktop_ws, AT_ONCE).await;
    assert_eq!(notice.verify(&t.laptop.keys.request), Err(pushotp::Error::BadTag));
    let mut moved = notice.clone();
    moved.token_id.clone_from(&t.laptop.token_id);
    assert_eq!(moved.verify(&t.laptop.keys.request), Err(pushotp::Error::BadTag));
}

/// An answer with a wrong PIN holds its request while the PIN is checked; if the sign-in ends
/// in those moments (here denied on the other device), handing the request back must not make
/// it pending again: it ends, and the device whose answer held it is told.
#[tokio::test]
async fn a_request_that_ends_while_a_wrong_pin_answer_holds_it_stays_ended() {
    let mut t = two_devices(Config::default()).await;
    let (_, on_laptop, on_desktop) = t.push().await;
    let id = Base64UrlUnpadded::encode_string(&on_laptop.id);
    let db = &t.server.state.db;
    let device_time = i64::try_from(support::now()).unwrap();
    assert!(store::requests::claim(db, &id, device_time, device_time).await.unwrap());
    let deny = t.desktop.deny(&on_desktop);
    assert_eq!(t.desktop.send(&deny).await.0, 200);
    assert!(ended::hand_back(&t.server.state, &id, device_time).await.unwrap(), "it ended");
    assert_eq!(t.laptop.poll().await, vec![], "the request is pending again");
    let notice = t.laptop.next_ended(&mut t.laptop_ws, AT_ONCE).await;
    assert_eq!(said(&notice), (on_laptop.id, EndReason::Answered));
    quiet(&mut t.desktop_ws).await;
}

/// The same when the request's token is removed while a wrong-PIN answer holds the request:
/// it ends (its device removed the token itself, so nobody is left to tell), while the copy
/// sent to the person's other token still waits.
#[tokio::test]
async fn a_request_whose_token_is_removed_while_a_wrong_pin_answer_holds_it_stays_ended() {
    let mut t = two_devices(Config::default()).await;
    let (_, on_laptop, on_desktop) = t.push().await;
    let id = Base64UrlUnpadded::encode_string(&on_laptop.id);
    let db = &t.server.state.db;
    let device_time = i64::try_from(support::now()).unwrap();
    assert!(store::requests::claim(db, &id, device_time, device_time).await.unwrap());
    assert_eq!(t.laptop.remove().await.0, 200);
    assert!(ended::hand_back(&t.server.state, &id, device_time).await.unwrap(), "it ended");
    let pending = t
        .server
        .count("SELECT COUNT(*) FROM push_requests WHERE state IN ('pending', 'answering')")
        .await;
    assert_eq!(pending, 1, "only the desktop's copy waits");
    assert_eq!(t.desktop.poll().await, vec![on_desktop]);
}

/// An approval in flight when its token is removed (or revoked, or restored elsewhere) approves
/// nothing: the removal marks the request it holds, and the approval's own step refuses it.
/// Settled outcomes keep no end reason, so no device is told of an end it answered itself.
#[tokio::test]
async fn an_approval_in_flight_when_its_token_is_removed_approves_nothing() {
    let mut t = two_devices(Config::default()).await;
    let (_, on_laptop, on_desktop) = t.push().await;
    let db = &t.server.state.db;
    let device_time = i64::try_from(support::now()).unwrap();
    let desktop_id = Base64UrlUnpadded::encode_string(&on_desktop.id);
    assert!(store::requests::claim(db, &desktop_id, device_time, device_time).await.unwrap());
    assert_eq!(t.desktop.remove().await.0, 200);
    assert!(!store::requests::approve(db, &desktop_id).await.unwrap(), "a removed token approved");

    // Without a removal the same step approves, and leaves no end reason behind.
    let laptop_id = Base64UrlUnpadded::encode_string(&on_laptop.id);
    assert!(store::requests::claim(db, &laptop_id, device_time, device_time).await.unwrap());
    assert!(store::requests::approve(db, &laptop_id).await.unwrap());
    let marked = t
        .server
        .count(
            "SELECT COUNT(*) FROM push_requests WHERE state = 'approved' AND ended_why IS NOT NULL",
        )
        .await;
    assert_eq!(marked, 0);
}
