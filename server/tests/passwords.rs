//! Online password guessing: wrong passwords back off per account and per client address, a
//! flood of password checks is refused quickly instead of queueing without end, and nothing an
//! outsider types is stored in the audit log at any length.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, Instant};

use pushotp_server::audit::{Audit, AuditEvent};
use pushotp_server::{Config, ServerKey};
use support::{Reply, Server};

/// A server that believes the `X-Forwarded-For` header of 127.0.0.1, so that each test can
/// sign in from the addresses it chooses.
async fn behind_proxy() -> Server {
    let config = Config { trusted_proxy: Some("127.0.0.1".parse().unwrap()), ..Config::default() };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    server
}

async fn sign_in(server: &str, user: &str, password: &str, from: &str) -> Reply {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build();
    let reply = http
        .unwrap()
        .post(format!("{server}/app/login"))
        .header("x-forwarded-for", from)
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    Reply::read(reply).await
}

fn assert_throttled(reply: &Reply) {
    assert_eq!(reply.status, 429, "{}", reply.body);
    let seconds = reply.retry_after.expect("a Retry-After header");
    assert!((1..=900).contains(&seconds), "Retry-After {seconds}");
    assert!(reply.body.contains("Too many failed sign-ins"), "{}", reply.body);
    assert!(reply.body.contains(&format!("{seconds} s")), "the page says how long: {}", reply.body);
}

