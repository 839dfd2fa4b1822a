//! The PushOTP side: devices that enroll over `/api/v1/enroll`, hold the WebSocket at
//! `/api/v1/devices/ws` and answer with the number the login page shows; and login pages that
//! start a push with `/auth/push` and follow `/auth/events` until the login is approved.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use base64ct::{Base64UrlUnpadded, Encoding};
use futures_util::{SinkExt, StreamExt, stream};
use pushotp::Hotp;
use pushotp::push::{
    ActivationLink, Answer, EnrollRequest, Enrolled, PushRequest, TokenKeys, channel_auth_tag,
};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The one password of every load-test person (each login still checks it with Argon2id).
const PASSWORD: &str = "loadgen-password-1";

/// How the generator reaches the server.
#[derive(Clone)]
pub(crate) struct Target {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// The listening address, for raw WebSocket connections.
    pub(crate) addr: SocketAddr,
    /// Local addresses to connect from (127.0.0.x), so that many connections never run out
    /// of ephemeral ports on one address pair.
    pub(crate) sources: Vec<Ipv4Addr>,
}

/// A server the generator started, with its own temporary SQLite database.
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) database: String,
    pub(crate) key_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts `bin` on a free loopback port over a new SQLite database; returns it once it answers.
pub(crate) async fn spawn_server(
    bin: &Path,
    log_filter: &str,
    extra: &[String],
) -> anyhow::Result<(Spawned, String)> {
    let dir = tempfile::Builder::new().prefix("pushotp-loadgen-").tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("bench.db").display());
    let key_file = dir.path().join("bench.db.key");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let child = Command::new(bin)
        .args(["--database", &database, "--key-file"])
        .arg(&key_file)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--public-url", &url])
        .args(extra)
        .env("RUST_LOG", log_filter)
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let spawned = Spawned { child, database, key_file, _dir: dir };
    wait_ready(&url).await?;
    Ok((spawned, url))
}

/// Waits (at most 30 s) until the server answers.
pub(crate) async fn wait_ready(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(reply) = http.get(format!("{url}/api/v1/webpush/key")).send().await
            && reply.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server at {url} did not answer within 30 s")
}

/// The administrator's part, done as `pushotp-server user add` and `token enroll` do it (on
/// the database, with the server key): `count` people `lg00000…` and an activation link each.
///
/// Only the first person's password is hashed here; the others get a copy of that Argon2id
/// PHC string (same password, same salt), because hashing 10,000 passwords would take minutes
/// and is not what is measured. Every login still verifies a full Argon2id hash.
pub(crate) async fn provision(
    database: &str,
    key_file: &Path,
    public_url: &str,
    count: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    use pushotp_server::{AppState, Config, Db, Geo, ServerKey, users};
    use sqlx::Row;
    let db = Db::connect(database).await?;
    let key = ServerKey::load_or_create(key_file)?;
    let state = AppState::new(
        db,
        key,
        Geo::none(),
        Config { public_url: public_url.into(), ..Config::default() },
    )
    .await?;
    let first = users::add(&state.db, "lg00000", PASSWORD).await?;
    let mut tx = state.db.writer.begin().await?;
    let mut ids = vec![(first.id, "lg00000".to_owned())];
    for i in 1..count {
        let name = format!("lg{i:05}");
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, created_at) \
             SELECT $1, password_hash, created_at FROM users WHERE id = $2 RETURNING id",
        )
        .bind(&name)
        .bind(first.id)
        .fetch_one(&mut *tx)
        .await?;
        ids.push((row.try_get("id")?, name));
    }
    tx.commit().await?;
    let links: Vec<anyhow::Result<(String, String)>> = stream::iter(ids)
        .map(|(id, name)| {
            let state = state.clone();
            async move {
                let link =
                    pushotp_server::enrollment::new_enrollment(&state, id, "Load test").await?;
                Ok((name, link))
            }
        })
        .buffered(8)
        .collect()
        .await;
    state.db.pool.close().await;
    links.into_iter().collect()
}

/// An enrolled device, before it connects.
pub(crate) struct Enrollment {
    token_id: String,
    keys: TokenKeys,
    hotp: Hotp,
}

/// Redeems an activation link over `POST /api/v1/enroll`.
pub(crate) async fn enroll(http: &reqwest::Client, link: &str) -> anyhow::Result<Enrollment> {
    let link: ActivationLink = link.parse()?;
    let mut nonce = [0u8; 16];
    rand::fill(&mut nonce);
    let request = EnrollRequest::new(&link, "Load generator", nonce)?;
    let reply = http.post(format!("{}/api/v1/enroll", link.server())).json(&request).send().await?;
    ensure!(reply.status().is_success(), "enrollment refused: {}", reply.text().await?);
    let enrolled: Enrolled = reply.json().await?;
    let keys = enrolled.verify(link.secret(), &request)?;
    let hotp = Hotp::new(enrolled.otp.algorithm(), enrolled.otp.digits())?;
    Ok(Enrollment { token_id: enrolled.token_id, keys, hotp })
}

