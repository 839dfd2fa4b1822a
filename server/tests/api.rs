//! The reference server driven over real HTTP and WebSocket on 127.0.0.1 by devices written on
//! the core crate and browsers with cookie jars: every flow of docs/protocol.md.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::Duration;

use pushotp::push::RestoreRequest;
use pushotp_server::{Config, ServerKey};
use serde_json::{Value, json};
use support::{
    Browser, Device, Server, browser_keys, geoip_test_db, next_json, now, push_service, quiet,
};

async fn memory_server(config: Config) -> Server {
    Server::start("sqlite::memory:", ServerKey::random(), config).await
}

/// A server with alice enrolled on one device, connected.
async fn alice(config: Config) -> (Server, Device, support::Ws, Browser) {
    let server = memory_server(config).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "Chrome on laptop").await;
    let ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    (server, device, ws, browser)
}

#[tokio::test]
async fn approve_with_the_right_number_signs_the_person_in() {
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.app, "Demo Portal");
    assert_eq!(request.origin, server.url);
    assert_eq!(request.client_ip, "127.0.0.1");
    let choices = request.choices.unwrap();
    assert!(choices.contains(&number), "the page's number is one of the device's choices");
    let answer = device.approve(&request, Some(number), None);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    let page = browser.complete().await;
    assert!(page.contains("You are signed in as <strong>alice</strong>"), "{page}");
    // The same answer again is refused: every request is answered once.
    let (status, reply) = device.send(&answer).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_approved'").await, 1);
}

#[tokio::test]
async fn enrollment_declares_the_login_origins_and_sign_ins_name_the_first() {
    // Without any, the answer has no `loginOrigins` (devices from before the field refuse
    // one that has it) and requests name the server's own origin (above).
    let (_server, device, _ws, _browser) = alice(Config::default()).await;
    assert_eq!(device.enrolled.login_origins, None);

    let origins = vec!["https://portal.example.com".to_owned(), "http://127.0.0.1:5173".to_owned()];
    let config = Config { login_origins: origins.clone(), ..Config::default() };
    let (_server, device, mut ws, browser) = alice(config).await;
    // Verified under the activation key with the rest of the answer (Device::enroll).
    assert_eq!(device.enrolled.login_origins.as_ref(), Some(&origins));
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.origin, "https://portal.example.com");

    for bad in [
        "https://portal.example.com/",
        "portal.example.com",
        "https://Portal.example.com",
        "http://portal.example.com",
    ] {
        let config = Config { login_origins: vec![bad.to_owned()], ..Config::default() };
        assert!(config.check().is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_wrong_number_is_refused_and_counted() {
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push(&mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number).unwrap();
    let (status, reply) = device.approve_send(&request, Some(wrong), None).await;
    assert_eq!(status, 200);
    assert_eq!(reply, json!({ "status": "rejected", "reason": "wrong_number", "triesLeft": 4 }));
    let outcome = browser.outcome().await;
    assert_eq!(
        (outcome["state"].as_str(), outcome["reason"].as_str()),
        (Some("rejected"), Some("wrong_number"))
    );
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
    // A right answer afterwards forgives nothing: failures decay with time alone.
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, Some(u8::try_from(number).unwrap()), None).await;
    assert_eq!(reply["status"], "approved");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
}

#[tokio::test]
async fn deny_tells_the_login_page() {
    let (server, device, mut ws, browser) = alice(Config::default()).await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    let (status, reply) = device.send(&device.deny(&request)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("denied")));
    assert_eq!(browser.outcome().await["state"], "denied");
    assert_eq!(server.count("SELECT COUNT(*) FROM reports").await, 0);
    // The denied sign-in is over; a new one (the password again) waits for the cooldown: no
    // new push right away (no push bombing).
    let (status, body) = browser.push().await;
    assert_eq!((status, body["error"].as_str()), (409, Some("sign_in_over")), "{body}");
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (status, body) = browser.push().await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_requests")), "{body}");
}

/// How [`a_denied_reported_or_locked_login_is_over_for_good`] ends a sign-in.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Deny,
    Report,
    /// The token answering is locked (by an administrator) when the person approves.
    Locked,
}

/// A denied, reported or locked sign-in stays so: once the cooldown is over (none here), the
/// same login sends no push, even to the person's other device, and takes no passcode, not
/// even a right one; the person starts again with the password.
#[tokio::test]
async fn a_denied_reported_or_locked_login_is_over_for_good() {
    let config = Config { deny_cooldown: 0, max_pending_per_user: 10, ..Config::default() };
    let server = memory_server(config).await;
    server.user("alice").await;
    let mut laptop = Device::enroll(&server.link("alice").await, "laptop").await;
    let phone = Device::enroll(&server.link("alice").await, "phone").await;
    let (mut laptop_ws, mut phone_ws) = (laptop.connect().await, phone.connect().await);
    for (ending, state) in
        [(Ending::Deny, "denied"), (Ending::Report, "denied"), (Ending::Locked, "locked")]
    {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        let (status, body) = browser.push().await;
        assert_eq!(status, 200, "{ending:?}: {body}");
        let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
        let request = laptop.next_push(&mut laptop_ws).await;
        phone.next_push(&mut phone_ws).await;
        let answer = match ending {
            Ending::Deny => laptop.deny(&request),
            Ending::Report => laptop.report(&request),
            Ending::Locked => {
                pushotp_server::tokens::lock(&server.state, &laptop.token_id).await.unwrap();
                laptop.approve(&request, Some(number), None)
            }
        };
        assert_eq!(laptop.send(&answer).await.0, 200, "{ending:?}");
        assert_eq!(browser.outcome().await["state"], state, "{ending:?}");
        // The phone's copy ended with the sign-in.
        phone.next_ended(&mut phone_ws, Duration::from_secs(5)).await;

        let (status, body) = browser.push().await;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("sign_in_over")),
            "{ending:?}: {body}"
        );
        quiet(&mut phone_ws).await;
        assert_eq!(browser.outcome().await["state"], state, "{ending:?}");
        // Whatever code comes with the ended sign-in's cookie, the page says it ended.
        let code = "123456";
        let reply = browser
            .http
            .post(format!("{}/auth/passcode", server.url))
            .form(&[("passcode", code)])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 409, "{ending:?}");
        let page = reply.text().await.unwrap();
        assert!(page.contains("This sign-in has ended"), "{ending:?}: {page}");
        assert!(page.contains(r#"action="/app/login""#), "{ending:?}: {page}");
        // The page dropped the ended sign-in's cookie: nothing more goes with it.
        assert_eq!(browser.push().await.0, 401, "{ending:?}");
    }
}

