//! Approval passcodes bound to the request, and the sign-in code an approval gives the login
//! page (docs/protocol.md §5, "What the login page gets"), each on SQLite and on PostgreSQL:
//! approvals that never reached the server leave nothing to resynchronise; a right answer tag
//! with a wrong passcode is no wrong PIN; a push token's own codes open no session when typed,
//! not even at an approved login; the sign-in code opens its own login's session once, also
//! while the person's typed passcodes wait; and three wrong codes at an approved login end it,
//! however many are sent at once.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::Arc;

use pushotp::push::{Answer, PushRequest};
use pushotp::{Hotp, OcraInput, OcraSuite, Totp};
use pushotp_server::Config;
use reqwest::cookie::CookieStore;
use support::{Browser, Device, PIN, Server, Ws, alice, now};

crate::on_both_backends!(
    lost_approvals_leave_nothing_to_resynchronise,
    a_right_answer_tag_with_a_wrong_passcode_counts_no_failed_try,
    a_push_tokens_own_codes_are_refused_when_typed,
    a_push_tokens_own_codes_are_refused_at_an_approved_login,
    the_login_code_opens_its_own_login_once,
    the_login_code_is_tagged_under_the_tokens_request_key,
    three_wrong_sign_in_codes_end_the_approved_login,
    the_pages_completion_opens_nothing_once_the_last_try_is_taken,
    what_cannot_be_a_code_is_refused_and_changes_nothing,
    wrong_sign_in_codes_sent_at_once_are_each_counted,
    while_passcodes_wait_the_sign_in_code_signs_in_and_wrong_ones_count,
);

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
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
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
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let right = device.approve(&request, Some(number), Some(PIN)).passcode.unwrap();
    let (_, answer_key) = device.masked.as_ref().unwrap().unmask(PIN).unwrap();
    let at = device.next_answered_at();
    let wrong = Answer::approve(
        &request,
        Some(number),
        &other_than(&right),
        None,
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
    let (server, device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
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
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
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

/// A login page's cookies, copied: the test sends codes with them whatever a reply clears, as
/// one who holds the cookie would.
struct Copied {
    server: String,
    cookie: String,
    http: reqwest::Client,
}

impl Copied {
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> u16 {
        let reply = self
            .http
            .post(format!("{}{path}", self.server))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        reply.status().as_u16()
    }

    /// A code typed at the login page.
    async fn passcode(&self, code: &str) -> u16 {
        self.post("/auth/passcode", &[("passcode", code)]).await
    }

    /// The page's own completion after it saw "approved".
    async fn complete(&self) -> u16 {
        self.post("/auth/complete", &[]).await
    }
}

/// A login of alice's that her device approved with [`PIN`]: its page's cookies and the
/// `loginCode` of the approval's reply.
async fn approved(server: &Server, device: &mut Device, ws: &mut Ws) -> (Copied, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let browser = Browser { server: server.url.clone(), http };
    browser.sign_in("alice").await;
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(ws).await;
    let (status, reply) = device.approve_send(&request, Some(number), Some(PIN)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    let code = reply["loginCode"].as_str().expect("an approval's reply has a loginCode");
    let cookie = jar.cookies(&server.url.parse().unwrap()).unwrap().to_str().unwrap().to_owned();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build();
    (Copied { server: server.url.clone(), cookie, http: http.unwrap() }, code.to_owned())
}

/// At a login the person approved, the token's own codes typed at the page (the approval's
/// OCRA passcode of that very request, an HOTP code of `K_otp`) are wrong codes like any
/// other: only the approval's `loginCode` opens the session.
async fn a_push_tokens_own_codes_are_refused_at_an_approved_login(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let passcode = device.approve(&request, Some(number), Some(PIN)).passcode.unwrap();
    let (status, reply) = device.approve_send(&request, Some(number), Some(PIN)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    let code = reply["loginCode"].as_str().unwrap();
    let otp = &device.enrolled.otp;
    let hotp = Hotp::new(otp.algorithm(), otp.digits()).unwrap().generate(&device.keys.otp, 0);
    for own in [&passcode, &hotp] {
        assert_ne!(own, code);
        assert_eq!(browser.passcode(own).await, 401, "{own}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(browser.passcode(code).await, 303);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
    server.stop().await;
}

/// Three wrong codes at an approved login end it: the third is answered with the password
/// form (`409`), the login's code is cleared, and neither the right code nor the page's own
/// completion opens a session with its cookie; the person starts again with the password.
async fn three_wrong_sign_in_codes_end_the_approved_login(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (page, code) = approved(&server, &mut device, &mut ws).await;
    let mut wrong = code.clone();
    for _ in 0..2 {
        wrong = other_than(&wrong);
        assert_eq!(page.passcode(&wrong).await, 401);
    }
    assert_eq!(page.passcode(&other_than(&wrong)).await, 409, "the third wrong code");
    assert_eq!(page.passcode(&code).await, 409, "the right code after three wrong ones");
    assert_eq!(page.complete().await, 409, "the page's completion after three wrong codes");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM logins WHERE login_code IS NULL").await, 1);
    assert_eq!(server.count("SELECT login_code_tries FROM logins").await, 3);
    // Each wrong one counted against the person's typed passcodes too.
    assert_eq!(server.count("SELECT passcode_failures FROM users").await, 3);
    server.stop().await;
}

/// Between the statement that takes a login's last try and the one that clears its code, the
/// page's own completion opens nothing either: the tries alone decide it.
async fn the_pages_completion_opens_nothing_once_the_last_try_is_taken(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (page, _code) = approved(&server, &mut device, &mut ws).await;
    // As a third wrong code leaves it for a moment: every try taken, its code not yet cleared.
    sqlx::query("UPDATE logins SET login_code_tries = 3")
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM logins WHERE login_code IS NULL").await, 0);
    assert_eq!(page.complete().await, 409, "the page's completion with every try taken");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    server.stop().await;
}

/// What cannot be a sign-in code (not 6 to 10 digits) is refused with `400` and changes
/// nothing: it takes none of the login's tries and counts nothing against the person, so three
/// slips of the keyboard do not end an approved login.
async fn what_cannot_be_a_code_is_refused_and_changes_nothing(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (page, code) = approved(&server, &mut device, &mut ws).await;
    let long = "1".repeat(11);
    for bad in ["", "abcdef", "12345", long.as_str(), "12 345 6", "١٢٣٤٥٦"] {
        assert_eq!(page.passcode(bad).await, 400, "{bad:?}");
    }
    assert_eq!(server.count("SELECT login_code_tries FROM logins").await, 0);
    assert_eq!(server.count("SELECT passcode_failures FROM users").await, 0);
    assert_eq!(page.passcode(&code).await, 303, "the right code still signs in");
    server.stop().await;
}

/// Wrong codes sent at once at an approved login are each counted before they are compared, in
/// one conditional statement: no more than three are ever compared, and then the right code
/// opens nothing. Run on a multi-threaded runtime, so that they are handled in parallel.
async fn wrong_sign_in_codes_sent_at_once_are_each_counted(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (page, code) = approved(&server, &mut device, &mut ws).await;
    let page = Arc::new(page);
    let mut wrong = code.clone();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        wrong = other_than(&wrong);
        let (page, wrong) = (Arc::clone(&page), wrong.clone());
        tasks.push(tokio::spawn(async move { page.passcode(&wrong).await }));
    }
    let statuses = futures_util::future::join_all(tasks).await;
    let statuses: Vec<u16> = statuses.into_iter().map(Result::unwrap).collect();
    assert!(statuses.iter().all(|s| [401, 409, 429].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&409), "{statuses:?}");
    assert_eq!(page.passcode(&code).await, 409, "the right code after the burst");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(server.count("SELECT login_code_tries FROM logins").await, 3);
    assert_eq!(server.count("SELECT COUNT(*) FROM logins WHERE login_code IS NULL").await, 1);
    server.stop().await;
}

/// While earlier wrong passcodes make the person's typed passcodes wait, the sign-in code of an
/// approved login still signs in (it proves the approval), and wrong codes at an approved
/// login still count against it: the third ends it, and its right code then opens nothing.
async fn while_passcodes_wait_the_sign_in_code_signs_in_and_wrong_ones_count(database: &str) {
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    // Forty wrong passcodes just now: typed passcodes wait a day.
    sqlx::query("UPDATE users SET passcode_failures = $1, passcode_failed_at = $2")
        .bind(40_i64)
        .bind(i64::try_from(now()).unwrap())
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    let (page, code) = approved(&server, &mut device, &mut ws).await;
    let mut wrong = code.clone();
    for _ in 0..2 {
        wrong = other_than(&wrong);
        assert_eq!(page.passcode(&wrong).await, 429, "a wrong code waits");
    }
    assert_eq!(page.passcode(&other_than(&wrong)).await, 409, "the third wrong code");
    assert_eq!(page.passcode(&code).await, 409, "the right code after three wrong ones");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    let (page, code) = approved(&server, &mut device, &mut ws).await;
    assert_eq!(page.passcode(&code).await, 303, "the sign-in code of another approval");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
    // It starts the person's count again.
    assert_eq!(server.count("SELECT passcode_failures FROM users").await, 0);
    server.stop().await;
}

/// The reply's `loginCode` comes with its `loginCodeTag` under the token's `K_req`, over the
/// request id, the token id and the code: the device fills only a code its server issued for
/// that request, not one changed on the way.
async fn the_login_code_is_tagged_under_the_tokens_request_key(database: &str) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use pushotp::push::verify_login_code;
    let (server, mut device, mut ws) =
        alice(database, Config { require_pin: true, ..Config::default() }).await;
    let (_browser, request, number) = pushed(&server, &device, &mut ws).await;
    let (status, reply) = device.approve_send(&request, Some(number), Some(PIN)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    let code = reply["loginCode"].as_str().unwrap();
    let tag =
        Base64UrlUnpadded::decode_vec(reply["loginCodeTag"].as_str().expect("a tag")).unwrap();
    let (k_req, token) = (&device.keys.request, request.token_id.as_str());
    assert_eq!(verify_login_code(k_req, &request.id, token, code, &tag), Ok(()));
    let mut other_id = request.id;
    other_id[0] ^= 1;
    let refused = Err(pushotp::Error::BadTag);
    assert_eq!(verify_login_code(k_req, &other_id, token, code, &tag), refused);
    assert_eq!(verify_login_code(k_req, &request.id, token, &other_than(code), &tag), refused);
    assert_eq!(verify_login_code(&device.keys.channel, &request.id, token, code, &tag), refused);
    server.stop().await;
}
