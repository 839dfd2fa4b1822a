//! What the server keeps and logs of a person's secrets: a password only as an Argon2id hash,
//! token keys and activation secrets only sealed, and no secret in any log line, whatever the
//! log level.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::push::ActivationLink;
use pushotp_server::{Config, ServerKey};
use sqlx::Row;
use support::{Browser, Device, Server};

/// Every log line of this test binary, at every level of the server's own code, of the HTTP
/// layer and of the database driver.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One test per binary sets the global subscriber, so everything of the flow lands in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_stored_in_clear_or_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        // No timestamps: their digits could hold a six-digit passcode by chance.
        .without_time()
        .init();

    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let link = server.link("alice").await;
    let activation: ActivationLink = link.parse().unwrap();
    let sealed_activation: Vec<u8> =
        sqlx::query("SELECT activation_sealed FROM tokens WHERE id = $1")
            .bind(activation.token_id())
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap()
            .try_get("activation_sealed")
            .unwrap();
    assert!(!contains_bytes(&sealed_activation, activation.secret().expose()));

    // The whole flow: enrollment, a push approved with its number, a typed passcode.
    let mut device = Device::enroll(&link, "laptop").await;
    let mut ws = device.connect().await;
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let number = u8::try_from(browser.push().await.1["number"].as_u64().unwrap()).unwrap();
    let request = device.next_push(&mut ws).await;
    let approval = device.approve(&request, Some(number), None);
    let (status, _) = device.send(&approval).await;
    assert_eq!(status, 200);
    browser.outcome().await;
    browser.complete().await;
    let typed = Browser::new(&server.url);
    typed.sign_in("alice").await;
    let code = support::sign_in_code(&typed, &mut device, None).await;
    assert_eq!(typed.passcode(&code).await, 303);

    // At rest: the password as an Argon2id PHC string, the keys only sealed.
    let hash: String = sqlx::query("SELECT password_hash FROM users WHERE username = 'alice'")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap()
        .try_get("password_hash")
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("alice-pw"));
    let sealed_keys: Vec<u8> = sqlx::query("SELECT keys_sealed FROM tokens WHERE id = $1")
        .bind(&device.token_id)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap()
        .try_get("keys_sealed")
        .unwrap();
    let keys = &device.keys;
    for key in [&keys.otp, &keys.request, &keys.answer, &keys.channel] {
        let base64 = Base64UrlUnpadded::encode_string(key.expose());
        assert!(!contains_bytes(&sealed_keys, key.expose()), "a token key is stored in clear");
        assert!(!contains_bytes(&sealed_keys, base64.as_bytes()), "a token key in base64");
    }

    // In the logs: none of them, in any form they travel in.
    let log = captured.text();
    assert!(log.contains("pushotp_server"), "the capture saw the server's log:\n{log}");
    let answer = serde_json::to_value(&approval).unwrap();
    let mut secrets = vec![
        ("password", "alice-pw".to_owned()),
        ("activation link", link.clone()),
        ("activation secret", link.split("secret=").nth(1).unwrap()[..20].to_owned()),
    ];
    for field in ["deviceTag", "answerTag"] {
        let value = answer[field].as_str().unwrap_or_else(|| panic!("{field} in {answer}"));
        secrets.push((field, value.to_owned()));
    }
    for key in [&keys.otp, &keys.request, &keys.answer, &keys.channel] {
        secrets.push(("a token key", Base64UrlUnpadded::encode_string(key.expose())));
    }
    for (what, secret) in secrets {
        assert!(!secret.is_empty());
        assert!(!log.contains(&secret), "the {what} is in the log:\n{log}");
    }
    // A passcode is a number: looked for as a whole number, so that the digits of a duration
    // or an id cannot match it by chance.
    let numbers: Vec<&str> = log.split(|c: char| !c.is_ascii_digit()).collect();
    assert!(!numbers.contains(&code.as_str()), "the typed passcode is in the log:\n{log}");
    let sent = answer["passcode"].as_str().unwrap();
    assert!(!numbers.contains(&sent), "the answer's passcode is in the log:\n{log}");
    server.stop().await;
}
