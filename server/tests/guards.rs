//! The server's single-use and expiry guards, each on SQLite and on PostgreSQL, and the races
//! they exist for: an activation link's expiry, a sign-in code that opens one session however
//! many race, a request's passcode that approves that request only, number matching, and the
//! single claim of a request.
//!
//! Every check is one function over a database URL, run by `on_sqlite` and `on_postgresql`
//! tests of the same name (see [`support::postgres_database`] for the latter).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use futures_util::future::join_all;
use pushotp::push::{ActivationLink, Answer, EnrollRequest, PushRequest};
use pushotp_server::enrollment::{self, EnrollError};
use pushotp_server::{Config, ServerKey};
use serde_json::Value;
use support::{Browser, Device, Server, Ws, alice, now};

/// How many answers or passcodes race in the concurrency checks.
const RACERS: usize = 10;

/// How many times a race is run: each is won by whoever the scheduler lets through first, so
/// a guard that is not atomic lets two through in most rounds, not in every one.
const ROUNDS: usize = 5;

crate::on_both_backends!(
    an_expired_activation_link_enrolls_nothing,
    one_sign_in_code_opens_one_session_however_many_race,
    one_passcode_approves_one_request_however_many_race,
    a_wrong_number_ends_the_request,
    a_wrong_number_ends_the_request_whatever_the_pin,
    an_approval_without_the_number_is_refused,
    concurrent_answers_to_one_request_approve_it_once,
    a_replayed_answer_is_refused,
    wrong_pins_at_once_lock_the_token_once_at_its_limit,
);

/// A login of alice's, past the password, and the push request its device got with the
/// number its page shows.
async fn pushed(server: &Server, device: &Device, ws: &mut Ws) -> (Browser, PushRequest, u8) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    (browser, device.next_push(ws).await, number)
}

/// Runs `go` on each of `items` in its own task, all let go at the same moment, and returns
/// what each returned, in order: requests that race for real, not one after the other.
async fn at_once<T, F, Fut, R>(items: Vec<T>, go: F) -> Vec<R>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = R> + Send,
    R: Send + 'static,
{
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(items.len()));
    let go = std::sync::Arc::new(go);
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| {
            let (start, go) = (start.clone(), go.clone());
            tokio::spawn(async move {
                start.wait().await;
                go(item).await
            })
        })
        .collect();
    join_all(tasks).await.into_iter().map(Result::unwrap).collect()
}

/// Whether the login's page may open a session (`/auth/complete`).
async fn completes(browser: &Browser) -> bool {
    let reply =
        browser.http.post(format!("{}/auth/complete", browser.server)).send().await.unwrap();
    reply.status() == 200
}

/// An expired activation link is refused with [`EnrollError::Refused`] (401 over HTTP), both
/// a second after its time and at the second itself, and enrolls nothing; the same link within
/// its time enrolls, so the refusal was its time alone. The stored expiry is moved rather than
/// waited for: the server takes no clock but the system's, and links live at least 60 s.
async fn an_expired_activation_link_enrolls_nothing(database: &str) {
    let server = Server::start(database, ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let link = server.link("alice").await;
    let parsed: ActivationLink = link.parse().unwrap();
    let expire_at = |at: u64| {
        let db = server.state.db.clone();
        let token = parsed.token_id().to_owned();
        async move {
            sqlx::query("UPDATE tokens SET activation_expires_at = $1 WHERE id = $2")
                .bind(i64::try_from(at).unwrap())
                .bind(token)
                .execute(&db.writer)
                .await
                .unwrap();
        }
    };
    for at in [now() - 1, now()] {
        expire_at(at).await;
        let request = EnrollRequest::new(&parsed, "laptop", [7; 16]).unwrap();
        let refused = enrollment::enroll(&server.state, &request).await;
        assert!(matches!(refused, Err(EnrollError::Refused)), "expiring at {at}: {refused:?}");
        let (status, body) = Device::try_enroll(&link, "laptop").await.err().unwrap();
        assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")), "{body}");
    }
    // Nothing enrolled: still pending, no keys, no device, the activation secret kept.
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM tokens WHERE state = 'pending' AND keys_sealed IS NULL \
                 AND device_name IS NULL AND activation_sealed IS NOT NULL"
            )
            .await,
        1
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_enrolled'").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'enroll_refused'").await, 4);
    expire_at(now() + 60).await;
    let device = Device::enroll(&link, "laptop").await;
    assert_eq!(device.token_id, parsed.token_id());
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
}

/// The sign-in code of an approved login typed [`RACERS`] times at once at its page opens one
/// session, [`ROUNDS`] times over: the approval turns into a session in one statement
/// (`store::logins::complete`), and the others find it taken (`409`).
async fn one_sign_in_code_opens_one_session_however_many_race(database: &str) {
    let (server, mut device, _ws) = alice(database, Config::default()).await;
    for round in 0..ROUNDS {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        let code = support::sign_in_code(&browser, &mut device, None).await;
        let tabs = (0..RACERS)
            .map(|_| Browser { server: browser.server.clone(), http: browser.http.clone() })
            .collect();
        let statuses = at_once(tabs, move |tab| {
            let code = code.clone();
            async move { tab.passcode(&code).await }
        })
        .await;
        assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{round}: {statuses:?}");
        assert!(statuses.iter().all(|s| [303, 409].contains(s)), "{statuses:?}");
    }
    let rounds = i64::try_from(ROUNDS).unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, rounds);
}

