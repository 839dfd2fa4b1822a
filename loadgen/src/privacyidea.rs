//! The same complete login against privacyIDEA 3.14 in poll-only mode (as
//! `scripts/privacyidea.sh` installs and configures it for the end-to-end tests): the login
//! page triggers the challenge (`POST /validate/check`), the device polls for it
//! (`GET /ttype/push`, signed) and answers (`POST /ttype/push`, signed), the page sees the
//! outcome (`GET /validate/polltransaction`) and finalizes (`POST /validate/check` with the
//! transaction id).
//!
//! To measure the server rather than poll intervals, the device polls once right after the
//! trigger returns (as if woken by a push) and the page asks for the outcome once right after
//! the answer: the most favourable timing privacyIDEA's poll-only mode can have.
//!
//! Device keys are RSA-2048 (privacyIDEA's own app makes RSA-4096 keys; 2048 bits keep the
//! generator's signing cheap, and privacyIDEA accepts them). The server's keys are its own
//! RSA-4096 ones, and every challenge's signature is verified as the app verifies it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use base64ct::{Base64, Encoding};
use pushotp::privacyidea::{
    Challenge, EnrollLink, NO_FIREBASE_TOKEN, Reply, poll_message, server_key_spki,
    signature_from_base32, signature_to_base32,
};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Mutex;

/// The PIN of every benchmark token (privacyIDEA's first factor in this flow).
const PIN: &str = "1234";

/// A privacyIDEA server started with `scripts/privacyidea.sh start`.
pub(crate) struct Started {
    /// Its base URL.
    pub(crate) url: String,
    /// Its process id (for memory and CPU readings).
    pub(crate) pid: u32,
    script: PathBuf,
    data: tempfile::TempDir,
}

impl Started {
    /// Stops it (by the process id the script recorded) and removes its data.
    pub(crate) async fn stop(self) {
        let _ = tokio::process::Command::new(&self.script)
            .arg("stop")
            .arg(self.data.path())
            .status()
            .await;
    }
}

/// Starts a fresh privacyIDEA (installing it into `.cache/` on first use, which needs PyPI).
pub(crate) async fn start(script: &Path) -> anyhow::Result<Started> {
    let data = tempfile::Builder::new().prefix("pushotp-loadgen-pi-").tempdir()?;
    let output = tokio::process::Command::new(script)
        .arg("start")
        .arg(data.path())
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(output.status.success(), "{} start failed", script.display());
    let stdout = String::from_utf8(output.stdout)?;
    let last = stdout.lines().last().context("no output from the start script")?;
    let (url, pid) = last.split_once(' ').context("expected `URL PID`")?;
    Ok(Started { url: url.to_owned(), pid: pid.trim().parse()?, script: script.to_owned(), data })
}

/// An enrolled privacyIDEA push token on a device.
pub(crate) struct Device {
    serial: String,
    key: SigningKey<Sha256>,
    server_key: VerifyingKey<Sha256>,
}

fn sign(key: &SigningKey<Sha256>, message: &str) -> String {
    signature_to_base32(&key.sign(message.as_bytes()).to_bytes())
}

async fn json(reply: reqwest::Response) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let status = reply.status();
    Ok((status, reply.json().await?))
}

/// The admin's token (`POST /auth`).
pub(crate) async fn admin_token(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let (_, body) = json(
        http.post(format!("{url}/auth"))
            .form(&[("username", "admin"), ("password", "admin-pass")])
            .send()
            .await?,
    )
    .await?;
    Ok(body["result"]["value"]["token"].as_str().context("no admin token")?.to_owned())
}

/// Enrollment: step 1 by the admin (`POST /token/init` for alice), step 2 by the device
/// (`POST /ttype/push` with its public key).
pub(crate) async fn enroll(
    http: &reqwest::Client,
    url: &str,
    jwt: &str,
    key: RsaPrivateKey,
) -> anyhow::Result<Device> {
    let (status, body) = json(
        http.post(format!("{url}/token/init"))
            .header("Authorization", jwt)
            .form(&[
                ("type", "push"),
                ("genkey", "1"),
                ("user", "alice"),
                ("realm", "realm1"),
                ("pin", PIN),
            ])
            .send()
            .await?,
    )
    .await?;
    ensure!(status.is_success(), "token/init: {body}");
    let link: EnrollLink =
        body["detail"]["pushurl"]["value"].as_str().context("no enrollment link")?.parse()?;
    let spki = RsaPublicKey::from(&key).to_public_key_der()?;
    let (status, body) = json(
        http.post(&link.url)
            .form(&[
                ("enrollment_credential", link.enrollment_credential.as_str()),
                ("serial", link.serial.as_str()),
                ("fbtoken", NO_FIREBASE_TOKEN),
                ("pubkey", &Base64::encode_string(spki.as_bytes())),
            ])
            .send()
            .await?,
    )
    .await?;
    ensure!(status.is_success(), "enrollment step 2: {body}");
    let server_spki =
        server_key_spki(body["detail"]["public_key"].as_str().context("no server key")?)?;
    let server_key = VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_der(&server_spki)?);
    Ok(Device { serial: link.serial, key: SigningKey::<Sha256>::new(key), server_key })
}

