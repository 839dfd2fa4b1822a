//! A real server on 127.0.0.1, a device written on the core crate, and a browser that signs in.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use futures_util::{SinkExt, StreamExt};
use pushotp::Secret;
use pushotp::push::{
    ActivationLink, Answer, EnrollRequest, Enrolled, MaskedKeys, PushEnded, PushRequest,
    RestoreRequest, Restored, TokenKeys, channel_auth_tag, poll_tag, remove_tag,
};
use pushotp_server::{AppState, Config, Db, Geo, ServerKey, app, users};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running server.
pub struct Server {
    pub url: String,
    pub state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts a server on a free loopback port over `database`.
    pub async fn start(database: &str, key: ServerKey, config: Config) -> Self {
        Self::start_with(database, key, config, Geo::none()).await
    }

    pub async fn start_with(database: &str, key: ServerKey, config: Config, geo: Geo) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let db = Db::connect(database).await.unwrap();
        let state = AppState::new(db, key, geo, Config { public_url: url.clone(), ..config })
            .await
            .unwrap();
        let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(pushotp_server::listener(listener), service).await.unwrap();
        });
        Self { url, state, task }
    }

    /// Stops serving (the database file stays).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.state.db.pool.close().await;
    }

    /// Adds a person with password `<name>-pw`.
    pub async fn user(&self, name: &str) {
        users::add(&self.state.db, name, &format!("{name}-pw")).await.unwrap();
    }

    /// A fresh activation link for `name`.
    pub async fn link(&self, name: &str) -> String {
        let user = users::find(&self.state.db, name).await.unwrap().unwrap();
        pushotp_server::enrollment::new_enrollment(&self.state, user.id, "Demo Portal")
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(&self.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
    }
}

/// A fresh SQLite file, as a server is given one, in a directory removed when it is dropped:
/// a file has a writer beside its readers, where `sqlite::memory:` has one connection for all.
pub fn sqlite_database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pushotp.db").display());
    (dir, url)
}

/// A fresh, empty database on the PostgreSQL cluster `PUSHOTP_TEST_POSTGRES` names.
///
/// The tests that call it are marked `#[ignore = "needs PUSHOTP_TEST_POSTGRES …"]` and named
/// `…on_postgresql`: a plain `cargo test` reports them ignored instead of passing without a
/// database, and `scripts/test.sh` starts a cluster and runs them with `--ignored
/// on_postgresql`. Run without the variable, or with a cluster that cannot be reached, they
/// fail: a test of the backend that never reached it has tested nothing.
pub async fn postgres_database() -> String {
    use sqlx::Executor;
    let url = std::env::var("PUSHOTP_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PUSHOTP_TEST_POSTGRES is not set: scripts/test.sh starts a cluster and sets it \
             (or start one with scripts/postgres.sh start DIR)"
        )
    });
    let admin = sqlx::PgPool::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("PUSHOTP_TEST_POSTGRES cannot be reached: {err}"));
    let name = format!(
        "pushotp_{}",
        pushotp_server::random_id("", 6).to_lowercase().replace(['-', '_'], "x")
    );
    // The name is made here of letters and digits only, so the statement is safe to build.
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    admin.close().await;
    let base = url.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Runs each `check` as two tests, `$check::on_sqlite` and `$check::on_postgresql`, on a
/// multi-threaded runtime so that racing requests really run at once.
#[macro_export]
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                let (_dir, database) = $crate::support::sqlite_database();
                super::$check(&database).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[ignore = "needs PUSHOTP_TEST_POSTGRES (scripts/test.sh starts a cluster)"]
            async fn on_postgresql() {
                super::$check(&$crate::support::postgres_database().await).await;
            }
        }
    )+};
}

/// The PIN [`alice`] protects her device with, where the server requires one.
pub const PIN: &str = "4711";

/// A server over `database` with alice enrolled on one device (its keys masked under [`PIN`]
/// where `config` requires a PIN, as the extension stores them), connected.
pub async fn alice(database: &str, config: Config) -> (Server, Device, Ws) {
    let pin = config.require_pin;
    let server = Server::start(database, ServerKey::random(), config).await;
    server.user("alice").await;
    let mut device = Device::enroll(&server.link("alice").await, "laptop").await;
    if pin {
        device.protect_with_pin(PIN);
    }
    let ws = device.connect().await;
    (server, device, ws)
}

