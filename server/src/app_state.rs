//! What every handler needs: the database, the server key, the GeoIP database, settings, live
//! connections and the Web Push sender.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::db::Db;
use crate::egress::{self, EndpointPolicy};
use crate::geo::Geo;
use crate::hub::Hub;
use crate::seal::ServerKey;
use crate::throttle::Throttle;
use crate::{store, users, webpush};

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
    /// The password step's backoff per account and per client address.
    pub throttle: Arc<Throttle>,
    /// The slots (and bounded queue) for password checks.
    pub password_slots: Arc<users::Slots>,
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
        let endpoints =
            EndpointPolicy::new(config.webpush_allow_hosts.clone(), config.webpush_allow_loopback);
        let webpush = webpush::WebPush::new(vapid, contact)?
            .with_endpoints(endpoints, egress::system_lookup())?;
        let hub = match &db.postgres_url {
            Some(url) => Hub::shared(db.pool.clone(), url).await?,
            None => Hub::default(),
        };
        let password_slots = Arc::new(users::Slots::new(config.password_queue));
        Ok(Self {
            db,
            key,
            geo: Arc::new(geo),
            config: Arc::new(config),
            hub,
            webpush,
            throttle: Arc::default(),
            password_slots,
        })
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