#[tokio::test]
async fn wrong_passwords_for_one_account_back_off_whatever_the_address() {
    let server = behind_proxy().await;
    for i in 0..40 {
        let reply = sign_in(&server.url, "alice", "guess", &format!("198.51.100.{i}")).await;
        assert!([401, 429].contains(&reply.status), "{}", reply.status);
    }
    // The right password, from an address that never failed: the account waits.
    assert_throttled(&sign_in(&server.url, "alice", "alice-pw", "198.51.100.200").await);
    // Another account from one of the same addresses is not held up.
    server.user("bob").await;
    assert_eq!(sign_in(&server.url, "bob", "bob-pw", "198.51.100.1").await.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn wrong_passwords_from_one_address_back_off_whatever_the_account() {
    let server = behind_proxy().await;
    for i in 0..40 {
        let reply = sign_in(&server.url, &format!("guess{i}"), "guess", "203.0.113.7").await;
        assert!([401, 429].contains(&reply.status), "{}", reply.status);
    }
    assert_throttled(&sign_in(&server.url, "alice", "alice-pw", "203.0.113.7").await);
    // The same account from another address is not held up.
    assert_eq!(sign_in(&server.url, "alice", "alice-pw", "203.0.113.8").await.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_password_checks_is_refused_quickly_beyond_the_queue() {
    let server = behind_proxy().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..150 {
        let url = server.url.clone();
        tasks.push(tokio::spawn(async move {
            let from = format!("192.0.{}.{}", 2 + i / 100, i % 100);
            let reply = sign_in(&url, &format!("flood{i}"), "guess", &from).await;
            (reply, started.elapsed())
        }));
    }
    let mut refused = Vec::new();
    let mut checked = Vec::new();
    for task in tasks {
        let (reply, took) = task.await.unwrap();
        match reply.status {
            503 => {
                assert!(reply.retry_after.is_some_and(|s| s >= 1), "Retry-After on a refusal");
                refused.push(took);
            }
            401 => checked.push(took),
            other => panic!("unexpected status {other}: {}", reply.body),
        }
    }
    // Beyond the running checks and the bounded queue the flood is refused...
    assert!(!refused.is_empty(), "nothing was refused: the queue has no bound");
    // ...at once, not after waiting behind the checks.
    let slowest_refusal = refused.iter().max().unwrap();
    let slowest_check = checked.iter().max().unwrap();
    assert!(slowest_refusal < slowest_check, "{slowest_refusal:?} vs {slowest_check:?}");
    // Real logins go through again once the flood has passed.
    assert_eq!(sign_in(&server.url, "alice", "alice-pw", "192.0.2.250").await.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn an_over_long_username_is_refused_early_and_never_stored() {
    let server = behind_proxy().await;
    let long = "a".repeat(15_000);
    let started = Instant::now();
    let reply = sign_in(&server.url, &long, "guess", "198.51.100.9").await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("at most 64 characters"), "{}", reply.body);
    assert!(started.elapsed() < Duration::from_secs(5));
    let longest = server.count("SELECT COALESCE(MAX(LENGTH(username)), 0) FROM audit").await;
    assert!(longest <= 64, "an audit row holds a {longest}-character user name");
    server.stop().await;
}

#[tokio::test]
async fn every_audit_field_is_capped() {
    let server = behind_proxy().await;
    let long = "é".repeat(15_000);
    Audit::of_user(AuditEvent::PasswordFailed, &long)
        .token(&long)
        .ip(&long)
        .detail(long.clone())
        .record(&server.state.db)
        .await
        .unwrap();
    use sqlx::Row;
    let row = sqlx::query("SELECT username, token_id, client_ip, detail FROM audit")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    for (i, column) in ["username", "token_id", "client_ip", "detail"].into_iter().enumerate() {
        let value: String = row.try_get(i).unwrap();
        assert!(
            value.chars().count() <= 256,
            "{column} holds {} characters",
            value.chars().count()
        );
        assert!(value.starts_with("éé"), "{column} keeps its start");
    }
    server.stop().await;
}

/// Guesses sent all at once: the check and the count are one step, so no more than the free
/// failures (and the one that earns the first wait) reach the password, however many arrive
/// together.
#[tokio::test]
async fn concurrent_guesses_for_one_account_get_no_more_than_the_free_tries() {
    let config = Config {
        trusted_proxy: Some("127.0.0.1".parse().unwrap()),
        // Room for every guess in the queue, so that only the throttle refuses.
        password_queue: 100,
        ..Config::default()
    };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let url = server.url.clone();
        tasks.push(tokio::spawn(async move {
            sign_in(&url, "alice", "guess", &format!("198.51.100.{i}")).await
        }));
    }
    let mut checked = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            401 => checked += 1,
            429 => assert_throttled(&reply),
            other => panic!("unexpected status {other}: {}", reply.body),
        }
    }
    assert_eq!(checked, 6, "of 60 concurrent guesses, the free ones and one more are checked");
    server.stop().await;
}

/// One IPv6 host holds a whole /64, so the addresses of one /64 count as one.
#[tokio::test]
async fn wrong_passwords_from_one_ipv6_network_back_off_together() {
    let server = behind_proxy().await;
    for i in 0..40 {
        let from = format!("2001:db8:0:7::{:x}", i + 1);
        let reply = sign_in(&server.url, &format!("guess{i}"), "guess", &from).await;
        assert!([401, 429].contains(&reply.status), "{}", reply.status);
    }
    assert_throttled(&sign_in(&server.url, "alice", "alice-pw", "2001:db8:0:7::beef").await);
    // The next /64 is another network.
    assert_eq!(sign_in(&server.url, "alice", "alice-pw", "2001:db8:0:8::1").await.status, 303);
    server.stop().await;
}

/// The free failures are exactly 5 per account and 20 per address: one more, and the next
/// check waits.
#[tokio::test]
async fn the_free_failures_are_five_per_account_and_twenty_per_address() {
    let server = behind_proxy().await;
    server.user("bob").await;
    for i in 0..5 {
        let reply = sign_in(&server.url, "alice", "guess", &format!("198.51.100.{i}")).await;
        assert_eq!(reply.status, 401, "free failure {i}");
    }
    assert_eq!(sign_in(&server.url, "alice", "alice-pw", "198.51.100.10").await.status, 303);
    for i in 0..6 {
        let reply = sign_in(&server.url, "bob", "guess", &format!("198.51.100.{}", 20 + i)).await;
        assert_eq!(reply.status, 401, "failure {i}");
    }
    assert_throttled(&sign_in(&server.url, "bob", "bob-pw", "198.51.100.30").await);

    for i in 0..20 {
        let reply = sign_in(&server.url, &format!("nobody{i}"), "guess", "203.0.113.9").await;
        assert_eq!(reply.status, 401, "free failure {i} from one address");
    }
    server.user("carol").await;
    assert_eq!(sign_in(&server.url, "carol", "carol-pw", "203.0.113.9").await.status, 303);
    let reply = sign_in(&server.url, "nobody20", "guess", "203.0.113.9").await;
    assert_eq!(reply.status, 401, "the 21st failure is still checked");
    assert_throttled(&sign_in(&server.url, "carol", "carol-pw", "203.0.113.9").await);
    server.stop().await;
}
