//! The server's single-use and expiry guards, each on SQLite and on PostgreSQL, and the races
//! they exist for: an activation link's expiry, a passcode's reuse refusal (one statement, so
//! that of two uses racing one wins), number matching, and the single claim of a request.
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

use pushotp::push::{ActivationLink, EnrollRequest};
use pushotp_server::enrollment::{self, EnrollError};
use pushotp_server::{Config, ServerKey};
use support::{Device, Server, now};

/// Runs `check` as two tests, `$check::on_sqlite` and `$check::on_postgresql`, on a
/// multi-threaded runtime so that racing requests really run at once.
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                let (_dir, database) = crate::support::sqlite_database();
                super::$check(&database).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
            async fn on_postgresql() {
                super::$check(&crate::support::postgres_database().await).await;
            }
        }
    )+};
}

on_both_backends!(an_expired_activation_link_enrolls_nothing,);

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