/// [`RACERS`] requests of one person answered at once with approvals that all carry the
/// passcode of the first of them approve that one only, [`ROUNDS`] times over: a passcode is
/// bound to its request (the others are refused as `bad_passcode`).
async fn one_passcode_approves_one_request_however_many_race(database: &str) {
    let config = Config {
        max_tries: 100,
        max_pending_per_user: i64::try_from(RACERS * ROUNDS).unwrap(),
        ..Config::default()
    };
    let (server, mut device, mut ws) = alice(database, config).await;
    let mut browsers = Vec::new();
    for round in 0..ROUNDS {
        let mut code = None;
        let mut answers = Vec::new();
        for _ in 0..RACERS {
            let (browser, request, number) = pushed(&server, &device, &mut ws).await;
            let code = code.get_or_insert_with(|| device.passcode(&device.keys.otp, &request));
            let at = device.next_answered_at();
            let keys = &device.keys;
            let answer = Answer::approve(
                &request,
                Some(number),
                code,
                None,
                at,
                &keys.channel,
                &keys.answer,
            )
            .unwrap();
            answers.push((device.clone(), answer));
            browsers.push(browser);
        }
        let replies =
            at_once(answers, |(device, answer)| async move { device.send(&answer).await }).await;
        let approved = replies.iter().filter(|(_, r)| r["status"] == "approved").count();
        assert_eq!(approved, 1, "{round}: {replies:?}");
        for (status, reply) in &replies {
            assert_eq!(*status, 200, "{reply}");
            assert!(reply["status"] == "approved" || reply["status"] == "rejected", "{reply}");
        }
    }
    let rounds = i64::try_from(ROUNDS).unwrap();
    let approved = "SELECT COUNT(*) FROM push_requests WHERE state = 'approved'";
    assert_eq!(server.count(approved).await, rounds);
    let mut signed_in = 0;
    for browser in &browsers {
        signed_in += i64::from(completes(browser).await);
    }
    assert_eq!(signed_in, rounds);
}

/// Number matching: a wrong number is refused, the request ends (a right answer afterwards
/// finds it answered), and the login is refused.
async fn a_wrong_number_ends_the_request(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| *c != number).unwrap();
    let (status, reply) = device.approve_send(&request, Some(wrong), None).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["status"].as_str(), reply["reason"].as_str()),
        (Some("rejected"), Some("wrong_number")),
        "{reply}"
    );
    refused_for_good(&server, &mut device, &browser, &request, number, None).await;
}

/// A wrong number with the right PIN ends the request too: a wrong PIN keeps a request open
/// for another try, a wrong number never does.
async fn a_wrong_number_ends_the_request_whatever_the_pin(database: &str) {
    let config = Config { require_pin: true, ..Config::default() };
    let (server, mut device, mut ws) = alice(database, config).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| *c != number).unwrap();
    let (_, reply) = device.approve_send(&request, Some(wrong), Some("4711")).await;
    assert_eq!(
        (reply["status"].as_str(), reply["reason"].as_str(), reply.get("pending")),
        (Some("rejected"), Some("wrong_number"), None),
        "{reply}"
    );
    refused_for_good(&server, &mut device, &browser, &request, number, Some("4711")).await;
}

/// An approval that names no number, of a request that asks for one, is refused as a wrong
/// number. The core does not build one; another client holding the token's keys could.
async fn an_approval_without_the_number_is_refused(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    // The tags cover the request's id, not its choices: a copy without choices signs the same
    // answer, with no number.
    let without_choices = PushRequest { choices: None, ..request.clone() };
    let code = device.passcode(&device.keys.otp, &request);
    let at = device.next_answered_at();
    let answer = Answer::approve(
        &without_choices,
        None,
        &code,
        None,
        at,
        &device.keys.channel,
        &device.keys.answer,
    )
    .unwrap();
    let (status, reply) = device.send(&answer).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["status"].as_str(), reply["reason"].as_str()),
        (Some("rejected"), Some("wrong_number")),
        "{reply}"
    );
    refused_for_good(&server, &mut device, &browser, &request, number, None).await;
}

/// After a refused answer: the login was told it was a wrong number, the request takes no
/// other answer (not even the right one), and nothing signs in.
async fn refused_for_good(
    server: &Server,
    device: &mut Device,
    browser: &Browser,
    request: &PushRequest,
    number: u8,
    pin: Option<&str>,
) {
    let outcome = browser.outcome().await;
    assert_eq!(
        (outcome["state"].as_str(), outcome["reason"].as_str()),
        (Some("rejected"), Some("wrong_number")),
        "{outcome}"
    );
    let (status, reply) = device.approve_send(request, Some(number), pin).await;
    assert_eq!((status, reply["error"].as_str()), (409, Some("conflict")), "{reply}");
    assert!(!completes(browser).await);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_approved'").await, 0);
}