#[tokio::test]
async fn report_records_a_fraud_report_and_can_lock_the_token() {
    let geo_config = Config {
        trusted_proxy: Some("127.0.0.1".parse().unwrap()),
        lock_on_report: true,
        ..Config::default()
    };
    let server =
        Server::start_with("sqlite::memory:", ServerKey::random(), geo_config, geoip_test_db())
            .await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    // Through the trusted proxy, from London.
    browser.sign_in_with("alice", "alice-pw", &[("x-forwarded-for", "81.2.69.142")]).await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.client_ip, "81.2.69.142");
    let place = request.place.clone().unwrap();
    assert_eq!((place.city.as_str(), place.country.as_str()), ("London", "GB"));
    let (status, reply) = device.send(&device.report(&request)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("reported")));
    let outcome = browser.outcome().await;
    assert_eq!(
        (outcome["state"].as_str(), outcome["reason"].as_str()),
        (Some("denied"), Some("reported"))
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM reports WHERE username = 'alice' AND client_ip = '81.2.69.142' AND place LIKE 'London, GB%'").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_reported'").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
}

#[tokio::test]
async fn an_expired_request_cannot_be_approved() {
    let (_server, mut device, mut ws, browser) =
        alice(Config { request_ttl: 1, ..Config::default() }).await;
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push_late(&mut ws).await;
    assert_eq!(browser.outcome().await["state"], "expired");
    let (status, reply) =
        device.approve_send(&request, Some(u8::try_from(number).unwrap()), None).await;
    assert_eq!(
        (status, reply["status"].as_str(), reply["reason"].as_str()),
        (200, Some("rejected"), Some("expired"))
    );
    // The device itself refuses to show it too.
    assert_eq!(request.verify(&device.keys.request, now() + 1), Err(pushotp::Error::Expired));
}

#[tokio::test]
async fn forged_requests_and_answers_are_refused() {
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    // A request changed on the way (or made without K_req) never verifies on the device.
    let mut forged = request.clone();
    forged.app = "Evil Portal".into();
    assert_eq!(forged.verify(&device.keys.request, now()), Err(pushotp::Error::BadTag));
    let mut forged = request.clone();
    forged.tag[0] ^= 1;
    assert_eq!(forged.verify(&device.keys.request, now()), Err(pushotp::Error::BadTag));
    // An answer with a forged device tag changes nothing and counts nothing.
    let mut answer = device.approve(&request, Some(number), None);
    answer.device_tag[0] ^= 1;
    let (status, reply) = device.send(&answer).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["error"], "unauthorized");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    // An answer for another request id is unknown.
    let mut other = device.approve(&request, Some(number), None);
    other.request_id[0] ^= 1;
    assert_eq!(device.send(&other).await.0, 404);
    // The genuine answer still goes through (its passcode depends on its request alone).
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
}

/// An answer of another protocol version (a device that speaks version 1) is refused as what it
/// is, `unsupported_version`, not as a forged device tag: the device can say why, and nothing
/// is claimed or counted, so the request still takes a version-2 answer.
#[tokio::test]
async fn an_answer_of_version_1_is_refused_as_an_unsupported_version() {
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let mut old = device.approve(&request, Some(number), None);
    old.v = 1;
    let (status, reply) = device.send(&old).await;
    assert_eq!((status, reply["error"].as_str()), (400, Some("unsupported_version")), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("version 2"), "{reply}");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
}

#[tokio::test]
async fn a_forged_answer_tag_counts_as_a_failed_try() {
    let (server, device, mut ws, browser) = alice(Config::default()).await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let passcode = device.passcode(&device.keys.otp, &request);
    let wrong_key = pushotp::Secret::from_bytes(vec![9u8; 32]).unwrap();
    let answer = pushotp::push::Answer::approve(
        &request,
        Some(number),
        &passcode,
        None,
        now(),
        &device.keys.channel,
        &wrong_key,
    )
    .unwrap();
    let (status, reply) = device.send(&answer).await;
    assert_eq!(status, 200);
    assert_eq!(reply, json!({ "status": "rejected", "reason": "bad_answer", "triesLeft": 4 }));
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
}

/// PIN-protected tokens with three tries, and pushes without pause.
fn pin_config(number_matching: bool) -> Config {
    Config {
        require_pin: true,
        max_tries: 3,
        number_matching,
        deny_cooldown: 0,
        max_pending_per_user: 10,
        ..Config::default()
    }
}

#[tokio::test]
async fn a_wrong_pin_keeps_the_request_open_and_the_right_one_then_approves() {
    let (server, mut device, mut ws, browser) = alice(pin_config(true)).await;
    assert!(device.enrolled.pin.required);
    assert_eq!(device.enrolled.pin.max_tries, 3);
    device.protect_with_pin("4711");
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let wrong = device.approve(&request, Some(number), Some("0000"));
    let (status, reply) = device.send(&wrong).await;
    assert_eq!(status, 200);
    assert_eq!(
        reply,
        json!({ "status": "rejected", "reason": "wrong_pin", "triesLeft": 2, "pending": true })
    );
    // Counted, and both the request and its login still wait.
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'pending'").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM logins WHERE state = 'waiting'").await, 1);
    // The same wrong answer again is a replay: refused, and not counted.
    let (status, reply) = device.send(&wrong).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
    // The right PIN on the same request (with the device's next passcode) signs in; the wrong
    // one still counts (failures decay with time alone).
    let (_, reply) = device.approve_send(&request, Some(number), Some("4711")).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
    // And the request is answered for good.
    let (status, reply) = device.approve_send(&request, Some(number), Some("4711")).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_approved'").await, 1);
}

#[tokio::test]
async fn wrong_pins_on_one_request_lock_the_token_after_max_tries() {
    let (server, mut device, mut ws, browser) = alice(pin_config(false)).await;
    device.protect_with_pin("4711");
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.choices, None);
    for left in [2, 1] {
        let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
        assert_eq!(
            reply,
            json!({ "status": "rejected", "reason": "wrong_pin", "triesLeft": left, "pending": true })
        );
    }
    let (_, reply) = device.approve_send(&request, None, Some("1234")).await;
    assert_eq!(reply, json!({ "status": "rejected", "reason": "locked", "triesLeft": 0 }));
    assert_eq!(browser.outcome().await["state"], "locked");
    assert_eq!(
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'rejected'").await,
        1
    );
    // Locked: the request is over, even for the right PIN, and no new push goes out.
    let (status, reply) = device.approve_send(&request, None, Some("4711")).await;
    assert_eq!(status, 409, "{reply}");
    let (status, body) = browser.push().await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_locked'").await, 1);
}

#[tokio::test]
async fn a_wrong_number_ends_the_request_whatever_the_pin() {
    let (server, mut device, mut ws, browser) = alice(pin_config(true)).await;
    device.protect_with_pin("4711");
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push(&mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number);
    // A wrong number with a wrong PIN: a guess at the number is never given a second chance.
    let (_, reply) = device.approve_send(&request, wrong, Some("0000")).await;
    assert_eq!(reply, json!({ "status": "rejected", "reason": "wrong_number", "triesLeft": 2 }));
    let outcome = browser.outcome().await;
    assert_eq!(
        (outcome["state"].as_str(), outcome["reason"].as_str()),
        (Some("rejected"), Some("wrong_number"))
    );
    let (status, _) =
        device.approve_send(&request, Some(u8::try_from(number).unwrap()), Some("4711")).await;
    assert_eq!(status, 409);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 1);
}