/// Makes `count` RSA-2048 device keys on the blocking pool.
pub(crate) async fn device_keys(count: usize) -> anyhow::Result<Vec<RsaPrivateKey>> {
    let mut tasks = Vec::new();
    for _ in 0..count {
        tasks.push(tokio::task::spawn_blocking(|| RsaPrivateKey::new(&mut rand::rng(), 2048)));
    }
    let mut keys = Vec::new();
    for task in tasks {
        keys.push(task.await??);
    }
    Ok(keys)
}

/// Devices lent to logins one at a time, so that a device never holds two open challenges
/// (an answer signs `nonce|serial`, and the generator must answer its own login's challenge).
pub(crate) struct Pool {
    free: Mutex<tokio::sync::mpsc::UnboundedReceiver<usize>>,
    back: tokio::sync::mpsc::UnboundedSender<usize>,
    devices: Vec<Device>,
}

impl Pool {
    /// A pool of enrolled devices.
    pub(crate) fn new(devices: Vec<Device>) -> Arc<Self> {
        let (back, free) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..devices.len() {
            let _ = back.send(i);
        }
        Arc::new(Self { free: Mutex::new(free), back, devices })
    }
}

fn iso_now() -> anyhow::Result<String> {
    Ok(time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?)
}

/// One timed login: trigger, the device's poll and answer, the page's poll and finalize. The
/// time waiting for a free device counts as latency too.
pub(crate) async fn login(
    http: reqwest::Client,
    url: Arc<str>,
    pool: Arc<Pool>,
) -> anyhow::Result<()> {
    let index = pool.free.lock().await.recv().await.context("pool closed")?;
    let result = login_with(&http, &url, pool.devices.get(index).context("no device")?).await;
    let _ = pool.back.send(index);
    result
}

async fn login_with(http: &reqwest::Client, url: &str, device: &Device) -> anyhow::Result<()> {
    let serial = device.serial.as_str();
    // The login page: the first factor (the token PIN) triggers the push challenge.
    let (_, body) = json(
        http.post(format!("{url}/validate/check"))
            .form(&[("serial", serial), ("pass", PIN)])
            .send()
            .await?,
    )
    .await?;
    ensure!(body["result"]["authentication"] == "CHALLENGE", "trigger: {body}");
    let transaction = body["detail"]["transaction_id"].as_str().context("no transaction")?;

    // The device polls, checks the server's signature, and accepts.
    let timestamp = iso_now()?;
    let signature = sign(&device.key, &poll_message(serial, &timestamp));
    let (status, body) = json(
        http.get(format!("{url}/ttype/push"))
            .query(&[("serial", serial), ("timestamp", &timestamp), ("signature", &signature)])
            .send()
            .await?,
    )
    .await?;
    ensure!(status.is_success(), "poll: {body}");
    let challenges = body["result"]["value"].as_array().context("no challenge list")?;
    let [found] = challenges.as_slice() else {
        bail!("expected one open challenge, found {}", challenges.len());
    };
    let text = |name: &str| found[name].as_str().unwrap_or_default();
    let challenge = Challenge {
        nonce: text("nonce"),
        url: text("url"),
        serial: text("serial"),
        question: text("question"),
        title: text("title"),
        sslverify: text("sslverify"),
        require_presence: found["require_presence"].as_str(),
    };
    let signed = Signature::try_from(signature_from_base32(text("signature"))?.as_slice())?;
    device.server_key.verify(challenge.message().as_bytes(), &signed)?;
    let answer = sign(&device.key, &Reply::Accept.message(challenge.nonce, serial));
    let (_, body) = json(
        http.post(challenge.url)
            .form(&[("serial", serial), ("nonce", challenge.nonce), ("signature", &answer)])
            .send()
            .await?,
    )
    .await?;
    ensure!(body["result"]["value"] == true, "answer refused: {body}");

    // The login page sees the outcome and finalizes.
    let (_, body) = json(
        http.get(format!("{url}/validate/polltransaction"))
            .query(&[("transaction_id", transaction)])
            .send()
            .await?,
    )
    .await?;
    ensure!(body["detail"]["challenge_status"] == "accept", "outcome: {body}");
    let (_, body) = json(
        http.post(format!("{url}/validate/check"))
            .form(&[("serial", serial), ("pass", ""), ("transaction_id", transaction)])
            .send()
            .await?,
    )
    .await?;
    ensure!(body["result"]["authentication"] == "ACCEPT", "finalize: {body}");
    Ok(())
}
