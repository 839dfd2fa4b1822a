//! Self-service enrollment is confirmed (docs/protocol.md §3, "Confirming an enrollment"): a
//! token added from the app's "Add a push authenticator" page stays unconfirmed after its link
//! is redeemed, gets no push and cannot answer, until the session that made the link confirms
//! the comparison code that both screens show; "It does not match" removes it, and so does the
//! end of the link's lifetime.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::push::{ActivationLink, NoticeKind, TokenNotice};
use pushotp_server::{Config, ServerKey};
use serde_json::Value;
use support::{Browser, Device, Server, Ws, next_json, quiet};

/// Signs a new browser in as alice with an approval from `device`: a fresh session.
async fn sign_in_with_push(server: &Server, device: &mut Device, ws: &mut Ws) -> Browser {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(ws).await;
    let (_, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    browser.outcome().await;
    browser.complete().await;
    browser
}

/// "Add a push authenticator": the page, its activation link and the link's token.
async fn add_authenticator(server: &Server, browser: &Browser) -> (String, String, String) {
    let reply = browser.http.post(format!("{}/app/enroll", server.url)).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let page = reply.text().await.unwrap();
    let link = page
        .split("data-testid=\"enroll-link\" readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let token_id = link.parse::<ActivationLink>().unwrap().token_id().to_owned();
    (page, link, token_id)
}

/// What the enrollment page learns about its link's token.
async fn status(server: &Server, browser: &Browser, token_id: &str) -> (u16, Value) {
    let reply = browser
        .http
        .get(format!("{}/app/enroll/status?token={token_id}", server.url))
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap())
}

/// "Confirm" (`confirm`) or "It does not match" (`reject`) on the enrollment page.
async fn decide(server: &Server, browser: &Browser, token_id: &str, what: &str) -> (u16, Value) {
    let reply = browser
        .http
        .post(format!("{}/app/enroll/{what}", server.url))
        .form(&[("token", token_id)])
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap())
}

async fn token_state(server: &Server, token_id: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT state FROM tokens WHERE id = $1")
        .bind(token_id)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap()
        .try_get("state")
        .unwrap()
}