/// A device's socket with small buffers: the generator holds thousands of them.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Connects a device's WebSocket from `source` and logs in (§7): challenge, auth, ready.
pub(crate) async fn connect(
    target: &Target,
    source: Ipv4Addr,
    device: &Enrollment,
) -> anyhow::Result<WebSocketStream<TcpStream>> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(target.addr).await?;
    let url = format!("{}/api/v1/devices/ws", target.url.replacen("http", "ws", 1));
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(socket_config())).await?;
    let challenge = next_json(&mut ws).await?;
    ensure!(challenge["type"] == "challenge", "expected a challenge, got {challenge}");
    let nonce: [u8; 16] = Base64UrlUnpadded::decode_vec(challenge["nonce"].as_str().unwrap_or(""))
        .ok()
        .and_then(|n| n.try_into().ok())
        .context("a 16-byte challenge")?;
    let tag = channel_auth_tag(&device.keys.channel, &device.token_id, &nonce);
    let auth = json!({ "type": "auth", "tokens": [{ "tokenId": device.token_id, "tag": Base64UrlUnpadded::encode_string(&tag) }] });
    ws.send(Message::text(auth.to_string())).await?;
    let ready = next_json(&mut ws).await?;
    ensure!(ready["type"] == "ready", "expected ready, got {ready}");
    Ok(ws)
}

async fn next_json(ws: &mut WebSocketStream<TcpStream>) -> anyhow::Result<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no message within 30 s")?
            .context("socket closed")??;
        match message {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Close(_) => bail!("socket closed"),
            _ => {}
        }
    }
}

/// Counts of what the devices did, for the report.
#[derive(Default)]
pub(crate) struct DeviceStats {
    pub(crate) refused: std::sync::atomic::AtomicU64,
}

/// Runs a connected device until its socket closes or `numbers` ends: each push request is
/// verified as the extension verifies it, and approved with the next HOTP passcode and the
/// number the login page showed (which the page's side sends on `numbers`).
pub(crate) async fn run_device(
    mut ws: WebSocketStream<TcpStream>,
    mut device: Enrollment,
    mut numbers: mpsc::UnboundedReceiver<u8>,
    http: reqwest::Client,
    server: String,
    stats: Arc<DeviceStats>,
) {
    let mut counter = 0u64;
    let mut request: Option<PushRequest> = None;
    let mut number: Option<u8> = None;
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
                    if value["type"] != "push" {
                        continue;
                    }
                    match serde_json::from_value::<PushRequest>(value["request"].clone()) {
                        Ok(push) if push.verify(&device.keys.request, pushotp_server::now()).is_ok() => {
                            request = Some(push);
                        }
                        _ => {
                            stats.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            picked = numbers.recv() => match picked {
                Some(n) => number = Some(n),
                None => return,
            },
        }
        if let (Some(push), Some(n)) = (request.as_ref(), number) {
            let passcode = device.hotp.generate(&device.keys.otp, counter);
            counter += 1;
            let answer = Answer::approve(
                push,
                Some(n),
                &passcode,
                None,
                pushotp_server::now(),
                &device.keys.channel,
                &device.keys.answer,
            );
            request = None;
            number = None;
            let Ok(answer) = answer else {
                stats.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            };
            let (http, url, stats) =
                (http.clone(), format!("{server}/api/v1/answers"), stats.clone());
            tokio::spawn(async move {
                let sent = http.post(url).json(&answer).send().await;
                if !sent.is_ok_and(|r| r.status().is_success()) {
                    stats.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        // A device keeps nothing else between requests.
        device.token_id.shrink_to_fit();
    }
}

/// A login after its password step: the browser's login cookie and whose device answers.
#[derive(Clone)]
pub(crate) struct Prepared {
    cookie: String,
    person: usize,
}

impl Prepared {
    /// Whose login it is (the index of their device).
    pub(crate) fn person(&self) -> usize {
        self.person
    }
}

/// The password step of `person` (Argon2id on the server; not part of what is timed).
pub(crate) async fn password_step(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    person: usize,
) -> anyhow::Result<Prepared> {
    let reply = http
        .post(format!("{url}/app/login"))
        .form(&[("username", username), ("password", PASSWORD)])
        .send()
        .await?;
    ensure!(reply.status().is_redirection(), "password step: {}", reply.status());
    let cookie = reply
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pushotp_login="))
        .and_then(|v| v.split(';').next())
        .context("no login cookie")?
        .to_owned();
    Ok(Prepared { cookie, person })
}

/// One timed login: "Use my mobile" (`POST /auth/push`), the number shown to the person (who
/// gives it to the device), and the page's event stream until it says approved.
pub(crate) async fn login(
    http: reqwest::Client,
    url: Arc<str>,
    prepared: Prepared,
    device: mpsc::UnboundedSender<u8>,
) -> anyhow::Result<()> {
    let reply =
        http.post(format!("{url}/auth/push")).header(COOKIE, &prepared.cookie).send().await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(status.is_success(), "push refused ({status}): {body}");
    let number = body["number"].as_u64().and_then(|n| u8::try_from(n).ok()).context("no number")?;
    device.send(number).map_err(|_| anyhow::anyhow!("device {} is gone", prepared.person))?;
    let reply =
        http.get(format!("{url}/auth/events")).header(COOKIE, &prepared.cookie).send().await?;
    ensure!(reply.status().is_success(), "event stream: {}", reply.status());
    let mut events = reply.bytes_stream();
    let mut buffer = String::new();
    while let Some(chunk) = events.next().await {
        buffer.push_str(std::str::from_utf8(&chunk?)?);
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let value: Value = serde_json::from_str(data)?;
            match value["state"].as_str() {
                Some("approved") => return Ok(()),
                Some("waiting" | "password_ok") => {}
                _ => bail!("login ended as {value}"),
            }
        }
    }
    bail!("the event stream ended before the outcome")
}
