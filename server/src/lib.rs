//! PushOTP's reference authentication server.
//!
//! It enrolls push tokens on devices (`docs/protocol.md` §3), sends push login requests to them
//! over a WebSocket, a poll endpoint and Web Push (§4, §7), checks their answers (§5), and hosts
//! a demo protected app whose organization login page offers "Use my mobile to autosend a
//! password". [`app`] builds the whole HTTP service from an [`AppState`], so tests can drive it
//! without a socket; `main.rs` only parses the command line and serves.

pub mod audit;
pub mod db;
pub mod device;
pub mod device_auth;
pub mod enrollment;
pub mod error;
pub mod extract;
pub mod geo;
pub mod hub;
pub mod login;
pub mod push;
pub mod seal;
pub mod signin;
pub mod states;
pub mod store;
pub mod tokens;
pub mod users;
pub mod webpush;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;

pub use db::Db;
pub use geo::Geo;
pub use hub::Hub;
pub use seal::ServerKey;

/// Settings an administrator chooses (see `pushotp-server serve --help`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The base URL browsers and devices use to reach this server, without a trailing slash.
    pub public_url: String,
    /// The organization's name, shown on enrolled tokens.
    pub org_name: String,
    /// The protected app's name, shown in push requests.
    pub app_name: String,
    /// The reverse proxy whose `X-Forwarded-For` header is believed.
    pub trusted_proxy: Option<IpAddr>,
    /// How long a push login request can be answered, in seconds.
    pub request_ttl: u64,
    /// How long an activation link can be redeemed, in seconds.
    pub activation_ttl: u64,
    /// Most pending push requests per person at once (no push bombing).
    pub max_pending_per_user: i64,
    /// Seconds after a denied or reported request before the next push to that person.
    pub deny_cooldown: u64,
    /// Failed answers (wrong number, wrong PIN) in a row before a token locks.
    pub max_tries: i64,
    /// Whether push requests carry number matching.
    pub number_matching: bool,
    /// Whether new tokens are PIN-protected.
    pub require_pin: bool,
    /// Whether a reported request locks the token.
    pub lock_on_report: bool,
    /// How push services can reach the operator (RFC 8292 §2.1 `sub`): a `mailto:` or
    /// `https://` URI. Defaults to the public URL when that is https.
    pub contact: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            org_name: "Demo Org".into(),
            app_name: "Demo Portal".into(),
            trusted_proxy: None,
            request_ttl: 120,
            activation_ttl: 24 * 3600,
            max_pending_per_user: 3,
            deny_cooldown: 60,
            max_tries: 5,
            number_matching: true,
            require_pin: false,
            lock_on_report: false,
            contact: None,
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The key that seals secrets at rest.
    pub key: ServerKey,
    /// The GeoIP database, if any.
    pub geo: Arc<Geo>,
    /// Settings.
    pub config: Arc<Config>,
    /// Live connections: device sockets and login pages waiting for an outcome.
    pub hub: Hub,
    /// The Web Push sender, with the server's VAPID identity.
    pub webpush: webpush::WebPush,
}

impl Config {
    /// Refuses settings the protocol or the server cannot honour, at start-up rather than at
    /// the first enrollment or login.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=i64::from(pushotp::push::MAX_TRIES_LIMIT)).contains(&self.max_tries),
            "max tries must be 1 to {}",
            pushotp::push::MAX_TRIES_LIMIT
        );
        anyhow::ensure!(self.max_pending_per_user >= 1, "max pending must be at least 1");
        anyhow::ensure!(
            (1..=3600).contains(&self.request_ttl),
            "the request TTL must be 1 to 3600 s"
        );
        anyhow::ensure!(self.activation_ttl >= 60, "activation links must live at least 60 s");
        for (name, text) in [("org", &self.org_name), ("app", &self.app_name)] {
            anyhow::ensure!(
                !text.is_empty() && text.len() <= 256 && !text.chars().any(char::is_control),
                "the {name} name must be 1 to 256 characters without control characters"
            );
        }
        Ok(())
    }
}

impl AppState {
    /// A state over an open database; loads (or makes and stores) the VAPID key.
    pub async fn new(db: Db, key: ServerKey, geo: Geo, config: Config) -> anyhow::Result<Self> {
        config.check()?;
        let vapid = load_vapid_key(&db, &key).await?;
        let contact = config.contact.clone().unwrap_or_else(|| {
            if config.public_url.starts_with("https://") {
                config.public_url.clone()
            } else {
                "mailto:postmaster@localhost".into()
            }
        });
        let webpush = webpush::WebPush::new(vapid, contact)?;
        let hub = match &db.postgres_url {
            Some(url) => Hub::shared(db.pool.clone(), url).await?,
            None => Hub::default(),
        };
        Ok(Self { db, key, geo: Arc::new(geo), config: Arc::new(config), hub, webpush })
    }
}

/// The server's VAPID key (RFC 8292), sealed in `server_settings`; made on first start so that
/// subscriptions stay valid across restarts.
async fn load_vapid_key(db: &Db, key: &ServerKey) -> anyhow::Result<webpush::VapidKey> {
    const NAME: &str = "vapid_key";
    const CONTEXT: &str = "server_settings/vapid_key";
    if let Some(sealed) = store::settings::get(db, NAME).await? {
        return Ok(webpush::VapidKey::from_bytes(&key.open(CONTEXT, &sealed)?)?);
    }
    let vapid = webpush::VapidKey::generate();
    let sealed = key.seal(CONTEXT, vapid.to_bytes().as_slice())?;
    // Two nodes starting at once: the first key stored wins, the other node reads it back.
    store::settings::insert_if_absent(db, NAME, &sealed).await?;
    let sealed = store::settings::get(db, NAME).await?.context("the VAPID key is gone")?;
    Ok(webpush::VapidKey::from_bytes(&key.open(CONTEXT, &sealed)?)?)
}

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(login::routes())
        .merge(device::routes())
        .layer(axum::extract::DefaultBodyLimit::max(device::MAX_BODY))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The listener to serve on: every accepted connection gets `TCP_NODELAY`.
///
/// Without it, a small write that follows another one (an event stream's first event after its
/// headers, a push request after a frame) waits for the peer's delayed acknowledgement, about
/// 40 ms on Linux, because of Nagle's algorithm; every message here is small and should leave at
/// once.
pub fn listener(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "setting TCP_NODELAY");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// Raises this process's soft limit of open files to its hard limit and returns the new soft
/// limit. Each device's WebSocket is an open file, and the usual soft limit (1,024) would stop
/// a server at about a thousand devices.
pub fn raise_open_file_limit() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((_, hard)) => rlimit::increase_nofile_limit(hard).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Whole Unix seconds now. The only clock the server reads; the core takes time as a parameter.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A time or a duration in whole seconds as the database stores it (`BIGINT`).
pub(crate) fn secs(seconds: u64) -> anyhow::Result<i64> {
    Ok(i64::try_from(seconds)?)
}

/// `n` random bytes as unpadded base64url, for ids and nonces.
pub fn random_id(prefix: &str, n: usize) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    format!("{prefix}{}", Base64UrlUnpadded::encode_string(&bytes))
}