#[tokio::test]
async fn concurrent_answers_approve_once() {
    let config = Config { max_tries: 100, ..pin_config(false) };
    let (server, mut device, mut ws, browser) = alice(config).await;
    device.protect_with_pin("4711");
    // Right answers racing: one approves, the others find the request answered.
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    let answers: Vec<_> = (0..6).map(|_| device.approve(&request, None, Some("4711"))).collect();
    let replies = futures_util::future::join_all(answers.iter().map(|a| device.send(a))).await;
    let approved = replies.iter().filter(|(_, r)| r["status"] == "approved").count();
    assert_eq!(approved, 1, "{replies:?}");
    assert!(replies.iter().all(|(s, r)| r["status"] == "approved" || *s == 409), "{replies:?}");
    assert_eq!(browser.outcome().await["state"], "approved");

    // Right and wrong PINs racing: whatever the order, at most one approves; a wrong PIN that
    // wins hands the request back, so the next right answer still can.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    let answers: Vec<_> = (0..8)
        .map(|i| device.approve(&request, None, Some(if i % 2 == 0 { "4711" } else { "0000" })))
        .collect();
    let replies = futures_util::future::join_all(answers.iter().map(|a| device.send(a))).await;
    let approved = replies.iter().filter(|(_, r)| r["status"] == "approved").count();
    assert!(approved <= 1, "{replies:?}");
    if approved == 0 {
        let (_, reply) = device.approve_send(&request, None, Some("4711")).await;
        assert_eq!(reply["status"], "approved", "{reply}");
    }
    assert_eq!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_approved'").await, 2);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'approved'").await,
        2
    );
}

#[tokio::test]
async fn pending_pushes_per_person_are_limited() {
    let (server, _device, _ws, _browser) =
        alice(Config { max_pending_per_user: 2, ..Config::default() }).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        statuses.push(browser.push().await.0);
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'pending'").await, 2);
}

/// Twelve logins of one person push at once against a limit of three: the check and the
/// insert are one step per person, so exactly three go out (an SQLite file, as served: reads
/// and writes on separate connections).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_push_limit_holds_for_pushes_at_the_same_moment() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("server.db").display());
    let config = Config { max_pending_per_user: 3, ..Config::default() };
    let server = Server::start(&database, ServerKey::random(), config).await;
    server.user("alice").await;
    Device::enroll(&server.link("alice").await, "laptop").await;
    support::assert_the_push_limit_holds_at_once(&server, "alice", 12, 3).await;
}

#[tokio::test]
async fn approved_sign_ins_do_not_count_toward_the_push_limit() {
    // Two devices: an approval on one cancels the login's request on the other, and that
    // cancelled copy belongs to a successful sign-in too.
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    let mut laptop = Device::enroll(&server.link("alice").await, "laptop").await;
    let desktop = Device::enroll(&server.link("alice").await, "desktop").await;
    let (mut laptop_ws, mut desktop_ws) = (laptop.connect().await, desktop.connect().await);
    // Three sign-ins within a request lifetime, each approved: the fourth may push too.
    for _ in 0..4 {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        let (status, body) = browser.push().await;
        assert_eq!(status, 200, "{body}");
        let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
        let request = laptop.next_push(&mut laptop_ws).await;
        desktop.next_push(&mut desktop_ws).await;
        let (_, reply) = laptop.approve_send(&request, Some(number), None).await;
        assert_eq!(reply["status"], "approved", "{reply}");
        browser.complete().await;
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'cancelled'").await,
        4
    );

    // A bomber's pushes still count, whatever became of them: one answered wrongly, one
    // replaced by a newer push of its login, that newer one left waiting; then the limit.
    let bomber = Browser::new(&server.url);
    bomber.sign_in("alice").await;
    let number = bomber.push().await.1["number"].as_u64().unwrap();
    let request = laptop.next_push(&mut laptop_ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number).unwrap();
    let (_, reply) = laptop.approve_send(&request, Some(wrong), None).await;
    assert_eq!(reply["reason"], "wrong_number", "{reply}");
    assert_eq!(bomber.push().await.0, 200);
    assert_eq!(bomber.push().await.0, 200);
    let (status, body) = bomber.push().await;
    assert_eq!(status, 429, "{body}");
    // Also from a fresh login.
    let other = Browser::new(&server.url);
    other.sign_in("alice").await;
    assert_eq!(other.push().await.0, 429);
}

#[tokio::test]
async fn denied_and_reported_pushes_count_toward_the_push_limit() {
    let config = Config { max_pending_per_user: 2, deny_cooldown: 0, ..Config::default() };
    let (server, device, mut ws, browser) = alice(config).await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(device.send(&device.deny(&request)).await.1["status"], "denied");
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(device.send(&device.report(&request)).await.1["status"], "reported");
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    assert_eq!(browser.push().await.0, 429);
}

/// The refusal of a copy whose keys a restore retired: 410 `restored_elsewhere`, naming the
/// token, with a tag under that copy's request key (docs/protocol.md §8).
fn assert_restored_elsewhere(copy: &Device, status: u16, reply: &Value) {
    assert_eq!((status, reply["error"].as_str()), (410, Some("restored_elsewhere")), "{reply}");
    assert_eq!(reply["tokenId"], copy.token_id.as_str());
    let tag = {
        use base64ct::Encoding;
        base64ct::Base64UrlUnpadded::decode_vec(reply["tag"].as_str().unwrap()).unwrap()
    };
    pushotp::push::verify_restored_elsewhere(&copy.keys.request, &copy.token_id, &tag).unwrap();
}

