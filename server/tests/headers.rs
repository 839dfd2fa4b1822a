//! The protective headers of every page, asset and API answer the server sends, and a content
//! security policy that the pages themselves satisfy.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp_server::{Config, ServerKey};
use reqwest::Response;
use support::{Browser, Device, Server};

/// What a page may load under the policy: its own scripts, styles and API, nothing inline, and
/// no framing by any other page.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Checks the headers every answer carries; `no_store` for those that may carry an activation
/// secret, a session or a sign-in (pages, redirects, API answers).
fn assert_protected(what: &str, reply: &Response, no_store: bool) {
    let headers = reply.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(get("content-security-policy"), POLICY, "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    if no_store {
        assert_eq!(get("cache-control"), "no-store", "{what}");
    } else {
        assert!(get("cache-control").starts_with("no-"), "{what}: assets are checked for changes");
    }
}

/// Checks that a page breaks none of [`POLICY`]'s rules: no inline script or style, no event
/// handler attribute, and every script and stylesheet from the server itself.
fn assert_satisfies_policy(what: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    for forbidden in ["<style", " style=", "javascript:", " onclick=", " onload=", " onsubmit="] {
        assert!(!lower.contains(forbidden), "{what}: {forbidden} is refused by the policy");
    }
    for script in lower.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(tag.contains("src=\"/assets/"), "{what}: an inline or foreign script: {tag}");
    }
    for link in lower.split("<link").skip(1) {
        let tag = link.split('>').next().unwrap();
        assert!(
            tag.contains("href=\"/assets/") || tag.contains("href=\"data:"),
            "{what}: a foreign resource: {tag}"
        );
    }
}

#[tokio::test]
async fn every_page_asset_and_answer_carries_the_protective_headers() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    let url = |path: &str| format!("{}{path}", server.url);

    let reply = browser.http.get(url("/")).send().await.unwrap();
    assert_protected("the redirect to the app", &reply, true);
    let reply = browser.http.get(url("/app")).send().await.unwrap();
    assert_protected("the app's redirect to its login", &reply, true);
    let reply = browser.http.get(url("/app/login")).send().await.unwrap();
    assert_protected("the app's login page", &reply, true);
    assert_satisfies_policy("the app's login page", &reply.text().await.unwrap());
    for (path, content_type) in
        [("/assets/style.css", "text/css"), ("/assets/auth.js", "text/javascript")]
    {
        let reply = browser.http.get(url(path)).send().await.unwrap();
        assert_eq!(reply.headers()["content-type"], content_type);
        assert_protected(path, &reply, false);
    }

    // A wrong password: the login page again, with its error.
    let reply = browser
        .http
        .post(url("/app/login"))
        .form(&[("username", "alice"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    assert_protected("the login page with an error", &reply, true);

    // The right one: a login cookie, and the organization's login page.
    let reply = browser
        .http
        .post(url("/app/login"))
        .form(&[("username", "alice"), ("password", "alice-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    assert_protected("the redirect that sets the login cookie", &reply, true);
    let reply = browser.http.get(url("/auth")).send().await.unwrap();
    assert_protected("the organization's login page", &reply, true);
    assert_satisfies_policy("the organization's login page", &reply.text().await.unwrap());
    let reply = browser.http.post(url("/auth/passcode")).form(&[("passcode", "000000")]).send();
    let reply = reply.await.unwrap();
    assert_eq!(reply.status(), 401);
    assert_protected("the login page after a wrong passcode", &reply, true);

    let reply = browser.http.post(url("/auth/push")).send().await.unwrap();
    assert_protected("a push's number", &reply, true);
    let number: serde_json::Value = reply.json().await.unwrap();
    let number = u8::try_from(number["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    device.approve_send(&request, Some(number), None).await;
    let reply = browser.http.get(url("/auth/events")).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    // An event stream is never stored either (its own `no-cache` is not enough for a page that
    // names the person signing in).
    assert_protected("the login's event stream", &reply, true);
    drop(reply);
    browser.outcome().await;
    let reply = browser.http.post(url("/auth/complete")).send().await.unwrap();
    assert_protected("the answer that sets the session cookie", &reply, true);
    let reply = browser.http.get(url("/app")).send().await.unwrap();
    assert_protected("the signed-in app page", &reply, true);
    assert_satisfies_policy("the signed-in app page", &reply.text().await.unwrap());

    // The enrollment page carries a live activation secret.
    let reply = browser.http.post(url("/app/enroll")).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_protected("the enrollment page", &reply, true);
    let page = reply.text().await.unwrap();
    assert!(page.contains("pushotp://enroll?"), "an activation link");
    assert_satisfies_policy("the enrollment page", &page);

    // The devices' API and its errors.
    let reply = device.http.get(url("/api/v1/webpush/key")).send().await.unwrap();
    assert_protected("the VAPID key", &reply, true);
    let reply = device.http.post(url("/api/v1/answers")).body("{").send().await.unwrap();
    assert_eq!(reply.status().as_u16() / 100, 4);
    assert_protected("an API error", &reply, true);
    let reply = device.http.get(url("/nowhere")).send().await.unwrap();
    assert_eq!(reply.status(), 404);
    assert_protected("an unknown address", &reply, true);
}
