//! What a reader of the database (a backup, another local user) can and cannot do: session and
//! login ids are stored only as hashes, and the SQLite files are private to their owner.

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
use support::{Device, Server};

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

    // A typed passcode opens the session.
    let otp = device.keys.otp.clone();
    let code = device.next_passcode(&otp);
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

/// The SQLite file, its write-ahead log and its shared-memory file are created readable and
/// writable by their owner only, whatever the process's umask lets through.
#[tokio::test]
async fn the_sqlite_file_and_its_wal_and_shm_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("private.db");
    let db = Db::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    pushotp_server::users::add(&db, "alice", "alice-pw").await.unwrap();
    for name in ["private.db", "private.db-wal", "private.db-shm"] {
        let path = dir.path().join(name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|err| panic!("{name}: {err}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
    }
    db.pool.close().await;
    db.writer.close().await;
}