/// Sleeps until just after the next whole second of the system clock. The server keeps times
/// in whole seconds, so a one-second wait started just after a second begins lasts most of a
/// real second; started at its end, it may be over at once.
pub async fn at_the_start_of_a_second() {
    let into =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(1_000 - into) + 20)).await;
}

pub fn now() -> u64 {
    pushotp_server::now()
}

/// A device holding one token, as the extension would. `Clone` is an export of it: the same
/// keys, as the extension's export file holds them.
#[derive(Clone)]
pub struct Device {
    pub server: String,
    pub http: reqwest::Client,
    pub token_id: String,
    pub keys: TokenKeys,
    pub enrolled: Enrolled,
    pub masked: Option<MaskedKeys>,
    /// The `answeredAt` of the last answer: each answer is later than the one before, as the
    /// server asks of a request answered again after a wrong PIN.
    pub answered_at: u64,
    /// The comparison code of its enrollment (docs/protocol.md §3), as the extension shows it.
    pub confirm_code: String,
}

impl Device {
    pub async fn enroll(link: &str, name: &str) -> Self {
        Self::try_enroll(link, name).await.expect("enrollment succeeds")
    }

    pub async fn try_enroll(link: &str, name: &str) -> Result<Self, (u16, Value)> {
        let link: ActivationLink = link.parse().unwrap();
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        let request = EnrollRequest::new(&link, name, nonce).unwrap();
        let http = reqwest::Client::new();
        let reply = http
            .post(format!("{}/api/v1/enroll", link.server()))
            .json(&request)
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap();
        if status != 200 {
            return Err((status, body));
        }
        let enrolled: Enrolled = serde_json::from_value(body).unwrap();
        let keys = enrolled.verify(link.secret(), &request).unwrap();
        let confirm_code = pushotp::push::enroll_confirm_code(
            link.secret(),
            &enrolled.token_id,
            &request.device_nonce,
            &enrolled.server_nonce,
        );
        Ok(Self {
            server: link.server().to_owned(),
            http,
            token_id: enrolled.token_id.clone(),
            keys,
            enrolled,
            masked: None,
            answered_at: 0,
            confirm_code,
        })
    }

    /// Masks the passcode and answer keys under `pin`, as the extension stores them.
    pub fn protect_with_pin(&mut self, pin: &str) {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        self.masked = Some(MaskedKeys::mask(&self.keys.otp, &self.keys.answer, pin, salt).unwrap());
    }

    pub async fn connect(&self) -> Ws {
        let (ws, ready) = self.try_connect().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        ws
    }