async fn audited(server: &Server, event: &str, token_id: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM audit WHERE event = $1 AND token_id = $2")
        .bind(event)
        .bind(token_id)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// Alice with her first token (an administrator's link, active at once) connected, and a
/// browser signed in with it.
async fn alice(database: &str) -> (Server, Device, Ws, Browser) {
    let server = Server::start(database, ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let mut first = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = first.connect().await;
    let browser = sign_in_with_push(&server, &mut first, &mut ws).await;
    (server, first, ws, browser)
}

async fn self_service_token_waits_for_the_session_that_made_its_link(database: &str) {
    let (server, mut first, mut first_ws, browser) = alice(database).await;
    let (page, link, token_id) = add_authenticator(&server, &browser).await;
    // A short-lived link: ten minutes.
    let expires = link.parse::<ActivationLink>().unwrap().expires_at();
    let left = expires.saturating_sub(support::now());
    assert!((590..=600).contains(&left), "the link lasts {left} s");
    assert!(page.contains("10 minutes"), "the page says how long: {page}");
    let (code, waiting) = status(&server, &browser, &token_id).await;
    assert_eq!((code, waiting["state"].as_str()), (200, Some("waiting")), "{waiting}");
    assert!(waiting.get("code").is_none(), "no code before a device redeemed the link");

    let mut second = Device::enroll(&link, "phone").await;
    // The person's other device is told at once, before anything is confirmed.
    let notice = loop {
        let message = next_json(&mut first_ws).await;
        if message["type"] == "notice" {
            break serde_json::from_value::<TokenNotice>(message["notice"].clone()).unwrap();
        }
    };
    assert_eq!(notice.kind, NoticeKind::AuthenticatorAdded);
    // The page shows the code the device derived from the same exchange.
    let (code, shown) = status(&server, &browser, &token_id).await;
    assert_eq!(code, 200, "{shown}");
    assert_eq!(shown["state"], "unconfirmed", "{shown}");
    assert_eq!(shown["code"], second.confirm_code.as_str(), "{shown}");
    assert_eq!(shown["device"], "phone", "{shown}");
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");

    // Unconfirmed: its socket logs in (so that it is ready once confirmed) but gets nothing,
    // its polls get nothing (and do not stall a poll that names other tokens too), and it
    // cannot answer or type a passcode.
    let (mut second_ws, ready) = second.try_connect().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    let signing_in = Browser::new(&server.url);
    signing_in.sign_in("alice").await;
    let number = u8::try_from(signing_in.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = first.next_push(&mut first_ws).await;
    quiet(&mut second_ws).await;
    let (code, polled) = second.poll_raw().await;
    assert_eq!(code, 200, "{polled}");
    assert_eq!(polled["requests"], serde_json::json!([]), "{polled}");
    assert_eq!(polled["notices"], serde_json::json!([]), "{polled}");
    let mut forged = request.clone();
    forged.token_id.clone_from(&second.token_id);
    let (code, reply) = second.approve_send(&forged, Some(number), None).await;
    assert_eq!(code, 404, "{reply}");
    let typed = second.passcode(&second.keys.otp, &forged);
    assert_ne!(signing_in.passcode(&typed).await, 303, "an unconfirmed token's passcode");
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");
    // The login is still open: the first device approves it.
    let (_, reply) = first.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    signing_in.outcome().await;
    signing_in.complete().await;

    // Another session, even a fresh one of the same person, neither sees nor confirms it.
    for (what, (code, reply)) in [
        ("status", status(&server, &signing_in, &token_id).await),
        ("confirm", decide(&server, &signing_in, &token_id, "confirm").await),
        ("reject", decide(&server, &signing_in, &token_id, "reject").await),
    ] {
        assert_eq!((code, reply["error"].as_str()), (404, Some("not_found")), "{what}: {reply}");
    }
    let stranger = Browser::new(&server.url);
    assert_eq!(decide(&server, &stranger, &token_id, "confirm").await.0, 401);
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");
    assert_eq!(audited(&server, "token_confirmed", &token_id).await, 0);

    // The session that made the link confirms: from now on pushes reach the token.
    let (code, reply) = decide(&server, &browser, &token_id, "confirm").await;
    assert_eq!((code, reply["state"].as_str()), (200, Some("active")), "{reply}");
    assert_eq!(status(&server, &browser, &token_id).await.1["state"], "active");
    assert_eq!(audited(&server, "token_confirmed", &token_id).await, 1);
    assert_eq!(decide(&server, &browser, &token_id, "confirm").await.0, 409, "once");
    assert_eq!(second.poll_raw().await.0, 200);
    let later = Browser::new(&server.url);
    later.sign_in("alice").await;
    let number = u8::try_from(later.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = second.next_push(&mut second_ws).await;
    let (_, reply) = second.approve_send(&request, Some(number), None).await;
    assert_eq!(reply["status"], "approved", "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn a_self_service_token_waits_for_the_session_that_made_its_link() {
    let (_dir, database) = support::sqlite_database();
    self_service_token_waits_for_the_session_that_made_its_link(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_self_service_token_waits_for_the_session_that_made_its_link_on_postgresql() {
    let database = support::postgres_database().await;
    self_service_token_waits_for_the_session_that_made_its_link(&database).await;
}

async fn a_code_that_does_not_match_removes_the_token(database: &str) {
    let (server, _first, _ws, browser) = alice(database).await;
    let (_, link, token_id) = add_authenticator(&server, &browser).await;
    // Someone who saw the QR code first redeems the link.
    let thief = Device::enroll(&link, "someone else").await;
    assert_eq!(status(&server, &browser, &token_id).await.1["state"], "unconfirmed");
    let (code, reply) = decide(&server, &browser, &token_id, "reject").await;
    assert_eq!((code, reply["state"].as_str()), (200, Some("removed")), "{reply}");
    assert_eq!(token_state(&server, &token_id).await, "revoked");
    assert_eq!(audited(&server, "enrollment_rejected", &token_id).await, 1);
    assert_eq!(status(&server, &browser, &token_id).await.1["state"], "removed");
    // Its keys are gone: nothing it sends is taken, and it can no longer be confirmed.
    assert_eq!(thief.poll_raw().await.0, 401);
    assert_eq!(decide(&server, &browser, &token_id, "confirm").await.0, 409);
    server.stop().await;
}

#[tokio::test]
async fn a_code_that_does_not_match_removes_the_token_on_sqlite() {
    let (_dir, database) = support::sqlite_database();
    a_code_that_does_not_match_removes_the_token(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_code_that_does_not_match_removes_the_token_on_postgresql() {
    let database = support::postgres_database().await;
    a_code_that_does_not_match_removes_the_token(&database).await;
}

async fn an_unconfirmed_token_ends_with_its_link(database: &str) {
    let (server, _first, _ws, browser) = alice(database).await;
    let (_, link, token_id) = add_authenticator(&server, &browser).await;
    let device = Device::enroll(&link, "phone").await;
    // Nobody confirmed it within the link's lifetime.
    sqlx::query(
        "UPDATE tokens SET activation_expires_at = activation_expires_at - 601 WHERE id = $1",
    )
    .bind(&token_id)
    .execute(&server.state.db.writer)
    .await
    .unwrap();
    assert_eq!(decide(&server, &browser, &token_id, "confirm").await.0, 409, "too late");
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");
    // The page says so, not that the link expired unused.
    assert_eq!(status(&server, &browser, &token_id).await.1["state"], "not_confirmed");
    // The sweeper removes it.
    pushotp_server::enrollment::sweep(&server.state).await.unwrap();
    assert_eq!(token_state(&server, &token_id).await, "revoked");
    assert_eq!(audited(&server, "enrollment_expired", &token_id).await, 1);
    assert_eq!(device.poll_raw().await.0, 401);
    // A second sweep finds nothing more to do.
    pushotp_server::enrollment::sweep(&server.state).await.unwrap();
    assert_eq!(audited(&server, "enrollment_expired", &token_id).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn an_unconfirmed_token_ends_with_its_link_on_sqlite() {
    let (_dir, database) = support::sqlite_database();
    an_unconfirmed_token_ends_with_its_link(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn an_unconfirmed_token_ends_with_its_link_on_postgresql() {
    let database = support::postgres_database().await;
    an_unconfirmed_token_ends_with_its_link(&database).await;
}

/// An administrator's link (`token enroll`, `serve --demo`) has no session to confirm it: the
/// token is active as soon as its device redeems the link.
#[tokio::test]
async fn an_administrators_link_is_active_on_redemption() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    assert_eq!(token_state(&server, &device.token_id).await, "active");
    assert_eq!(device.poll_raw().await.0, 200);
}

/// A POST of `path` from `browser` carrying `headers`, as a page of another origin (or the
/// server's own) would send it: the status and the JSON body (or `null`).
async fn post_with(
    server: &Server,
    browser: &Browser,
    path: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = browser.http.post(format!("{}{path}", server.url)).form(form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = request.send().await.unwrap();
    let code = reply.status().as_u16();
    (code, reply.json().await.unwrap_or(Value::Null))
}

async fn a_post_from_another_origin_changes_nothing(database: &str) {
    let (server, first, mut first_ws, browser) = alice(database).await;
    let (_, link, token_id) = add_authenticator(&server, &browser).await;
    // Someone who saw the link redeems it, then has a page of a sibling site (same-site, so the
    // session cookie goes along) confirm that token, or reject the person's own.
    let _thief = Device::enroll(&link, "someone else").await;
    assert_eq!(next_json(&mut first_ws).await["type"], "notice", "authenticator_added");
    let cross: [&[(&str, &str)]; 4] = [
        &[("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")],
        &[("origin", "http://evil.example")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "null"), ("sec-fetch-site", "same-site")],
    ];
    for headers in cross {
        for what in ["confirm", "reject"] {
            let path = format!("/app/enroll/{what}");
            let (code, reply) =
                post_with(&server, &browser, &path, &[("token", &token_id)], headers).await;
            assert_eq!(
                (code, reply["error"].as_str()),
                (403, Some("cross_site")),
                "{what} with {headers:?}: {reply}"
            );
        }
    }
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");
    assert_eq!(audited(&server, "token_confirmed", &token_id).await, 0);
    // Nor does such a page sign the person out, or start a push for a sign-in in progress.
    let (code, _) = post_with(&server, &browser, "/app/logout", &[], cross[0]).await;
    assert_eq!(code, 403, "logout");
    assert_eq!(status(&server, &browser, &token_id).await.0, 200, "still signed in");
    let signing_in = Browser::new(&server.url);
    signing_in.sign_in("alice").await;
    let (code, reply) = post_with(&server, &signing_in, "/auth/push", &[], cross[2]).await;
    assert_eq!((code, reply["error"].as_str()), (403, Some("cross_site")), "{reply}");
    quiet(&mut first_ws).await;
    // The server's own pages, and clients that send neither header, are served.
    let own = [("origin", server.url.as_str()), ("sec-fetch-site", "same-origin")];
    let (code, reply) = post_with(&server, &signing_in, "/auth/push", &[], &own).await;
    assert_eq!(code, 200, "{reply}");
    first.next_push(&mut first_ws).await;
    let (code, reply) =
        post_with(&server, &browser, "/app/enroll/confirm", &[("token", &token_id)], &own).await;
    assert_eq!((code, reply["state"].as_str()), (200, Some("active")), "{reply}");
    let (code, _) = post_with(&server, &browser, "/app/logout", &[], &[]).await;
    assert_eq!(code, 303, "logout without either header");
    server.stop().await;
}

#[tokio::test]
async fn a_post_from_another_origin_changes_nothing_on_sqlite() {
    let (_dir, database) = support::sqlite_database();
    a_post_from_another_origin_changes_nothing(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_post_from_another_origin_changes_nothing_on_postgresql() {
    let database = support::postgres_database().await;
    a_post_from_another_origin_changes_nothing(&database).await;
}

async fn a_link_redeemed_late_still_leaves_time_to_confirm(database: &str) {
    let (server, _first, _ws, browser) = alice(database).await;
    let (_, link, token_id) = add_authenticator(&server, &browser).await;
    // The person scans the link 2 s before it expires.
    let soon = i64::try_from(support::now()).unwrap() + 2;
    sqlx::query("UPDATE tokens SET activation_expires_at = $1 WHERE id = $2")
        .bind(soon)
        .bind(&token_id)
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    let _device = Device::enroll(&link, "phone").await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    // Past the link's end, the comparison still shows, the sweeper leaves the token, and
    // Confirm is taken: the confirmation has minutes of its own.
    let (code, shown) = status(&server, &browser, &token_id).await;
    assert_eq!((code, shown["state"].as_str()), (200, Some("unconfirmed")), "{shown}");
    pushotp_server::enrollment::sweep(&server.state).await.unwrap();
    assert_eq!(token_state(&server, &token_id).await, "unconfirmed");
    let (code, reply) = decide(&server, &browser, &token_id, "confirm").await;
    assert_eq!((code, reply["state"].as_str()), (200, Some("active")), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn a_link_redeemed_late_still_leaves_time_to_confirm_on_sqlite() {
    let (_dir, database) = support::sqlite_database();
    a_link_redeemed_late_still_leaves_time_to_confirm(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_link_redeemed_late_still_leaves_time_to_confirm_on_postgresql() {
    let database = support::postgres_database().await;
    a_link_redeemed_late_still_leaves_time_to_confirm(&database).await;
}

async fn a_failing_request_sweep_does_not_keep_unconfirmed_tokens(database: &str) {
    let (server, _first, _ws, browser) = alice(database).await;
    let (_, link, token_id) = add_authenticator(&server, &browser).await;
    let _device = Device::enroll(&link, "phone").await;
    sqlx::query("UPDATE tokens SET activation_expires_at = 1 WHERE id = $1")
        .bind(&token_id)
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    // The sweep of overdue push requests fails (here: their table is gone).
    sqlx::query("ALTER TABLE push_requests RENAME TO push_requests_gone")
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    pushotp_server::push::spawn_sweeper(server.state.clone(), std::time::Duration::from_secs(3600));
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while token_state(&server, &token_id).await != "revoked" {
        assert!(std::time::Instant::now() < end, "the unconfirmed token was not swept");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(audited(&server, "enrollment_expired", &token_id).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_failing_request_sweep_does_not_keep_unconfirmed_tokens_on_sqlite() {
    let (_dir, database) = support::sqlite_database();
    a_failing_request_sweep_does_not_keep_unconfirmed_tokens(&database).await;
}

#[tokio::test]
#[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
async fn a_failing_request_sweep_does_not_keep_unconfirmed_tokens_on_postgresql() {
    let database = support::postgres_database().await;
    a_failing_request_sweep_does_not_keep_unconfirmed_tokens(&database).await;
}