#[tokio::test]
async fn a_restored_copy_takes_over_and_the_old_one_is_told_why() {
    let config = Config {
        require_pin: true,
        max_tries: 3,
        number_matching: false,
        deny_cooldown: 0,
        max_pending_per_user: 10,
        ..Config::default()
    };
    let (server, mut laptop, mut laptop_ws, _) = alice(config).await;
    laptop.protect_with_pin("4711");
    // The export: the same keys, masked the same.
    let export = laptop.clone();
    // The laptop signs in twice after the export.
    for _ in 0..2 {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        browser.push().await;
        let request = laptop.next_push(&mut laptop_ws).await;
        let (_, reply) = laptop.approve_send(&request, None, Some("4711")).await;
        assert_eq!(reply["status"], "approved", "{reply}");
    }
    // A sign-in waits on the laptop when the export is restored elsewhere.
    let waiting_login = Browser::new(&server.url);
    waiting_login.sign_in("alice").await;
    waiting_login.push().await;
    let waiting = laptop.next_push(&mut laptop_ws).await;

    // The restore: the copy proves it holds the keys and gets new ones; there is no counter to
    // catch up with (version 2's passcodes are bound to the request).
    let mut desktop = export.clone();
    let request = desktop.restore_request();
    let (status, reply) = desktop.restore_with(&request).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["counter"], 0, "{reply}");
    assert_ne!(desktop.keys.channel, export.keys.channel);
    assert_ne!(desktop.keys.request, export.keys.request);
    // The laptop's open socket is told at once, under its own request key.
    let told = next_json(&mut laptop_ws).await;
    assert_eq!(told["type"], "restored", "{told}");
    assert_restored_elsewhere(
        &laptop,
        410,
        &json!({ "error": "restored_elsewhere", "tokenId": told["tokenId"], "tag": told["tag"] }),
    );
    // The restore ended what waited: the old copy's answer, even with the right PIN, is
    // refused with the reason and counts no try.
    assert_eq!(
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'cancelled'").await,
        1
    );
    let (status, reply) = laptop.approve_send(&waiting, None, Some("4711")).await;
    assert_restored_elsewhere(&laptop, status, &reply);

    // The restored copy signs in with the right PIN on the first try.
    let mut desktop_ws = desktop.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let request_now = desktop.next_push(&mut desktop_ws).await;
    let (_, reply) = desktop.approve_send(&request_now, None, Some("4711")).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);

    // Everything else the old copy sends is refused with the same reason, and changes nothing.
    let (status, reply) = laptop.poll_raw().await;
    assert_restored_elsewhere(&laptop, status, &reply);
    let (_, first) = laptop.try_connect().await;
    assert_eq!(
        (first["type"].as_str(), first["error"].as_str()),
        (Some("error"), Some("restored_elsewhere")),
        "{first}"
    );
    assert_restored_elsewhere(&laptop, 410, &first);
    let (status, reply) =
        laptop.register_webpush("https://push.example.net/x", "BNcR", "tBHI").await;
    assert_restored_elsewhere(&laptop, status, &reply);
    let (status, reply) = laptop.remove().await;
    assert_restored_elsewhere(&laptop, status, &reply);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    // So is a second restore of the same export: it is older than the copy that took over.
    let mut late = export.clone();
    let (status, reply) = late.restore().await;
    assert_restored_elsewhere(&export, status, &reply);

    // A retry of the restore that took over (its answer lost) gets the same answer again.
    let mut retry = export.clone();
    let again = request.clone();
    let (status, reply) = retry.restore_with(&again).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (&retry.keys.request, &retry.keys.channel),
        (&desktop.keys.request, &desktop.keys.channel)
    );
    assert_eq!(reply["counter"], 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_restored'").await, 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM tokens WHERE state = 'active' AND failed_tries = 0")
            .await,
        1
    );
}

#[tokio::test]
async fn restores_with_wrong_keys_or_for_unknown_tokens_change_nothing() {
    let (server, device, _ws, _) = alice(Config::default()).await;
    // Another token's keys.
    let mut stranger = device.clone();
    stranger.keys.channel = pushotp::Secret::from_bytes(vec![7; 32]).unwrap();
    let (status, reply) = stranger.restore().await;
    assert_eq!((status, reply["error"].as_str()), (401, Some("unauthorized")), "{reply}");
    let mut unknown = device.clone();
    unknown.token_id = "tok_nobody".into();
    let (status, _) = unknown.restore().await;
    assert_eq!(status, 401);
    // A restore for another token, with this token's keys.
    let mut mixed = device.clone();
    let other = RestoreRequest::new("tok_other", [1; 16], &device.keys.channel).unwrap();
    assert_eq!(mixed.restore_with(&other).await.0, 401);
    // A malformed one is a 400.
    let mut bad = device.clone();
    let mut older = device.restore_request();
    older.v = 1;
    assert_eq!(bad.restore_with(&older).await.0, 400);
    // Nothing moved: the device still polls with its own keys.
    assert_eq!(device.poll().await, vec![]);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_restored'").await, 0);
}

#[tokio::test]
async fn two_people_with_two_devices_each_get_only_their_own_requests() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    server.user("bob").await;
    let mut alice = Device::enroll(&server.link("alice").await, "alice laptop").await;
    let alice_phone = Device::enroll(&server.link("alice").await, "alice desktop").await;
    let mut bob = Device::enroll(&server.link("bob").await, "bob laptop").await;
    let (mut alice_ws, mut alice_phone_ws, mut bob_ws) =
        (alice.connect().await, alice_phone.connect().await, bob.connect().await);
    let (alice_browser, bob_browser) = (Browser::new(&server.url), Browser::new(&server.url));
    alice_browser.sign_in("alice").await;
    bob_browser.sign_in("bob").await;
    let alice_number = alice_browser.push().await.1["number"].as_u64().unwrap();
    let bob_number = bob_browser.push().await.1["number"].as_u64().unwrap();
    let to_alice = alice.next_push(&mut alice_ws).await;
    let to_alice_phone = alice_phone.next_push(&mut alice_phone_ws).await;
    let to_bob = bob.next_push(&mut bob_ws).await;
    assert_eq!(to_alice.choices, to_alice_phone.choices, "both of alice's devices get her login");
    assert_ne!(to_alice.token_id, to_bob.token_id);
    // Bob's device cannot answer alice's request: its device tag is not alice's.
    let stolen = bob.approve(&to_alice, Some(u8::try_from(alice_number).unwrap()), None);
    assert_eq!(bob.send(&stolen).await.0, 401);
    let (_, reply) = bob.approve_send(&to_bob, Some(u8::try_from(bob_number).unwrap()), None).await;
    assert_eq!(reply["status"], "approved");
    let (_, reply) =
        alice.approve_send(&to_alice, Some(u8::try_from(alice_number).unwrap()), None).await;
    assert_eq!(reply["status"], "approved");
    assert_eq!(alice_browser.outcome().await["state"], "approved");
    assert_eq!(bob_browser.outcome().await["state"], "approved");
    // Alice's other device's copy of the request is closed by the approval.
    assert!(alice_phone.poll().await.is_empty());
}

#[tokio::test]
async fn polling_finds_what_was_sent_while_the_device_was_away() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let pending = device.poll().await;
    assert_eq!(pending.len(), 1);
    pending[0].verify(&device.keys.request, now()).unwrap();
    // A socket opened later gets it too.
    let mut ws = device.connect().await;
    assert_eq!(device.next_push(&mut ws).await, pending[0]);
}

#[tokio::test]
async fn an_activation_link_works_once_and_a_bad_proof_never() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    let link = server.link("alice").await;
    let first = Device::try_enroll(&link, "laptop").await;
    assert!(first.is_ok());
    let again = Device::try_enroll(&link, "thief").await.err().unwrap();
    assert_eq!(again.0, 401);
    // A link with the right token but another secret: the proof is wrong.
    let other: pushotp::push::ActivationLink = server.link("alice").await.parse().unwrap();
    let forged = pushotp::push::ActivationLink::new(
        other.server(),
        other.token_id(),
        pushotp::Secret::from_bytes(vec![7u8; 20]).unwrap(),
        other.expires_at(),
    )
    .unwrap();
    let refused = Device::try_enroll(&forged.to_string(), "thief").await.err().unwrap();
    assert_eq!(refused.0, 401);
    assert_eq!(refused.1["error"], "unauthorized");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
}

