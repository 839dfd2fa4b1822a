//! Approval passcodes bound to the request, and the sign-in code an approval gives the login
//! page (docs/protocol.md §5, "What the login page gets"), each on SQLite and on PostgreSQL:
//! approvals that never reached the server leave nothing to resynchronise; a right answer tag
//! with a wrong passcode is no wrong PIN; a push token's own codes open no session when typed;
//! and the sign-in code opens its own login's session once.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::push::{Answer, PushRequest};
use pushotp::{Hotp, OcraInput, OcraSuite, Totp};
use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Server, Ws, now};

/// Runs `check` as `$check::on_sqlite` and `$check::on_postgresql` (see guards.rs).
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let (_dir, database) = crate::support::sqlite_database();
                super::$check(&database).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
            async fn on_postgresql() {
                super::$check(&crate::support::postgres_database().await).await;
            }
        }
    )+};
}

on_both_backends!(
    lost_approvals_leave_nothing_to_resynchronise,
    a_right_answer_tag_with_a_wrong_passcode_counts_no_failed_try,
    a_push_tokens_own_codes_are_refused_when_typed,
    the_login_code_opens_its_own_login_once,
);

const PIN: &str = "4711";

/// A server over `database` with alice enrolled on one device with PIN [`PIN`], connected.
async fn alice(database: &str) -> (Server, Device, Ws) {
    let config = Config { require_pin: true, ..Config::default() };
    let server = Server::start(database, ServerKey::random(), config).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    device.protect_with_pin(PIN);
    let ws = device.connect().await;
    (server, device, ws)
}

/// A login of alice's, past the password, its push request on the device and the number its
/// page shows.
async fn pushed(server: &Server, device: &Device, ws: &mut Ws) -> (Browser, PushRequest, u8) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    (browser, device.next_push(ws).await, number)
}

/// A passcode that is not `code`: the next one of as many digits.
fn other_than(code: &str) -> String {
    let modulus = 10u64.pow(u32::try_from(code.len()).unwrap());
    format!("{:0width$}", (code.parse::<u64>().unwrap() + 1) % modulus, width = code.len())
}

/// More approvals than the old HOTP look-ahead of 20, made on the device (each with the right
/// PIN) and lost on the way, then one that arrives: it approves. With passcodes from a counter,
/// each lost one moved the device's counter on, and the arriving one was outside the server's
/// window, a "wrong PIN" until the token locked.
async fn lost_approvals_leave_nothing_to_resynchronise(database: &str) {
    let (server, mut device, mut ws) = alice(database).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let first = device.approve(&request, Some(number), Some(PIN));
    for _ in 0..21 {
        let lost = device.approve(&request, Some(number), Some(PIN));
        // A retry of the same request carries the same passcode.
        assert_eq!(lost.passcode, first.passcode);
    }
    let (status, reply) = device.approve_send(&request, Some(number), Some(PIN)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    server.stop().await;
}

/// An approval whose answer tag verifies (so the PIN was right) but whose passcode does not is
/// refused as `bad_passcode`, ends its request and login, and counts no failed try.
async fn a_right_answer_tag_with_a_wrong_passcode_counts_no_failed_try(database: &str) {
    let (server, mut device, mut ws) = alice(database).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let right = device.approve(&request, Some(number), Some(PIN)).passcode.unwrap();
    let (_, answer_key) = device.masked.as_ref().unwrap().unmask(PIN).unwrap();
    let at = device.next_answered_at();
    let wrong = Answer::approve(
        &request,
        Some(number),
        &other_than(&right),
        at,
        &device.keys.channel,
        &answer_key,
    )
    .unwrap();
    let (status, reply) = device.send(&wrong).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("rejected")), "{reply}");
    assert_eq!(reply["reason"], "bad_passcode", "{reply}");
    assert_eq!(reply.get("pending"), None, "{reply}");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    assert_ne!(browser.outcome().await["state"], "approved");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    server.stop().await;
}

/// Every code a push token's own `K_otp` makes (HOTP at the first counters, TOTP now, and the
/// request-bound approval passcode of the login's own request), typed at the login page, is
/// refused like any wrong code: a thief who unmasked the keys of a copied profile gets no
/// session without a push the person sees.
async fn a_push_tokens_own_codes_are_refused_when_typed(database: &str) {
    let (server, device, mut ws) = alice(database).await;
    let (browser, request, _) = pushed(&server, &device, &mut ws).await;
    let otp = &device.keys.otp;
    let (algorithm, digits) = (device.enrolled.otp.algorithm(), device.enrolled.otp.digits());
    let suite: OcraSuite =
        format!("OCRA-1:HOTP-{}-{digits}:QH32", algorithm.name()).parse().unwrap();
    let question: String = request.id.iter().map(|b| format!("{b:02x}")).collect();
    let mut codes = vec![suite.compute(otp, &OcraInput::new().question(question)).unwrap()];
    let hotp = Hotp::new(algorithm, digits).unwrap();
    codes.extend((0..3).map(|counter| hotp.generate(otp, counter)));
    codes.push(Totp::new(algorithm, digits, 30, 0).unwrap().generate(otp, now()).unwrap());
    for code in &codes {
        assert_eq!(browser.passcode(code).await, 401, "{code}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'passcode_ok'").await, 0);
    server.stop().await;
}

/// The `loginCode` of an approval's reply, typed at the page of the approved login, opens its
/// session; typed at another login of the same person it is a wrong code, and a second time
/// it opens nothing.
async fn the_login_code_opens_its_own_login_once(database: &str) {
    let (server, mut device, mut ws) = alice(database).await;
    let other = Browser::new(&server.url);
    other.sign_in("alice").await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let (status, reply) = device.approve_send(&request, Some(number), Some(PIN)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    let code = reply["loginCode"].as_str().expect("an approval's reply has a loginCode");
    assert_eq!(code.len(), usize::from(device.enrolled.otp.digits()), "{reply}");
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{reply}");
    assert_ne!(Some(code), device.approve(&request, Some(number), Some(PIN)).passcode.as_deref());

    assert_eq!(other.passcode(code).await, 401, "another login of the same person");
    assert_eq!(browser.passcode(&other_than(code)).await, 401, "a wrong code");
    assert_eq!(browser.passcode(code).await, 303);
    assert_ne!(browser.passcode(code).await, 303, "a second time");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
    server.stop().await;
}