/// [`RACERS`] approvals of one request, each with its own passcode, sent at once: one wins
/// the claim and approves, every other is told the request was already answered.
async fn concurrent_answers_to_one_request_approve_it_once(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let answers: Vec<Answer> =
        (0..RACERS).map(|_| device.approve(&request, Some(number), None)).collect();
    let sends = answers.into_iter().map(|answer| (device.clone(), answer)).collect();
    let replies =
        at_once(sends, |(device, answer)| async move { device.send(&answer).await }).await;
    let approved: Vec<&(u16, Value)> =
        replies.iter().filter(|(s, r)| *s == 200 && r["status"] == "approved").collect();
    assert_eq!(approved.len(), 1, "{replies:?}");
    for (status, reply) in replies.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, reply["error"].as_str()), (409, Some("conflict")), "{reply}");
    }
    assert_eq!(replies.iter().filter(|(s, _)| *s == 409).count(), RACERS - 1, "{replies:?}");
    let replayed = "SELECT COUNT(*) FROM audit WHERE event = 'answer_replayed'";
    assert_eq!(server.count(replayed).await, i64::try_from(RACERS - 1).unwrap());
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'push_approved'").await, 1);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    assert_eq!(browser.outcome().await["state"], "approved");
    assert!(completes(&browser).await);
}

/// An answer sent again is refused as already answered, whatever it was (approval or
/// denial), and changes nothing: the approved login stays approved, the denied one denied.
async fn a_replayed_answer_is_refused(database: &str) {
    let config = Config { deny_cooldown: 0, ..Config::default() };
    let (server, mut device, mut ws) = alice(database, config).await;
    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let approval = device.approve(&request, Some(number), None);
    assert_eq!(device.send(&approval).await.1["status"], "approved");
    let deny = device.deny(&request);
    for replay in [&approval, &deny] {
        let (status, reply) = device.send(replay).await;
        assert_eq!((status, reply["error"].as_str()), (409, Some("conflict")), "{reply}");
    }
    assert_eq!(browser.outcome().await["state"], "approved");
    assert!(completes(&browser).await);

    let (browser, request, number) = pushed(&server, &device, &mut ws).await;
    let deny = device.deny(&request);
    assert_eq!(device.send(&deny).await.1["status"], "denied");
    let approval = device.approve(&request, Some(number), None);
    for replay in [&deny, &approval] {
        let (status, reply) = device.send(replay).await;
        assert_eq!((status, reply["error"].as_str()), (409, Some("conflict")), "{reply}");
    }
    assert_eq!(browser.outcome().await["state"], "denied");
    assert!(!completes(&browser).await);
    let replayed = "SELECT COUNT(*) FROM audit WHERE event = 'answer_replayed'";
    assert_eq!(server.count(replayed).await, 4);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
}

/// Wrong PINs sent at once, each on its own request: the token locks once, at its limit, since
/// the count and the lock are one statement. The tries before the limit are each told how many
/// are left, once; the rest find the token locked; the lock is audited once.
async fn wrong_pins_at_once_lock_the_token_once_at_its_limit(database: &str) {
    let config = Config {
        require_pin: true,
        max_tries: 3,
        number_matching: false,
        max_pending_per_user: i64::try_from(RACERS).unwrap(),
        ..Config::default()
    };
    let (server, mut device, mut ws) = alice(database, config).await;
    let mut answers = Vec::new();
    let mut browsers = Vec::new();
    for _ in 0..RACERS {
        let browser = Browser::new(&server.url);
        browser.sign_in("alice").await;
        assert_eq!(browser.push().await.0, 200);
        let request = device.next_push(&mut ws).await;
        // A wrong PIN unmasks wrong keys: the answer's tag and passcode are wrong, as a guess's.
        let answer = device.approve(&request, None, Some("0000"));
        answers.push((device.clone(), answer));
        browsers.push(browser);
    }
    let replies =
        at_once(answers, |(device, answer)| async move { device.send(&answer).await }).await;
    // The try that reaches the limit and every one after it are told the token is locked.
    let locked = replies.iter().filter(|(_, r)| r["reason"] == "locked").count();
    assert_eq!(locked, RACERS - 2, "{replies:?}");
    let mut left: Vec<i64> =
        replies.iter().filter_map(|(_, r)| r["triesLeft"].as_i64()).filter(|n| *n > 0).collect();
    left.sort_unstable();
    assert_eq!(left, vec![1, 2], "each try counted once: {replies:?}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    let audited = "SELECT COUNT(*) FROM audit WHERE event = 'token_locked'";
    assert_eq!(server.count(audited).await, 1);
    for browser in &browsers {
        assert!(!completes(browser).await, "a wrong PIN signed someone in");
    }
}