#[tokio::test]
async fn a_websocket_with_a_bad_tag_gets_nothing() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let (server, device, _ws, browser) = alice(Config::default()).await;
    let url = format!("{}/api/v1/devices/ws", server.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(support::next_json(&mut ws).await["type"], "challenge");
    let auth = json!({ "type": "auth", "tokens": [{ "tokenId": device.token_id, "tag": "AAAA" }] });
    ws.send(Message::text(auth.to_string())).await.unwrap();
    assert_eq!(support::next_json(&mut ws).await["error"], "bad_auth");
    browser.push().await;
    // The socket is closed; nothing more arrives.
    let next =
        tokio::time::timeout(Duration::from_secs(2), futures_util::StreamExt::next(&mut ws)).await;
    assert!(matches!(next, Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_))))), "{next:?}");
}

#[tokio::test]
async fn the_filled_in_sign_in_code_of_an_approval_completes_the_sign_in() {
    // The authenticator fills the approval's sign-in code into the page, which may submit it
    // while the page's event stream is completing the same approved sign-in.
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let (_, body) = browser.push().await;
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let answer = device.approve(&request, Some(number), None);
    let passcode = answer.passcode.clone().unwrap();
    let reply = device.send(&answer).await.1;
    assert_eq!(reply["status"], "approved");
    let code = reply["loginCode"].as_str().unwrap();
    // The approval's own passcode is not what the page takes.
    assert_eq!(browser.passcode("000000").await, 401);
    assert_eq!(browser.passcode(&passcode).await, 401);
    assert_eq!(browser.passcode(code).await, 303);
    let page =
        browser.http.get(format!("{}/app", server.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("signed in as <strong>alice</strong>"), "{page}");
    // Completed once: the page's own completion now finds nothing to complete.
    let reply = browser.http.post(format!("{}/auth/complete", server.url)).send().await.unwrap();
    assert_ne!(reply.status(), 200);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn removing_a_token_revokes_it() {
    let (server, device, _ws, browser) = alice(Config::default()).await;
    let (status, _) = device.remove().await;
    assert_eq!(status, 200);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'revoked'").await, 1);
    let (status, body) = browser.push().await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "no_authenticator");
}

#[tokio::test]
async fn a_restart_with_the_same_database_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("pushotp.db").display());
    let key_path = dir.path().join("pushotp.key");
    let server =
        Server::start(&database, ServerKey::load_or_create(&key_path).unwrap(), Config::default())
            .await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    {
        let mut ws = device.connect().await;
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        browser.push().await;
        let request = device.next_push(&mut ws).await;
        device.send(&device.report(&request)).await;
    }
    let old_url = server.url.clone();
    server.stop().await;
    // The administrator sees the report from the command line.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pushotp-server"))
        .args(["--database", &database, "--key-file", key_path.to_str().unwrap(), "report", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("user=alice")
            && listed.contains(&device.token_id)
            && listed.contains("app=\"Demo Portal\""),
        "{listed}"
    );

    let server = Server::start(
        &database,
        ServerKey::load_or_create(&key_path).unwrap(),
        Config { deny_cooldown: 0, ..Config::default() },
    )
    .await;
    device.server = server.url.clone();
    assert_ne!(server.url, old_url);
    assert_eq!(server.count("SELECT COUNT(*) FROM reports").await, 1);
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
}

