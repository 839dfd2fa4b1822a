//! What a reader of the database (a backup, another local user) can and cannot do: session and
//! login ids are stored only as hashes, the SQLite files are private to their owner, and a
//! session alone cannot add an authenticator without a fresh second factor.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp_server::{Config, Db, ServerKey};
use sha2::Digest;
use sqlx::Row;
use support::{Browser, Device, Server};

async fn memory_server() -> Server {
    Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await
}

/// A browser without a cookie jar, so that the test sees and sets each cookie itself.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of cookie `name` that `reply` sets.
fn set_cookie(reply: &reqwest::Response, name: &str) -> String {
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

fn sha256(text: &str) -> String {
    Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(text.as_bytes()))
}

async fn ids(server: &Server, sql: &'static str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(&server.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("id").unwrap())
        .collect()
}

/// The database holds only SHA-256 hashes of the login and session cookies: a reader who sends
/// a stored id as a cookie gets nowhere, the browser's own cookie still works.
#[tokio::test]
async fn session_and_login_ids_are_stored_only_as_hashes() {
    let server = memory_server().await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let http = bare_client();
    let url = |path: &str| format!("{}{path}", server.url);

    let reply = http
        .post(url("/app/login"))
        .form(&[("username", "alice"), ("password", "alice-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    let login = set_cookie(&reply, "pushotp_login");
    let stored = ids(&server, "SELECT id FROM logins").await;
    assert_eq!(stored, vec![sha256(&login)], "only the hash of the login cookie is stored");
    let page =
        |cookie: String, path: &'static str| http.get(url(path)).header("cookie", cookie).send();
    let stolen = page(format!("pushotp_login={}", stored[0]), "/auth").await.unwrap();
    assert_eq!(stolen.headers()["location"], "/app/login", "a stored login id is no cookie");
    let own = page(format!("pushotp_login={login}"), "/auth").await.unwrap();
    assert_eq!(own.status(), 200);

    // The sign-in code of an approval, typed, opens the session.
    let pushed: serde_json::Value = http
        .post(url("/auth/push"))
        .header("cookie", format!("pushotp_login={login}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = pushed["number"].as_u64().map(|n| u8::try_from(n).unwrap());
    let request = device.poll().await.pop().unwrap();
    let (_, approved) = device.approve_send(&request, number, None).await;
    let code = approved["loginCode"].as_str().unwrap().to_owned();
    let reply = http
        .post(url("/auth/passcode"))
        .header("cookie", format!("pushotp_login={login}"))
        .form(&[("passcode", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    let session = set_cookie(&reply, "pushotp_session");
    let stored = ids(&server, "SELECT id FROM sessions").await;
    assert_eq!(stored, vec![sha256(&session)], "only the hash of the session cookie is stored");
    let stolen = page(format!("pushotp_session={}", stored[0]), "/app").await.unwrap();
    assert_eq!(stolen.headers()["location"], "/app/login", "a stored session id is no cookie");
    let own = page(format!("pushotp_session={session}"), "/app").await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("signed in as <strong>alice"));

    // Signing out finds the session by its hash too.
    let reply = http
        .post(url("/app/logout"))
        .header("cookie", format!("pushotp_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    assert!(ids(&server, "SELECT id FROM sessions").await.is_empty());
}

/// The sign-in code of an approval has a million values (six digits), so a plain hash of it on
/// the login would fall to a million hashes: the database holds only a MAC of it under a key
/// derived from the server key, which the database does not hold. The code's hash is not what
/// is stored, and the code still signs in.
#[tokio::test]
async fn a_sign_in_code_is_stored_only_as_a_mac_under_the_server_key() {
    let server = memory_server().await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let code = support::sign_in_code(&browser, &mut device, None).await;
    assert_eq!(code.len(), 6);
    let row = sqlx::query("SELECT login_code FROM logins")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    let stored: String = row.try_get("login_code").unwrap();
    assert!(!stored.contains(&code));
    // A reader's search, the SHA-256 of every six-digit code, finds the code if its own hash
    // is what is stored (and, but for a collision, no other).
    assert_ne!(sha256(&code), stored, "the database gives the sign-in code away");
    assert_eq!(browser.passcode(&code).await, 303);
}

/// The SQLite file, its write-ahead log and its shared-memory file are created readable and
/// writable by their owner only, whatever the process's umask lets through.
#[tokio::test]
async fn the_sqlite_file_and_its_wal_and_shm_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // Also when the URL names SQLite's open mode itself.
    for (file, query) in [("private.db", ""), ("with-mode.db", "?mode=rwc")] {
        let path = dir.path().join(file);
        let db = Db::connect(&format!("sqlite://{}{query}", path.display())).await.unwrap();
        pushotp_server::users::add(&db, "alice", "alice-pw").await.unwrap();
        for name in [file.to_owned(), format!("{file}-wal"), format!("{file}-shm")] {
            let mode = std::fs::metadata(dir.path().join(&name))
                .unwrap_or_else(|err| panic!("{name}: {err}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
        }
        db.pool.close().await;
        db.writer.close().await;
    }
}

/// Signs `browser` in as alice with an approved push.
async fn sign_in_with_push(server: &Server, device: &mut Device, ws: &mut support::Ws) -> Browser {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(ws).await;
    device.approve_send(&request, Some(number), None).await;
    browser.outcome().await;
    browser.complete().await;
    browser
}

/// "Add a push authenticator" on the app's page: the page.
async fn add_authenticator(server: &Server, browser: &Browser) -> (u16, String) {
    let reply = browser.http.post(format!("{}/app/enroll", server.url)).send().await.unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// A session whose second factor is more than a few minutes old cannot add an authenticator:
/// the person is asked to sign in again, and a fresh approval or typed passcode lets them.
#[tokio::test]
async fn adding_an_authenticator_needs_a_fresh_second_factor() {
    let server = memory_server().await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let mut ws = device.connect().await;
    let browser = sign_in_with_push(&server, &mut device, &mut ws).await;
    let (status, page) = add_authenticator(&server, &browser).await;
    assert_eq!(status, 200);
    assert!(page.contains("pushotp://enroll?"), "a fresh approval lets the person add one");

    // Six minutes later the same session (stolen, say) cannot.
    sqlx::query("UPDATE sessions SET created_at = created_at - 360")
        .execute(&server.state.db.writer)
        .await
        .unwrap();
    let tokens = server.count("SELECT COUNT(*) FROM tokens").await;
    let (status, page) = add_authenticator(&server, &browser).await;
    assert!(!page.contains("pushotp://enroll?"), "no activation link: {page}");
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("sign in again"), "the person is told what to do: {page}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens").await, tokens, "no token made");
    assert_eq!(
        server.count("SELECT COUNT(*) FROM audit WHERE event = 'step_up_required'").await,
        1,
        "the refusal is audited"
    );

    // A new sign-in completed with an approval's sign-in code is fresh again.
    browser.sign_in("alice").await;
    let code = support::sign_in_code(&browser, &mut device, None).await;
    assert_eq!(browser.passcode(&code).await, 303);
    let (status, page) = add_authenticator(&server, &browser).await;
    assert_eq!(status, 200);
    assert!(page.contains("pushotp://enroll?"), "a fresh passcode lets the person add one");
}

/// A person with no active or locked token has nothing to give a second factor with: an old
/// session may add their first authenticator. A locked token does not count as none (locking
/// someone's tokens must not open that door).
#[tokio::test]
async fn a_person_with_no_token_may_add_the_first_from_an_old_session() {
    let server = memory_server().await;
    server.user("carol").await;
    let user = pushotp_server::users::find(&server.state.db, "carol").await.unwrap().unwrap();
    let cookie = "ses_carols-browser";
    let long_ago = i64::try_from(support::now()).unwrap() - 3600;
    pushotp_server::store::sessions::insert(
        &server.state.db,
        &pushotp_server::ids::stored_id(cookie),
        user.id,
        long_ago,
        long_ago + 8 * 3600,
    )
    .await
    .unwrap();
    let http = bare_client();
    let add = || {
        http.post(format!("{}/app/enroll", server.url))
            .header("cookie", format!("pushotp_session={cookie}"))
            .send()
    };
    // An unredeemed link (a pending token) is no token to sign in with either.
    server.link("carol").await;
    let reply = add().await.unwrap();
    assert_eq!(reply.status(), 200);
    let page = reply.text().await.unwrap();
    let link =
        page.split("value=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let device = Device::enroll(&link, "laptop").await;
    // Until she confirms it on that page, it is no token to sign in with either.
    assert_eq!(add().await.unwrap().status(), 200);
    let token = format!("token={}", device.token_id);
    let confirmed = http
        .post(format!("{}/app/enroll/confirm", server.url))
        .header("cookie", format!("pushotp_session={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(token)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);

    // Now carol has a token: the old session must sign in again, also once it is locked.
    assert_eq!(add().await.unwrap().status(), 403);
    pushotp_server::tokens::lock(&server.state, &device.token_id).await.unwrap();
    assert_eq!(add().await.unwrap().status(), 403);
}

/// When a new authenticator is enrolled, each of the person's other tokens gets an audit record
/// naming it, so that the devices holding them can be told.
#[tokio::test]
async fn a_new_authenticator_is_recorded_for_the_persons_other_tokens() {
    let server = memory_server().await;
    server.user("alice").await;
    server.user("bob").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    let bobs = Device::enroll(&server.link("bob").await, "bob's laptop").await;
    let mut ws = device.connect().await;
    let browser = sign_in_with_push(&server, &mut device, &mut ws).await;
    let (_, page) = add_authenticator(&server, &browser).await;
    let link =
        page.split("value=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let second = Device::enroll(&link, "phone").await;
    let rows =
        sqlx::query("SELECT token_id, detail FROM audit WHERE event = 'token_added_elsewhere'")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    let rows: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.try_get("token_id").unwrap(), r.try_get("detail").unwrap()))
        .collect();
    assert_eq!(rows.len(), 1, "one record, for alice's first token only: {rows:?}");
    assert_eq!(rows[0].0, device.token_id);
    assert!(rows[0].1.contains(&second.token_id) && rows[0].1.contains("phone"), "{rows:?}");
    assert_ne!(rows[0].0, bobs.token_id);
}
