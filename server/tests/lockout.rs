//! Wrong typed passcodes back off instead of locking: someone who knows a person's password
//! cannot lock their authenticators, only make typed passcodes wait, each wait audited and told
//! to the person's devices. An administrator can still lock and unlock a token. A new
//! authenticator is told to the person's other devices.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::process::Command;
use std::time::Duration;

use pushotp::push::{NoticeKind, TokenNotice};
use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Reply, Server, Ws, next_json, now, quiet};

/// Wrong typed passcodes before passcodes have to wait.
const FREE: usize = 5;

async fn passcode(browser: &Browser, code: &str) -> Reply {
    let reply = browser
        .http
        .post(format!("{}/auth/passcode", browser.server))
        .form(&[("passcode", code)])
        .send()
        .await
        .unwrap();
    Reply::read(reply).await
}

/// A wait the page and `Retry-After` both state, in seconds.
fn assert_waits(reply: &Reply, at_most: u64) -> u64 {
    assert_eq!(reply.status, 429, "{}", reply.body);
    let seconds = reply.retry_after.expect("a Retry-After header");
    assert!((1..=at_most).contains(&seconds), "Retry-After {seconds}");
    assert!(reply.body.contains("Too many wrong passcodes"), "{}", reply.body);
    assert!(reply.body.contains(&format!("{seconds} s")), "the page says how long: {}", reply.body);
    seconds
}

/// The token's own HOTP code at counter 0, which version 1 took typed at the login page.
fn own_code(device: &Device) -> String {
    let otp = &device.enrolled.otp;
    pushotp::Hotp::new(otp.algorithm(), otp.digits()).unwrap().generate(&device.keys.otp, 0)
}

async fn alice(server: &Server) -> (Device, Browser) {
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "Chrome on laptop").await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    (device, browser)
}