    /// A socket log-in and the server's first word after it (`ready`, or an error).
    pub async fn try_connect(&self) -> (Ws, Value) {
        let url = format!("{}/api/v1/devices/ws", self.server.replacen("http", "ws", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let challenge = next_json(&mut ws).await;
        assert_eq!(challenge["type"], "challenge");
        let nonce: [u8; 16] = Base64UrlUnpadded::decode_vec(challenge["nonce"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let tag = channel_auth_tag(&self.keys.channel, &self.token_id, &nonce);
        let auth = json!({ "type": "auth", "tokens": [{ "tokenId": self.token_id, "tag": Base64UrlUnpadded::encode_string(&tag) }] });
        ws.send(Message::text(auth.to_string())).await.unwrap();
        let first = next_json(&mut ws).await;
        (ws, first)
    }

    /// A restore of this copy (docs/protocol.md §8) with a fresh nonce.
    pub fn restore_request(&self) -> RestoreRequest {
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        RestoreRequest::new(&self.token_id, nonce, &self.keys.channel).unwrap()
    }

    /// Sends `request`; on success takes the new keys, as the extension does after an import.
    pub async fn restore_with(&mut self, request: &RestoreRequest) -> (u16, Value) {
        let reply = self
            .http
            .post(format!("{}/api/v1/devices/restore", self.server))
            .json(request)
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap();
        if status == 200 {
            let restored: Restored = serde_json::from_value(body.clone()).unwrap();
            let (request_key, channel_key) = restored.verify(request, &self.keys.channel).unwrap();
            self.keys.request = request_key;
            self.keys.channel = channel_key;
        }
        (status, body)
    }

    /// Restores this copy with a fresh nonce.
    pub async fn restore(&mut self) -> (u16, Value) {
        let request = self.restore_request();
        self.restore_with(&request).await
    }

    /// The next push request on the socket, verified as the extension verifies it (tag,
    /// fields, and not yet expired).
    pub async fn next_push(&self, ws: &mut Ws) -> PushRequest {
        let request = self.next_push_raw(ws).await;
        request.verify(&self.keys.request, now()).unwrap();
        request
    }

    /// The next push request, verified as of its own creation time: with a one-second
    /// lifetime counted in whole seconds, a request can expire before the socket is read,
    /// which the expiry tests want to see answered anyway.
    pub async fn next_push_late(&self, ws: &mut Ws) -> PushRequest {
        let request = self.next_push_raw(ws).await;
        request.verify(&self.keys.request, request.created_at).unwrap();
        request
    }

    async fn next_push_raw(&self, ws: &mut Ws) -> PushRequest {
        loop {
            let message = next_json(ws).await;
            if message["type"] == "push" {
                let request: PushRequest =
                    serde_json::from_value(message["request"].clone()).unwrap();
                assert_eq!(request.token_id, self.token_id);
                return request;
            }
        }
    }

    pub async fn poll(&self) -> Vec<PushRequest> {
        self.poll_all().await.0
    }

    /// A poll's pending requests and the notices of its recently ended ones, each notice
    /// checked as the extension checks it.
    pub async fn poll_all(&self) -> (Vec<PushRequest>, Vec<PushEnded>) {
        let (status, reply) = self.poll_raw().await;
        assert_eq!(status, 200, "{reply}");
        let requests = serde_json::from_value(reply["requests"].clone()).unwrap();
        let ended: Vec<PushEnded> =
            serde_json::from_value(reply.get("ended").cloned().unwrap_or_else(|| json!([])))
                .unwrap();
        for notice in &ended {
            assert_eq!(notice.token_id, self.token_id);
            notice.verify(&self.keys.request).unwrap();
        }
        (requests, ended)
    }

    /// A poll's status and body.
    pub async fn poll_raw(&self) -> (u16, Value) {
        let at = now();
        let tag = poll_tag(&self.keys.channel, &self.token_id, at);
        let body = json!({ "tokens": [{ "tokenId": self.token_id, "at": at, "tag": Base64UrlUnpadded::encode_string(&tag) }] });
        let reply = self
            .http
            .post(format!("{}/api/v1/devices/pending", self.server))
            .json(&body)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }

    /// The next notice that a request ended on the socket (skipping pushes), checked as the
    /// extension checks it; fails after `within`.
    pub async fn next_ended(&self, ws: &mut Ws, within: Duration) -> PushEnded {
        let found = tokio::time::timeout(within, async {
            loop {
                let message = next_json(ws).await;
                if message["type"] == "ended" {
                    return serde_json::from_value::<PushEnded>(message["ended"].clone()).unwrap();
                }
            }
        })
        .await
        .expect("an end notice in time");
        assert_eq!(found.token_id, self.token_id);
        found.verify(&self.keys.request).unwrap();
        found
    }

    /// An approval with the request's passcode; with a PIN token, `pin` unmasks the keys.
    pub fn approve(
        &mut self,
        request: &PushRequest,
        number: Option<u8>,
        pin: Option<&str>,
    ) -> Answer {
        let (otp, answer_key) = match (&self.masked, pin) {
            (Some(masked), Some(pin)) => masked.unmask(pin).unwrap(),
            _ => (self.keys.otp.clone(), self.keys.answer.clone()),
        };
        let passcode = self.passcode(&otp, request);
        let at = self.next_answered_at();
        Answer::approve(request, number, &passcode, None, at, &self.keys.channel, &answer_key)
            .unwrap()
    }

    /// A bound approval (docs/protocol.md §5, "Same-browser approvals"): `binding` as read from
    /// the login page, which the core takes only when the request commits to it.
    pub fn approve_bound(
        &mut self,
        request: &PushRequest,
        number: Option<u8>,
        binding: &pushotp::push::PageBinding,
    ) -> Answer {
        let passcode = self.passcode(&self.keys.otp, request);
        let at = self.next_answered_at();
        let (k_chan, k_ans) = (&self.keys.channel, &self.keys.answer);
        Answer::approve(request, number, &passcode, Some(binding), at, k_chan, k_ans).unwrap()
    }

    /// Now, or a second after the last answer if that was this second or later.
    pub fn next_answered_at(&mut self) -> u64 {
        self.answered_at = now().max(self.answered_at + 1);
        self.answered_at
    }

    /// Approves and sends at once.
    pub async fn approve_send(
        &mut self,
        request: &PushRequest,
        number: Option<u8>,
        pin: Option<&str>,
    ) -> (u16, Value) {
        let answer = self.approve(request, number, pin);
        self.send(&answer).await
    }

    /// The approval passcode of `request` under `otp` (docs/protocol.md §5: OCRA over the
    /// request id).
    pub fn passcode(&self, otp: &Secret, request: &PushRequest) -> String {
        self.enrolled.otp.passcode(otp, &request.id).unwrap()
    }

    pub fn deny(&self, request: &PushRequest) -> Answer {
        Answer::deny(request, now(), &self.keys.channel)
    }

    pub fn report(&self, request: &PushRequest) -> Answer {
        Answer::report(request, now(), &self.keys.channel)
    }

    pub async fn send(&self, answer: &Answer) -> (u16, Value) {
        let reply = self
            .http
            .post(format!("{}/api/v1/answers", self.server))
            .json(answer)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }

    /// Registers a Web Push subscription for this token (§7).
    pub async fn register_webpush(&self, endpoint: &str, p256dh: &str, auth: &str) -> (u16, Value) {
        let at = now();
        let subscription = pushotp::push::WebPushSubscription {
            endpoint: endpoint.to_owned(),
            keys: pushotp::push::WebPushKeys { p256dh: p256dh.to_owned(), auth: auth.to_owned() },
        };
        let tag = pushotp::push::webpush_tag(&self.keys.channel, &self.token_id, at, &subscription);
        let body = json!({ "tokenId": self.token_id, "at": at, "subscription": subscription, "tag": Base64UrlUnpadded::encode_string(&tag) });
        let reply = self
            .http
            .post(format!("{}/api/v1/devices/webpush", self.server))
            .json(&body)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }

    pub async fn remove(&self) -> (u16, Value) {
        let at = now();
        let tag = remove_tag(&self.keys.channel, &self.token_id, at);
        let body = json!({ "tokenId": self.token_id, "at": at, "tag": Base64UrlUnpadded::encode_string(&tag) });
        let reply = self
            .http
            .post(format!("{}/api/v1/devices/remove", self.server))
            .json(&body)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }
}

/// Asserts that nothing is waiting on the socket: a ping's pong is the next message.
pub async fn quiet(ws: &mut Ws) {
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    let next = next_json(ws).await;
    assert_eq!(next["type"], "pong", "{next}");
}

pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s");
        match message.expect("socket open").expect("no socket error") {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(_) => panic!("socket closed"),
            _ => {}
        }
    }
}

/// A person at the login page, with a cookie jar.
pub struct Browser {
    pub server: String,
    pub http: reqwest::Client,
}

impl Browser {
    pub fn new(server: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { server: server.to_owned(), http }
    }

    /// Username and password at the demo app: on to the organization's login page.
    pub async fn sign_in(&self, user: &str) {
        self.sign_in_with(user, &format!("{user}-pw"), &[]).await;
    }

    pub async fn sign_in_with(&self, user: &str, password: &str, headers: &[(&str, &str)]) -> u16 {
        let mut request = self
            .http
            .post(format!("{}/app/login", self.server))
            .form(&[("username", user), ("password", password)]);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let reply = request.send().await.unwrap();
        reply.status().as_u16()
    }

    /// Loads the login page, as a browser does, and returns the binding of this load from its
    /// `pushotp-binding` meta element.
    pub async fn page_binding(&self) -> pushotp::push::PageBinding {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let html = self
            .http
            .get(format!("{}/auth", self.server))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let tag = r#"<meta name="pushotp-binding" content=""#;
        let start = html.find(tag).expect("a binding on the login page") + tag.len();
        let value = &html[start..start + html[start..].find('"').unwrap()];
        Base64UrlUnpadded::decode_vec(value).unwrap().try_into().unwrap()
    }

    /// "Use my mobile to autosend a password": the status and the body (with the number).
    pub async fn push(&self) -> (u16, Value) {
        let reply = self.http.post(format!("{}/auth/push", self.server)).send().await.unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }

    /// Reads the login's event stream until it reports something other than waiting.
    pub async fn outcome(&self) -> Value {
        let reply = self.http.get(format!("{}/auth/events", self.server)).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        let mut stream = reply.bytes_stream();
        let mut buffer = String::new();
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("an event within 10 s");
            buffer.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let value: Value = serde_json::from_str(data).unwrap();
                    if value["state"] != "waiting" && value["state"] != "password_ok" {
                        return value;
                    }
                }
            }
        }
    }

    /// After "approved": the session, then the app page.
    pub async fn complete(&self) -> String {
        let reply = self.http.post(format!("{}/auth/complete", self.server)).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        self.http.get(format!("{}/app", self.server)).send().await.unwrap().text().await.unwrap()
    }

    pub async fn passcode(&self, code: &str) -> u16 {
        let reply = self
            .http
            .post(format!("{}/auth/passcode", self.server))
            .form(&[("passcode", code)])
            .send()
            .await
            .unwrap();
        reply.status().as_u16()
    }
}