/// Every endpoint answers malformed input with a 4xx and a JSON error, and changes nothing.
#[tokio::test]
async fn malformed_input_gets_a_clear_error_and_changes_nothing() {
    let (server, device, _ws, browser) = alice(Config::default()).await;
    browser.push().await;
    let before = (
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'pending'").await,
        server.count("SELECT SUM(failed_tries) FROM tokens").await,
        server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await,
    );
    let http = reqwest::Client::new();
    let huge = "x".repeat(100_000);
    let cases: Vec<(&str, String)> = vec![
        ("/api/v1/enroll", "not json".into()),
        ("/api/v1/enroll", "{}".into()),
        ("/api/v1/enroll", json!({ "v": 1, "tokenId": 5, "deviceName": "x", "deviceNonce": "AAAA", "proof": "AAAA" }).to_string()),
        ("/api/v1/enroll", json!({ "v": 1, "tokenId": "tok_nope", "deviceName": "x", "deviceNonce": "AAAAAAAAAAAAAAAAAAAAAA", "proof": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }).to_string()),
        ("/api/v1/enroll", huge.clone()),
        ("/api/v1/answers", "[]".into()),
        ("/api/v1/answers", json!({ "v": 2 }).to_string()),
        ("/api/v1/answers", json!({ "v": 1, "requestId": "AAAAAAAAAAAAAAAAAAAAAA", "tokenId": device.token_id, "decision": "approve", "answeredAt": 1, "deviceTag": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }).to_string()),
        ("/api/v1/answers", json!({ "v": 1, "requestId": "AAAAAAAAAAAAAAAAAAAAAA", "tokenId": device.token_id, "decision": "maybe", "answeredAt": 1, "deviceTag": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }).to_string()),
        ("/api/v1/answers", huge.clone()),
        ("/api/v1/devices/pending", json!({ "tokens": [] }).to_string()),
        ("/api/v1/devices/pending", json!({ "tokens": [{ "tokenId": device.token_id, "at": 1, "tag": "AAAA" }] }).to_string()),
        ("/api/v1/devices/pending", json!({ "tokens": [{ "tokenId": "tok_nope", "at": now(), "tag": "AAAA" }] }).to_string()),
        ("/api/v1/devices/pending", json!({ "tokens": "all" }).to_string()),
        ("/api/v1/devices/remove", json!({ "tokenId": device.token_id, "at": now(), "tag": "AAAA" }).to_string()),
        ("/api/v1/devices/remove", json!({ "tokenId": device.token_id, "at": "now", "tag": "AAAA" }).to_string()),
        ("/api/v1/devices/webpush", json!({ "tokenId": device.token_id, "at": now(), "tag": "AAAA" }).to_string()),
        ("/api/v1/devices/webpush", json!({ "tokenId": device.token_id, "at": now(), "subscription": { "endpoint": "https://push.example/x", "keys": { "p256dh": "AAAA", "auth": "AAAA" } }, "tag": "AAAA" }).to_string()),
        ("/api/v1/devices/webpush", json!({ "tokenId": "tok_nope", "at": now(), "subscription": { "endpoint": "https://push.example/x", "keys": { "p256dh": "AAAA", "auth": "AAAA" } }, "tag": "AAAA" }).to_string()),
        ("/api/v1/devices/webpush", huge.clone()),
    ];
    for (path, body) in &cases {
        let reply = http
            .post(format!("{}{path}", server.url))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        assert!((400..500).contains(&status), "{path} {body:.80}: {status}");
        let error: Value =
            reply.json().await.unwrap_or_else(|e| panic!("{path} {body:.80}: not JSON: {e}"));
        assert!(error["error"].is_string() && error["message"].is_string(), "{path}: {error}");
    }
    // A form where JSON is expected, and JSON where a form is expected.
    let reply = http
        .post(format!("{}/api/v1/answers", server.url))
        .form(&[("a", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 415);
    assert_eq!(
        browser
            .http
            .post(format!("{}/auth/passcode", server.url))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        415
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tokens WHERE webpush_endpoint IS NOT NULL").await,
        0
    );
    let after = (
        server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'pending'").await,
        server.count("SELECT SUM(failed_tries) FROM tokens").await,
        server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await,
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn the_login_page_needs_a_password_first() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    let browser = Browser::new(&server.url);
    assert_eq!(browser.sign_in_with("alice", "wrong", &[]).await, 401);
    assert_eq!(browser.sign_in_with("nobody", "wrong", &[]).await, 401);
    let (status, body) = browser.push().await;
    assert_eq!(status, 401, "{body}");
    let reply = browser.http.get(format!("{}/auth", server.url)).send().await.unwrap();
    assert_eq!(reply.headers()["location"], "/app/login");
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'password_failed'").await, 2);
}

#[tokio::test]
async fn the_event_stream_starts_with_the_number_to_show() {
    let (server, _device, _ws, browser) = alice(Config::default()).await;
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let reply = browser.http.get(format!("{}/auth/events", server.url)).send().await.unwrap();
    let mut stream = futures_util::StreamExt::boxed(reply.bytes_stream());
    let chunk = futures_util::StreamExt::next(&mut stream).await.unwrap().unwrap();
    let text = String::from_utf8(chunk.to_vec()).unwrap();
    let data: Value =
        serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(data["state"], "waiting");
    assert_eq!(data["number"].as_u64(), Some(number));
}

/// The administrator's command line on a database file: add a person, make a token, list
/// tokens and reports.
#[tokio::test]
async fn the_command_line_manages_people_tokens_and_reports() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushotp-server"))
            .args(["--database", &db])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["user", "add", "carol"], "carol-secret\n");
    assert!(ok, "{out}{err}");
    let (ok, _, err) = run(&["user", "add", "carol"], "again\n");
    assert!(!ok && err.contains("taken"), "{err}");
    let (ok, out, err) = run(&["token", "enroll", "carol", "--name", "Payroll"], "");
    assert!(ok, "{err}");
    let link =
        out.lines().find(|l| l.starts_with("pushotp://enroll?")).expect("an activation link");
    let parsed: pushotp::push::ActivationLink = link.parse().unwrap();
    assert!(out.contains('█'), "a terminal QR code");
    let (ok, out, _) = run(&["token", "list"], "");
    assert!(
        ok && out.contains(parsed.token_id()) && out.contains("pending") && out.contains("Payroll"),
        "{out}"
    );
    // A PIN-protected token, as `serve --require-pin` makes them (`--pin` for short).
    let (ok, out, err) = run(
        &["token", "enroll", "carol", "--name", "Vault", "--require-pin", "--max-tries", "3"],
        "",
    );
    assert!(ok, "{err}");
    let pin_link: pushotp::push::ActivationLink =
        out.lines().find(|l| l.starts_with("pushotp://enroll?")).unwrap().parse().unwrap();
    let (ok, _, err) = run(&["token", "enroll", "carol", "--pin"], "");
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["token", "list"], "");
    assert!(ok, "{out}");
    let line = |id: &str| out.lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    assert!(line(pin_link.token_id()).contains("pin=yes failed=0/3"), "{out}");
    let (ok, _, err) = run(&["token", "enroll", "carol", "--max-tries", "0"], "");
    assert!(!ok && err.contains("max tries must be 1 to 100"), "{err}");
    // A shorter-lived link for a hand-over that cannot wait a day in someone's mailbox.
    let (ok, short, err) = run(&["token", "enroll", "carol", "--expires", "15m"], "");
    assert!(ok, "{err}");
    let short_link: pushotp::push::ActivationLink =
        short.lines().find(|l| l.starts_with("pushotp://enroll?")).unwrap().parse().unwrap();
    let left = short_link.expires_at().saturating_sub(support::now());
    assert!((890..=900).contains(&left), "the link lasts {left} s");
    assert!(short.contains("valid 15 min, once"), "{short}");
    for (bad, why) in [("30s", "at least 60 s"), ("soon", "a duration"), ("0d", "at least 60 s")] {
        let (ok, _, err) = run(&["token", "enroll", "carol", "--expires", bad], "");
        assert!(!ok && err.contains(why), "{bad}: {err}");
    }
    assert!(line(parsed.token_id()).contains("pin=no"), "{out}");
    assert_eq!(out.matches("pin=yes").count(), 2, "{out}");
    let (ok, out, _) = run(&["report", "list"], "");
    assert!(ok && out.trim().is_empty(), "{out}");
    let (ok, _, err) = run(&["token", "enroll", "nobody"], "");
    assert!(!ok && err.contains("no user nobody"), "{err}");
    // The key file sits next to the database, readable by its owner only.
    let key = dir.path().join("cli.db.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn web_push_delivers_the_request_encrypted_to_the_subscription() {
    let server = memory_server(Config { webpush_allow_loopback: true, ..Config::default() }).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut service = push_service(201).await;
    let (ua_secret, auth, p256dh, auth_b64) = browser_keys();
    let (status, reply) = device.register_webpush(&service.endpoint, &p256dh, &auth_b64).await;
    assert_eq!(status, 200, "{reply}");
    // The VAPID key the extension subscribes with.
    let key: Value = reqwest::get(format!("{}/api/v1/webpush/key", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let vapid = key["publicKey"].as_str().unwrap().to_owned();

    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), service.received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["ttl"], "120");
    assert_eq!(headers["urgency"], "high");
    let authorization = headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("vapid t=") && authorization.ends_with(&format!("k={vapid}")),
        "{authorization}"
    );
    // Only the browser's keys open it.
    let plain =
        web_push_native::decrypt(body, &ua_secret, &web_push_native::Auth::from(auth)).unwrap();
    let message: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(message["type"], "push");
    let request: pushotp::push::PushRequest =
        serde_json::from_value(message["request"].clone()).unwrap();
    request.verify(&device.keys.request, now()).unwrap();
    let (_, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved");
    assert_eq!(browser.outcome().await["state"], "approved");
}

#[tokio::test]
async fn a_gone_subscription_is_forgotten_and_bad_ones_refused() {
    let server = memory_server(Config { webpush_allow_loopback: true, ..Config::default() }).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut service = push_service(410).await;
    let (_, _, p256dh, auth) = browser_keys();
    // Malformed subscriptions are refused and change nothing.
    for (endpoint, key, secret) in [
        ("ftp://push.example/x", p256dh.as_str(), auth.as_str()),
        (service.endpoint.as_str(), "AAAA", auth.as_str()),
        (service.endpoint.as_str(), p256dh.as_str(), "AAAA"),
    ] {
        let (status, reply) = device.register_webpush(endpoint, key, secret).await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["error"], "bad_subscription");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tokens WHERE webpush_endpoint IS NOT NULL").await,
        0
    );
    assert_eq!(device.register_webpush(&service.endpoint, &p256dh, &auth).await.0, 200);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tokens WHERE webpush_endpoint IS NOT NULL").await,
        1
    );
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    tokio::time::timeout(Duration::from_secs(10), service.received.recv()).await.unwrap().unwrap();
    // 410 Gone: the server stops sending there.
    for _ in 0..50 {
        if server.count("SELECT COUNT(*) FROM tokens WHERE webpush_endpoint IS NOT NULL").await == 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gone subscription is still stored");
}