#[tokio::test]
async fn wrong_typed_passcodes_back_off_and_never_lock_the_token() {
    let config = Config { max_tries: 3, ..Config::default() };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    let (mut device, browser) = alice(&server).await;
    // More wrong passcodes than the token's tries: each one refused, none waits yet.
    for _ in 0..FREE {
        assert_eq!(passcode(&browser, "000000").await.status, 401);
    }
    // One more is still checked (and wrong); from then on passcodes wait, first a second.
    // The server keeps whole seconds: starting the wait just after one begins leaves the
    // checks below most of that second, rather than a chance of none.
    support::at_the_start_of_a_second().await;
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    let first = assert_waits(&passcode(&browser, "000000").await, 2);
    // Any other code waits too while the wait lasts, without being looked at: the token's own
    // HOTP code, say, from keys unmasked out of a copied profile.
    let code = own_code(&device);
    assert_waits(&passcode(&browser, &code).await, 2);
    // Nothing locked: the person can still sign in by push, whatever the guesser does.
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 0);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    assert_eq!(browser.push().await.0, 200);
    // After the wait a wrong passcode is checked again, and the next wait is twice as long.
    tokio::time::sleep(Duration::from_secs(first + 1)).await;
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    let second = assert_waits(&passcode(&browser, "000000").await, 3);
    assert!(second >= first, "{second} < {first}");
    // After that wait the sign-in code of an approval signs in, and the count starts again.
    tokio::time::sleep(Duration::from_secs(second + 1)).await;
    let code = support::sign_in_code(&browser, &mut device, None).await;
    assert_eq!(passcode(&browser, &code).await.status, 303);
    assert_eq!(server.count("SELECT passcode_failures FROM users").await, 0);
    // Every wrong passcode is audited, and so is each wait it started.
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'passcode_failed'").await, 7);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM audit WHERE event = 'passcode_backoff'").await,
        2
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_locked'").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn passcodes_sent_at_once_are_each_counted_before_they_are_checked() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    let (_device, browser) = alice(&server).await;
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let browser = Browser { server: browser.server.clone(), http: browser.http.clone() };
        tasks.push(tokio::spawn(async move { passcode(&browser, "000000").await.status }));
    }
    let mut checked = 0;
    for task in tasks {
        match task.await.unwrap() {
            401 => checked += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    // However they race, no more are checked than the free ones and the one that starts the
    // first wait.
    assert!((1..=FREE + 1).contains(&checked), "{checked} passcodes were checked");
    assert_eq!(
        server.count("SELECT COUNT(*) FROM audit WHERE event = 'passcode_failed'").await,
        i64::try_from(checked).unwrap()
    );
    server.stop().await;
}

/// Runs the administrator's command line on `database`; its exit status and output.
fn admin(database: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pushotp-server"))
        .args(["--database", database])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn an_administrator_locks_and_unlocks_a_token_and_both_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.db");
    let database = format!("sqlite://{}", file.display());
    // The key file where the command line looks for it, beside the database.
    let key = ServerKey::load_or_create(&dir.path().join("server.db.key")).unwrap();
    let server = Server::start(&database, key, Config::default()).await;
    let (mut device, browser) = alice(&server).await;
    let id = device.token_id.clone();

    let (ok, out) = admin(&database, &["token", "lock", &id]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("locked {id}")), "{out}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    // Locked: no push goes out, and no code signs in.
    assert_eq!(browser.push().await.0, 409);
    assert_eq!(passcode(&browser, &own_code(&device)).await.status, 401);
    // Locking it again says so, and changes nothing.
    let (ok, out) = admin(&database, &["token", "lock", &id]);
    assert!(!ok && out.contains("not active"), "{out}");

    let (ok, out) = admin(&database, &["token", "unlock", &id]);
    assert!(ok, "{out}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    let code = support::sign_in_code(&browser, &mut device, None).await;
    assert_eq!(passcode(&browser, &code).await.status, 303);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM audit WHERE event = 'token_locked' \
                 AND detail = 'by administrator'"
            )
            .await,
        1
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_unlocked'").await, 1);
    server.stop().await;
}

/// The next notice about a token on the socket (skipping anything else), checked as the
/// extension checks it.
async fn next_notice(device: &Device, ws: &mut Ws) -> TokenNotice {
    let notice = loop {
        let message = next_json(ws).await;
        if message["type"] == "notice" {
            break serde_json::from_value::<TokenNotice>(message["notice"].clone()).unwrap();
        }
    };
    assert_eq!(notice.token_id, device.token_id);
    notice.verify(&device.keys.request).unwrap();
    notice
}

#[tokio::test]
async fn each_wait_of_typed_passcodes_is_told_to_every_device_of_the_person() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    let (laptop, browser) = alice(&server).await;
    let phone = Device::enroll(&server.link("alice").await, "phone").await;
    let (mut laptop_ws, mut phone_ws) = (laptop.connect().await, phone.connect().await);
    // The laptop's log-in hands it the phone's enrollment, made while it was away.
    let added = next_notice(&laptop, &mut laptop_ws).await;
    assert_eq!(added.kind, NoticeKind::AuthenticatorAdded);
    for _ in 0..FREE {
        assert_eq!(passcode(&browser, "000000").await.status, 401);
    }
    // The free failures alarm nobody: typos happen.
    quiet(&mut laptop_ws).await;
    let before = now();
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    for (device, ws) in [(&laptop, &mut laptop_ws), (&phone, &mut phone_ws)] {
        let notice = next_notice(device, ws).await;
        assert_eq!(notice.kind, NoticeKind::WrongPasscodes);
        assert!((before..=now()).contains(&notice.at), "{}", notice.at);
    }
    // A passcode refused while it waits tells nothing new.
    assert_eq!(passcode(&browser, "000000").await.status, 429);
    quiet(&mut laptop_ws).await;
    server.stop().await;
}

#[tokio::test]
async fn a_new_authenticator_is_told_to_the_persons_other_devices() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    let (laptop, _browser) = alice(&server).await;
    let mut laptop_ws = laptop.connect().await;
    let before = now();
    let phone = Device::enroll(&server.link("alice").await, "phone").await;
    let notice = next_notice(&laptop, &mut laptop_ws).await;
    assert_eq!(notice.kind, NoticeKind::AuthenticatorAdded);
    assert!((before..=now()).contains(&notice.at), "{}", notice.at);
    // Each later one is told to the devices enrolled before it; another person's hear nothing.
    let mut phone_ws = phone.connect().await;
    server.user("bob").await;
    let bob = Device::enroll(&server.link("bob").await, "bob's laptop").await;
    let mut bob_ws = bob.connect().await;
    Device::enroll(&server.link("alice").await, "tablet").await;
    assert_eq!(next_notice(&phone, &mut phone_ws).await.kind, NoticeKind::AuthenticatorAdded);
    quiet(&mut bob_ws).await;
    server.stop().await;
}