/// The second factor as the extension gives it: pushes the login of `browser`, approves the
/// newest pending request of `device` (with `pin` for a PIN token), and returns the sign-in code
/// of the approval's reply, which the extension fills into the login page.
pub async fn sign_in_code(browser: &Browser, device: &mut Device, pin: Option<&str>) -> String {
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = body["number"].as_u64().map(|n| u8::try_from(n).unwrap());
    let request = device.poll().await.into_iter().max_by_key(|r| r.created_at).unwrap();
    let (status, reply) = device.approve_send(&request, number, pin).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    reply["loginCode"].as_str().unwrap().to_owned()
}

pub fn geoip_test_db() -> Geo {
    Geo::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/geoip/GeoIP2-City-Test.mmdb"))
        .unwrap()
}

/// A push service on 127.0.0.1 standing in for FCM: it keeps what it is sent and answers with
/// the status it is told to.
pub struct PushService {
    pub endpoint: String,
    pub received: tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, Vec<u8>)>,
}

pub async fn push_service(status: u16) -> PushService {
    use axum::routing::post;
    let (tx, received) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/push/{id}",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                tx.send((headers, body.to_vec())).unwrap();
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/push/device-1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    PushService { endpoint, received }
}

/// The browser's side of a subscription: its ECDH key pair and auth secret (RFC 8291 §3.2).
pub fn browser_keys() -> (p256::SecretKey, [u8; 16], String, String) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let secret = p256::SecretKey::random(&mut rand_core_06::OsRng);
    let mut auth = [0u8; 16];
    rand::fill(&mut auth);
    let public = Base64UrlUnpadded::encode_string(
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false)
            .as_bytes(),
    );
    (secret, auth, public, Base64UrlUnpadded::encode_string(&auth))
}

