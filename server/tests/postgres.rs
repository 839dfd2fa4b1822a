//! The server on PostgreSQL, and two server nodes sharing one database: a device connected to
//! one node answers a login started on the other.
//!
//! Each needs `PUSHOTP_TEST_POSTGRES` (a database URL): a plain `cargo test` reports them
//! ignored, and `scripts/test.sh` starts a throwaway cluster and runs them, failing if it
//! cannot (see [`support::postgres_database`]).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp_server::{Config, ServerKey};
use support::{Browser, Device, Server};

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn the_whole_flow_works_on_postgresql() {
    let database = support::postgres_database().await;
    let server = Server::start(
        &database,
        ServerKey::random(),
        Config { deny_cooldown: 0, ..Config::default() },
    )
    .await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert!(browser.complete().await.contains("signed in as <strong>alice</strong>"));
    // Replays and reports behave as on SQLite.
    assert_eq!(device.approve_send(&request, Some(number), None).await.0, 409);
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    assert_eq!(device.send(&device.report(&request)).await.1["status"], "reported");
    assert_eq!(server.count("SELECT COUNT(*) FROM reports").await, 1);
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn two_nodes_share_one_database_on_postgresql() {
    let database = support::postgres_database().await;
    let key = ServerKey::random();
    let a = Server::start(&database, key.clone(), Config::default()).await;
    let b = Server::start(&database, key, Config::default()).await;
    a.user("alice").await;
    // Enrolled through node A, connected to node B.
    let mut device = Device::enroll(&a.link("alice").await, "laptop").await;
    device.server = b.url.clone();
    let mut ws = device.connect().await;
    // The login happens on node A.
    let browser = Browser::new(&a.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    assert_eq!(request.origin, a.url);
    // Answered through node B; node A's login page hears it.
    let (_, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    // Both nodes use the same VAPID identity, so subscriptions work whichever node sends.
    let key_a: serde_json::Value =
        reqwest::get(format!("{}/api/v1/webpush/key", a.url)).await.unwrap().json().await.unwrap();
    let key_b: serde_json::Value =
        reqwest::get(format!("{}/api/v1/webpush/key", b.url)).await.unwrap().json().await.unwrap();
    assert_eq!(key_a, key_b);
}

/// States are bound as parameters, and PostgreSQL types each one from its place in the
/// statement: in a `CASE` that locks a token, in the `IN` list of open login states, in the
/// single-use claims. Every such statement runs here once.
#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn failed_tries_locking_expiry_and_removal_work_on_postgresql() {
    let database = support::postgres_database().await;
    let config =
        Config { max_tries: 2, deny_cooldown: 0, max_pending_per_user: 10, ..Config::default() };
    let server = Server::start(&database, ServerKey::random(), config).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    // A wrong number: a failed try, the token still active.
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push(&mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number).unwrap();
    let (_, reply) = device.approve_send(&request, Some(wrong), None).await;
    assert_eq!(
        (reply["reason"].as_str(), reply["triesLeft"].as_i64()),
        (Some("wrong_number"), Some(1))
    );
    assert_eq!(browser.outcome().await["reason"], "wrong_number");
    // A wrong typed passcode is no failed answer: the person's wrong passcodes are counted
    // apart, in a conditional statement, and never lock.
    assert_eq!(browser.passcode("000000").await, 401);
    assert_eq!(server.count("SELECT passcode_failures FROM users").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 0);
    // A second wrong number is the last try: the token locks, and no push goes out.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = browser.push().await.1["number"].as_u64().unwrap();
    let request = device.next_push(&mut ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number).unwrap();
    let (_, reply) = device.approve_send(&request, Some(wrong), None).await;
    assert_eq!(reply["reason"], "locked", "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    assert_eq!(browser.push().await.0, 409);
    // The administrator unlocks it; an approval's sign-in code, typed, opens one session.
    pushotp_server::tokens::unlock(&server.state, &device.token_id).await.unwrap();
    let code = support::sign_in_code(&browser, &mut device, None).await;
    assert_eq!(browser.passcode(&code).await, 303);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
    // Removal revokes the token and cancels what was pending for it.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    assert_eq!(device.remove().await.0, 200);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'revoked'").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'pending'").await, 0);
    assert_eq!(browser.push().await.1["error"], "no_authenticator");

    // Unanswered requests expire, and their login with them.
    let database = support::postgres_database().await;
    let server = Server::start(
        &database,
        ServerKey::random(),
        Config { request_ttl: 1, ..Config::default() },
    )
    .await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    // A one-second lifetime in whole seconds may be over before the socket is read.
    device.next_push_late(&mut ws).await;
    assert_eq!(browser.outcome().await["state"], "expired");
    assert_eq!(server.count("SELECT COUNT(*) FROM push_requests WHERE state = 'expired'").await, 1);
}

/// A request ended through one node is ended on a device connected to the other, and the
/// statements that end requests (`RETURNING` the ended ones) and list them run on PostgreSQL.
#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn the_end_of_a_request_reaches_a_device_on_another_node_on_postgresql() {
    use pushotp::push::EndReason;
    let database = support::postgres_database().await;
    let key = ServerKey::random();
    let a = Server::start(&database, key.clone(), Config::default()).await;
    let b = Server::start(&database, key, Config::default()).await;
    a.user("alice").await;
    let mut laptop = Device::enroll(&a.link("alice").await, "laptop").await;
    let mut desktop = Device::enroll(&a.link("alice").await, "desktop").await;
    desktop.server = b.url.clone();
    let (mut laptop_ws, mut desktop_ws) = (laptop.connect().await, desktop.connect().await);
    let browser = Browser::new(&a.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let on_laptop = laptop.next_push(&mut laptop_ws).await;
    let on_desktop = desktop.next_push(&mut desktop_ws).await;
    // Approved through node A; the desktop, on node B, is told.
    let (_, reply) = laptop.approve_send(&on_laptop, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    let within = std::time::Duration::from_secs(5);
    let notice = desktop.next_ended(&mut desktop_ws, within).await;
    assert_eq!((notice.id, notice.reason), (on_desktop.id, EndReason::Answered));
    let (pending, ended) = desktop.poll_all().await;
    assert!(pending.is_empty());
    assert_eq!(ended, vec![notice]);
}

/// A wrong PIN hands its request back (the claim's release, and the replay check on the next
/// claim): statements that run only here and on SQLite.
#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_wrong_pin_keeps_the_request_open_on_postgresql() {
    let database = support::postgres_database().await;
    let config = Config { require_pin: true, number_matching: false, ..Config::default() };
    let server = Server::start(&database, ServerKey::random(), config).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    device.protect_with_pin("4711");
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await;
    let request = device.next_push(&mut ws).await;
    let wrong = device.approve(&request, None, Some("0000"));
    let (_, reply) = device.send(&wrong).await;
    assert_eq!(
        (reply["reason"].as_str(), reply["pending"].as_bool()),
        (Some("wrong_pin"), Some(true))
    );
    assert_eq!(device.send(&wrong).await.0, 409, "a replay is refused");
    let (_, reply) = device.approve_send(&request, None, Some("4711")).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_restore_moves_the_token_on_postgresql() {
    let database = support::postgres_database().await;
    let key = ServerKey::random();
    // Two nodes: the restore on one, the old copy's socket on the other, which is told too.
    let a = Server::start(&database, key.clone(), Config::default()).await;
    let b = Server::start(&database, key, Config::default()).await;
    a.user("alice").await;
    let mut laptop = Device::enroll(&a.link("alice").await, "laptop").await;
    let export = laptop.clone();
    laptop.server = b.url.clone();
    let mut laptop_ws = laptop.connect().await;
    let mut desktop = export.clone();
    let (status, reply) = desktop.restore().await;
    assert_eq!((status, reply["counter"].as_u64()), (200, Some(0)), "{reply}");
    let told = support::next_json(&mut laptop_ws).await;
    assert_eq!(told["type"], "restored", "{told}");
    // Only the restored copy talks to the server now, and the same export cannot restore again.
    assert_eq!(desktop.poll().await, vec![]);
    assert_eq!(laptop.poll_raw().await.0, 410);
    assert_eq!(export.clone().restore().await.0, 410);
    assert_eq!(a.count("SELECT COUNT(*) FROM tokens WHERE retired_sealed IS NOT NULL").await, 1);
}

/// On PostgreSQL (READ COMMITTED) a count and an insert in one statement would not see each
/// other's uncommitted rows: twelve logins of one person pushing at once against a limit of
/// three must still send exactly three.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn the_push_limit_holds_for_pushes_at_the_same_moment_on_postgresql() {
    let database = support::postgres_database().await;
    let config = Config { max_pending_per_user: 3, ..Config::default() };
    let server = Server::start(&database, ServerKey::random(), config).await;
    server.user("alice").await;
    Device::enroll(&server.link("alice").await, "laptop").await;
    support::assert_the_push_limit_holds_at_once(&server, "alice", 12, 3).await;
}

/// Wrong typed passcodes are counted in the database: after the free ones on node A, a
/// passcode typed on node B waits too.
#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn wrong_typed_passcodes_on_one_node_make_the_other_wait_on_postgresql() {
    let database = support::postgres_database().await;
    let key = ServerKey::random();
    let a = Server::start(&database, key.clone(), Config::default()).await;
    let b = Server::start(&database, key, Config::default()).await;
    a.user("alice").await;
    let _device = Device::enroll(&a.link("alice").await, "laptop").await;
    let on_a = Browser::new(&a.url);
    on_a.sign_in("alice").await;
    // Signed in on B first: the first wait is one second, less than a password check may take.
    let on_b = Browser::new(&b.url);
    on_b.sign_in("alice").await;
    for _ in 0..5 {
        assert_eq!(on_a.passcode("000000").await, 401);
    }
    support::at_the_start_of_a_second().await;
    assert_eq!(on_a.passcode("000000").await, 401);
    assert_eq!(on_b.passcode("000000").await, 429, "node B did not see node A's count");
}