#[tokio::test]
async fn a_device_that_was_away_gets_the_notices_when_it_polls_or_logs_in() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    // The laptop is away (no socket, no Web Push) while both happen.
    let (laptop, browser) = alice(&server).await;
    for _ in 0..=FREE {
        assert_eq!(passcode(&browser, "000000").await.status, 401);
    }
    let phone = Device::enroll(&server.link("alice").await, "phone").await;
    let (status, reply) = laptop.poll_raw().await;
    assert_eq!(status, 200, "{reply}");
    let notices: Vec<TokenNotice> = serde_json::from_value(reply["notices"].clone()).unwrap();
    let mut kinds: Vec<&str> = notices
        .iter()
        .map(|n| {
            assert_eq!(n.token_id, laptop.token_id);
            n.verify(&laptop.keys.request).unwrap();
            n.kind.name()
        })
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["authenticator_added", "wrong_passcodes"]);
    // The same at a socket log-in.
    let mut ws = laptop.connect().await;
    let mut kinds =
        [next_notice(&laptop, &mut ws).await.kind, next_notice(&laptop, &mut ws).await.kind]
            .map(NoticeKind::name);
    kinds.sort_unstable();
    assert_eq!(kinds, ["authenticator_added", "wrong_passcodes"]);
    // The new device was not there for either: it is told of neither.
    let (_, reply) = phone.poll_raw().await;
    assert_eq!(reply["notices"], serde_json::json!([]), "{reply}");
    server.stop().await;
}

/// Typed passcodes are also how a thief of a copied PIN token who knows the password would test
/// PIN guesses, so their wait grows well past the password step's 15 minutes, up to a day, and
/// the count lapses only after 30 days without a wrong one: a few dozen guesses at first, then
/// about one a day.
#[tokio::test]
async fn the_wait_of_typed_passcodes_grows_to_a_day_and_lapses_only_after_a_month() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    let (_device, browser) = alice(&server).await;
    let set = |failures: i64, ago: u64| {
        let db = server.state.db.clone();
        async move {
            let at = i64::try_from(now() - ago).unwrap();
            sqlx::query("UPDATE users SET passcode_failures = $1, passcode_failed_at = $2")
                .bind(failures)
                .bind(at)
                .execute(&db.writer)
                .await
                .unwrap();
        }
    };
    // Sixteen wrong ones just now: 2^10 s, past 15 minutes.
    set(16, 0).await;
    let waited = assert_waits(&passcode(&browser, "000000").await, 86_400);
    assert!(waited > 900, "the wait stopped at {waited} s");
    // Forty: a whole day, no more.
    set(40, 0).await;
    let reply = passcode(&browser, "000000").await;
    let waited = assert_waits(&reply, 86_400);
    assert!(waited > 86_000, "the wait stopped at {waited} s");
    assert!(reply.body.contains("about 24 hours"), "{}", reply.body);
    // Three weeks later the wait is over, but the count has not lapsed: the next wrong one
    // makes passcodes wait a day again.
    set(40, 21 * 86_400).await;
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    let waited = assert_waits(&passcode(&browser, "000000").await, 86_400);
    assert!(waited > 86_000, "the count lapsed after three weeks: {waited} s");
    // After 31 days it has: the free ones are back.
    set(40, 31 * 86_400).await;
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    assert_eq!(passcode(&browser, "000000").await.status, 401);
    server.stop().await;
}

/// A device away for more than a week is not told what happened before that week, and of
/// several notices of one kind it gets only the newest.
#[tokio::test]
async fn a_device_away_for_over_a_week_gets_only_that_weeks_newest_notices() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    let (laptop, browser) = alice(&server).await;
    for _ in 0..FREE + 3 {
        passcode(&browser, "000000").await;
    }
    let notices = |reply: &serde_json::Value| -> Vec<TokenNotice> {
        serde_json::from_value(reply["notices"].clone()).unwrap()
    };
    let (_, reply) = laptop.poll_raw().await;
    assert_eq!(notices(&reply).len(), 1, "three waits, one notice: {reply}");
    let eight_days_ago = i64::try_from(now() - 8 * 24 * 3600).unwrap();
    sqlx::query("UPDATE tokens SET wrong_passcodes_at = $1")
        .bind(eight_days_ago)
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    let (_, reply) = laptop.poll_raw().await;
    assert!(notices(&reply).is_empty(), "a notice older than a week: {reply}");
    server.stop().await;
}