/// `logins` sign-ins of `user`, each in a browser of its own, whose pages all press "Use my
/// mobile" at the same moment: the push limit (`cap` per person) must let exactly `cap` of
/// them through, refuse the others with `429` `too_many_requests`, and store the requests of
/// the accepted ones only (one per push: `user` has one token). Run it on a multi-threaded
/// runtime, so that the pushes are handled in parallel.
pub async fn assert_the_push_limit_holds_at_once(
    server: &Server,
    user: &str,
    logins: usize,
    cap: usize,
) {
    let mut browsers = Vec::new();
    for _ in 0..logins {
        let browser = Browser::new(&server.url);
        assert_eq!(browser.sign_in_with(user, &format!("{user}-pw"), &[]).await, 303);
        browsers.push(browser);
    }
    let replies = futures_util::future::join_all(browsers.iter().map(Browser::push)).await;
    let accepted = replies.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(accepted, cap, "{replies:?}");
    for (status, body) in replies.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, body["error"].as_str()), (429, Some("too_many_requests")), "{body}");
    }
    let stored = server.count("SELECT COUNT(*) FROM push_requests").await;
    assert_eq!(stored, i64::try_from(cap).unwrap());
}

/// An answer of the sign-in pages as a test reads it: its status, its `Retry-After` (RFC 9110
/// §10.2.3) in seconds, and its page.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: String,
}

impl Reply {
    pub async fn read(reply: reqwest::Response) -> Self {
        let status = reply.status().as_u16();
        let retry_after = reply
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().expect("Retry-After in seconds"));
        Self { status, retry_after, body: reply.text().await.unwrap() }
    }
}