#[tokio::test]
async fn a_signed_in_person_can_add_an_authenticator_from_its_qr_page() {
    let (server, mut device, mut ws, browser) = alice(Config::default()).await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    device.approve_send(&request, Some(number), None).await;
    browser.outcome().await;
    browser.complete().await;
    let page = browser
        .http
        .post(format!("{}/app/enroll", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "a QR code");
    let link =
        page.split("value=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let second = Device::enroll(&link, "second laptop").await;
    assert_ne!(second.token_id, device.token_id);
    // Without a session there is no enrollment.
    let stranger = Browser::new(&server.url);
    let reply = stranger.http.post(format!("{}/app/enroll", server.url)).send().await.unwrap();
    assert_eq!(reply.headers()["location"], "/app/login");
}

#[tokio::test]
async fn one_login_cannot_push_without_limit() {
    let (server, device, mut ws, browser) =
        alice(Config { max_pending_per_user: 2, ..Config::default() }).await;
    assert_eq!(browser.push().await.0, 200);
    assert_eq!(browser.push().await.0, 200);
    let (status, body) = browser.push().await;
    assert_eq!(status, 429, "{body}");
    // The device got two requests, and only the newest can still be answered.
    let first = device.next_push(&mut ws).await;
    let second = device.next_push(&mut ws).await;
    assert_ne!(first.id, second.id);
    assert_eq!(device.poll().await, vec![second]);
    assert_eq!(server.count("SELECT COUNT(*) FROM push_requests").await, 2);
}

#[tokio::test]
async fn a_report_on_one_device_ends_the_login_on_all() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    let mut laptop = Device::enroll(&server.link("alice").await, "laptop").await;
    let desktop = Device::enroll(&server.link("alice").await, "desktop").await;
    let (mut laptop_ws, mut desktop_ws) = (laptop.connect().await, desktop.connect().await);
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let on_laptop = laptop.next_push(&mut laptop_ws).await;
    let on_desktop = desktop.next_push(&mut desktop_ws).await;
    assert_eq!(desktop.send(&desktop.report(&on_desktop)).await.1["status"], "reported");
    // The other device's copy can no longer approve the reported login.
    let (status, reply) = laptop.approve_send(&on_laptop, Some(number), None).await;
    assert_eq!(
        (status, reply["status"].as_str(), reply["reason"].as_str()),
        (200, Some("rejected"), Some("cancelled")),
        "{reply}"
    );
    let outcome = browser.outcome().await;
    assert_eq!(outcome["state"], "denied");
    let reply = browser.http.post(format!("{}/auth/complete", server.url)).send().await.unwrap();
    assert_eq!(reply.status(), 401);
    // Nor can a typed code finish it, the request's own passcode included.
    let code = laptop.passcode(&laptop.keys.otp, &on_laptop);
    assert_eq!(browser.passcode(&code).await, 409);
}

#[tokio::test]
async fn a_closed_socket_leaves_the_hub() {
    let (server, device, ws, _browser) = alice(Config::default()).await;
    assert_eq!(server.state.hub.sockets(&device.token_id), 1);
    let second = device.connect().await;
    assert_eq!(server.state.hub.sockets(&device.token_id), 2);
    drop(ws);
    drop(second);
    for _ in 0..100 {
        if server.state.hub.sockets(&device.token_id) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("closed sockets are still registered");
}

#[test]
fn settings_the_protocol_cannot_honour_are_refused() {
    assert!(Config::default().check().is_ok());
    for url in ["https://auth.example.org", "http://localhost:8080", "http://[::1]:8080"] {
        assert!(Config { public_url: url.into(), ..Config::default() }.check().is_ok(), "{url}");
    }
    for bad in [
        // Devices would refuse every activation link, and the server every push.
        Config { public_url: "http://auth.example.org".into(), ..Config::default() },
        Config { public_url: "http://0.0.0.0:8080".into(), ..Config::default() },
        Config { app_name: "Payroll \u{202e}moc.knab".into(), ..Config::default() },
        Config { org_name: "Org\u{200b}".into(), ..Config::default() },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
    for bad in [
        Config { max_tries: 0, ..Config::default() },
        Config { max_tries: 100_000, ..Config::default() },
        Config { max_pending_per_user: 0, ..Config::default() },
        Config { request_ttl: 0, ..Config::default() },
        Config { app_name: "x\ny".into(), ..Config::default() },
        Config { org_name: "o".repeat(300), ..Config::default() },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn requests_left_over_from_a_previous_run_are_expired() {
    let (server, _device, _ws, browser) =
        alice(Config { request_ttl: 1, ..Config::default() }).await;
    browser.push().await;
    // Let the request's own timer expire it and its login first: resetting them while that timer
    // is still to fire would race with it (it could expire the request between the two updates
    // below and leave a waiting login with no pending request).
    for _ in 0..250 {
        if server.count("SELECT COUNT(*) FROM logins WHERE state = 'expired'").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // As if the server had restarted: no timer will fire for this request, the sweeper must.
    sqlx::query("UPDATE push_requests SET state = 'pending'")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE logins SET state = 'waiting'")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    pushotp_server::push::spawn_sweeper(server.state.clone(), Duration::from_secs(3600));
    for _ in 0..100 {
        if server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'expired'").await == 1 {
            assert_eq!(
                server.count("SELECT COUNT(*) FROM logins WHERE state = 'expired'").await,
                1
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sweeper did not expire the request");
}

#[tokio::test]
async fn accepted_connections_send_small_writes_at_once() {
    use axum::serve::Listener;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut listener = pushotp_server::listener(listener);
    let client = tokio::net::TcpStream::connect(address);
    let ((accepted, _), _client) = tokio::join!(listener.accept(), client);
    assert!(accepted.nodelay().unwrap(), "Nagle's algorithm would hold small writes ~40 ms");
}

#[tokio::test]
async fn device_messages_up_to_the_body_limit_pass_the_small_socket_buffer() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (_server, device, mut ws, _browser) = alice(Config::default()).await;
    // A message several times the socket's read buffer, just under the limit, arrives whole.
    let padding = "x".repeat(pushotp_server::device::MAX_BODY - 100);
    let ping = json!({ "type": "ping", "padding": padding }).to_string();
    ws.send(Message::text(ping)).await.unwrap();
    assert_eq!(support::next_json(&mut ws).await["type"], "pong");
    // One over the limit ends the channel.
    let mut ws = device.connect().await;
    let too_large =
        json!({ "type": "ping", "padding": "x".repeat(pushotp_server::device::MAX_BODY) });
    ws.send(Message::text(too_large.to_string())).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the socket stays open after an oversized message");
}

#[test]
fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let soft = pushotp_server::raise_open_file_limit();
    let (now, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert_eq!((soft, now), (hard, hard));
}

#[tokio::test]
async fn a_file_database_queues_writes_on_one_connection_and_reads_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("one-writer.db").display());
    let db = pushotp_server::Db::connect(&url).await.unwrap();
    assert_eq!(db.writer.options().get_max_connections(), 1);
    assert!(db.pool.options().get_max_connections() > 1);
    // Many writers at once all get through, in turn, and readers see what they wrote.
    let writes = (0..200).map(|i| {
        let db = db.clone();
        async move {
            sqlx::query("INSERT INTO audit (at, event, detail) VALUES ($1, 'test', '')")
                .bind(i64::from(i))
                .execute(&db.writer)
                .await
        }
    });
    for result in futures_util::future::join_all(writes).await {
        result.unwrap();
    }
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit WHERE event = 'test'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(sqlx::Row::try_get::<i64, _>(&row, "n").unwrap(), 200);
    // A login's requests are found by login without reading the whole table.
    let plan = sqlx::query(
        "EXPLAIN QUERY PLAN UPDATE push_requests SET state = 'cancelled' WHERE login_id = 'x' AND state = 'pending'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let details: Vec<String> =
        plan.iter().map(|r| sqlx::Row::try_get::<String, _>(r, "detail").unwrap()).collect();
    assert!(details.iter().any(|d| d.contains("push_requests_login")), "{details:?}");
}

#[tokio::test]
async fn a_login_outcome_goes_to_the_pages_of_that_login_only() {
    use pushotp_server::hub::LoginEvent;
    use pushotp_server::states::LoginState;
    let hub = pushotp_server::Hub::default();
    let mut first = hub.watch_login("lgn_first");
    let mut second = hub.watch_login("lgn_second");
    let mut again = hub.watch_login("lgn_first");
    let approved =
        LoginEvent { login_id: "lgn_first".into(), state: LoginState::Approved, reason: None };
    hub.login_event(approved.clone()).await;
    assert_eq!(first.next().await.unwrap(), approved);
    assert_eq!(again.next().await.unwrap(), approved);
    assert!(tokio::time::timeout(Duration::from_millis(50), second.next()).await.is_err());
    // A page that goes away leaves the hub.
    assert_eq!(hub.pages("lgn_second"), 1);
    drop(second);
    assert_eq!(hub.pages("lgn_second"), 0);
    drop((first, again));
    assert_eq!(hub.pages("lgn_first"), 0);
}

#[tokio::test]
async fn passwords_are_checked_with_reused_argon2_memory() {
    let server = memory_server(Config::default()).await;
    server.user("alice").await;
    server.user("bob").await;
    let db = &server.state.db;
    let slots = &*server.state.password_slots;
    // Several checks at once and one after another, so that memory is reused between them.
    for _ in 0..2 {
        let checks = [
            ("alice", "alice-pw", true),
            ("alice", "bob-pw", false),
            ("bob", "bob-pw", true),
            ("bob", "", false),
            ("carol", "carol-pw", false),
        ]
        .map(|(user, password, ok)| async move {
            let found =
                pushotp_server::users::check_password(db, slots, user, password).await.unwrap();
            assert_eq!(found.is_some(), ok, "{user} / {password:?}");
        });
        futures_util::future::join_all(checks).await;
    }
}

/// `pushotp-server … serve` as a person starts it, on a free loopback port, until it is dropped.
struct ServeCommand {
    child: std::process::Child,
    url: String,
    output: String,
}

impl ServeCommand {
    /// Runs `pushotp-server <global> serve --bind 127.0.0.1:<free> <args>` in `dir` with `env`,
    /// and waits for its "Demo app:" line.
    fn start(dir: &std::path::Path, global: &[&str], args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bind = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pushotp-server"));
        command
            .current_dir(dir)
            .args(global)
            .args(["serve", "--bind", &bind])
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("PUSHOTP_DATABASE")
            .env_remove("PUSHOTP_KEY_FILE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut output = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        while !output.contains("Demo app:") {
            let line = lines.next().expect("the server printed its address").unwrap();
            output.push_str(&line);
            output.push('\n');
        }
        // The rest of its output is not read: drain it so that the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url: format!("http://{bind}"), output }
    }

    fn link(&self) -> &str {
        self.output
            .lines()
            .find(|l| l.starts_with("pushotp://enroll?"))
            .expect("an activation link")
    }
}

impl Drop for ServeCommand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo places sign-ins from this machine with the bundled GeoIP test database, at the
/// documented demo address; without --demo a sign-in from 127.0.0.1 stays 127.0.0.1 with no
/// place.
#[tokio::test]
async fn the_demo_places_sign_ins_from_this_machine_at_the_demo_address() {
    let dir = tempfile::tempdir().unwrap();
    let demo =
        ServeCommand::start(dir.path(), &["--database", "sqlite::memory:"], &["--demo"], &[]);
    let device = Device::enroll(demo.link(), "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&demo.url);
    assert_eq!(browser.sign_in_with("alice", "alice-demo", &[]).await, 303);
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.client_ip, "81.2.69.142");
    let place = request.place.clone().expect("a place from the test database");
    assert_eq!((place.city.as_str(), place.country.as_str()), ("London", "GB"));
    drop(demo);

    // The same sign-in on a server that is not a demo.
    let db = format!("sqlite://{}", dir.path().join("real.db").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pushotp-server"))
            .args(["--database", &db])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let real = ServeCommand::start(dir.path(), &["--database", &db], &[], &[]);
    // `user add` reads the password from standard input: none here, so it is given below.
    let mut add = std::process::Command::new(env!("CARGO_BIN_EXE_pushotp-server"))
        .args(["--database", &db, "user", "add", "dave"])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"dave-pw\n").unwrap();
    assert!(add.wait().unwrap().success());
    let enrolled = run(&["token", "enroll", "dave", "--public-url", &real.url]);
    let link = enrolled.lines().find(|l| l.starts_with("pushotp://enroll?")).unwrap();
    let device = Device::enroll(link, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&real.url);
    browser.sign_in("dave").await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.client_ip, "127.0.0.1");
    assert!(request.place.is_none());
}

/// Without --database the server keeps its data in the person's data folder (XDG Base
/// Directory: $XDG_DATA_HOME, else ~/.local/share), never in the folder it was started from.
#[tokio::test]
async fn without_a_database_the_data_goes_to_the_data_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("checkout");
    let home = dir.path().join("home");
    let xdg = dir.path().join("xdg");
    for folder in [&work, &home, &xdg] {
        std::fs::create_dir(folder).unwrap();
    }
    let add = |user: &str, env: &[(&str, &std::path::Path)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pushotp-server"));
        command
            .current_dir(&work)
            .args(["user", "add", user])
            .env("RUST_LOG", "warn")
            .env_remove("PUSHOTP_DATABASE")
            .env_remove("PUSHOTP_KEY_FILE")
            .env_remove("XDG_DATA_HOME")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"a password\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    add("erin", &[("HOME", &home)]);
    let data = home.join(".local/share/pushotp");
    assert!(data.join("pushotp.db").is_file());
    assert_eq!(
        std::fs::metadata(data.join("pushotp.db.key")).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    add("frank", &[("HOME", &home), ("XDG_DATA_HOME", &xdg)]);
    assert!(xdg.join("pushotp/pushotp.db").is_file());
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0, "nothing in the working folder");
}
