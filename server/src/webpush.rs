//! Web Push delivery to a browser's push service: RFC 8030 (generic event delivery over HTTP),
//! RFC 8291 message encryption in the `aes128gcm` content coding of RFC 8188, and RFC 8292
//! VAPID sender identification.
//!
//! Encryption is `web-push-native`'s (RustCrypto `p256`, `hkdf`, `aes-gcm`). The VAPID JWT is
//! signed here with `p256::ecdsa` instead of that crate's `vapid` feature: the feature brings in
//! `jwt-simple` with RSA, Ed25519 and ML-DSA code this server never uses, reads the wall clock
//! itself (so tokens cannot be tested at a fixed time), and leaves the port out of the `aud`
//! origin, which a push service on a non-default port would reject.
//!
//! The transport is hyper-util's pooled client over rustls with the `ring` provider and Mozilla's
//! root certificates: no OpenSSL, no cmake, the same trust store on every host.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER,
};
use http::{Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use zeroize::{Zeroize as _, Zeroizing};

use crate::egress::{self, EndpointPolicy, EndpointRefused, Lookup, PublicResolver};

/// The largest plaintext one push message can carry: RFC 8030 §7.2 only obliges a push service
/// to accept 4096 bytes of body, and RFC 8291 §4 takes 86 bytes of header, 1 padding delimiter
/// and 16 bytes of AEAD tag from that.
pub const MAX_PAYLOAD_LEN: usize = 3993;

/// The longest endpoint URL accepted. Real endpoints (FCM, Mozilla autopush, WNS, Apple) are a
/// few hundred bytes; the bound keeps stored rows and outgoing request lines small.
pub const MAX_ENDPOINT_LEN: usize = 2048;

/// How far ahead of "now" the VAPID JWT's `exp` is set. RFC 8292 §2 allows at most 24 hours;
/// half of that tolerates a push service whose clock runs behind ours.
pub const VAPID_TOKEN_LIFETIME_SECS: u64 = 12 * 60 * 60;

/// The longest `Topic` header value, RFC 8030 §5.4.
pub const MAX_TOPIC_LEN: usize = 32;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A push service's error body is read only this far: enough for FCM's or autopush's JSON
/// reason, not enough for a hostile endpoint to make us buffer much.
const RESPONSE_BODY_LIMIT: usize = 2048;
/// A key field longer than this cannot be valid; it is refused before decoding, so an oversized
/// field costs no allocation.
const MAX_KEY_FIELD_LEN: usize = 128;

/// Why a [`Subscription`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriptionError {
    /// The endpoint is longer than [`MAX_ENDPOINT_LEN`].
    #[error("endpoint is {len} bytes long; at most {MAX_ENDPOINT_LEN} are accepted")]
    EndpointTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The endpoint does not start with `http://` or `https://`.
    #[error("endpoint must be an http:// or https:// URL")]
    EndpointScheme,
    /// The endpoint is not a URL with a host (or it carries user credentials).
    #[error("endpoint is not a valid URL with a host")]
    EndpointInvalid,
    /// `p256dh` is not unpadded base64url.
    #[error("p256dh is not base64url")]
    P256dhEncoding,
    /// `p256dh` does not decode to the 65 bytes of an uncompressed point (RFC 8291 §3.2).
    #[error("p256dh must decode to a 65-byte uncompressed P-256 point, not {len} bytes")]
    P256dhLength {
        /// The decoded length in bytes.
        len: usize,
    },
    /// `p256dh` has the right length but is not an uncompressed point on P-256.
    #[error("p256dh is not an uncompressed point on P-256")]
    P256dhPoint,
    /// `auth` is not unpadded base64url.
    #[error("auth is not base64url")]
    AuthEncoding,
    /// `auth` does not decode to the 16-byte authentication secret of RFC 8291 §3.2.
    #[error("auth must decode to 16 bytes, not {len}")]
    AuthLength {
        /// The decoded length in bytes.
        len: usize,
    },
}

/// Why a push message was not delivered, or a sender could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebPushError {
    /// The subscription is malformed; no request was sent.
    #[error(transparent)]
    Subscription(#[from] SubscriptionError),
    /// The endpoint is not one this server may reach ([`EndpointPolicy`]); no request was sent.
    #[error(transparent)]
    EndpointRefused(#[from] EndpointRefused),
    /// The plaintext exceeds [`MAX_PAYLOAD_LEN`] (RFC 8291 §4); no request was sent.
    #[error("payload is {len} bytes; at most {MAX_PAYLOAD_LEN} fit in one push message")]
    PayloadTooLarge {
        /// The plaintext length in bytes.
        len: usize,
    },
    /// The topic is empty, longer than [`MAX_TOPIC_LEN`], or not base64url (RFC 8030 §5.4).
    #[error("topic must be 1 to {MAX_TOPIC_LEN} characters of the base64url alphabet")]
    InvalidTopic,
    /// The VAPID subject is not a `mailto:` or `https:` URI (RFC 8292 §2.1).
    #[error("VAPID subject must be a mailto: or https:// URI")]
    InvalidSubject,
    /// The bytes are not a 32-byte P-256 secret scalar in `1..n`.
    #[error("VAPID key must be a 32-byte P-256 secret scalar")]
    InvalidVapidKey,
    /// The push service answered 404 or 410: the subscription expired or the user unsubscribed
    /// (RFC 8030 §7.3). The caller should delete it; retrying cannot succeed.
    #[error("subscription is gone (HTTP {status})")]
    SubscriptionGone {
        /// 404 or 410.
        status: u16,
    },
    /// The push service answered 413: it takes less than RFC 8030 §7.2's 4096 bytes.
    #[error("push service refused the message as too large (HTTP 413)")]
    TooLargeForService,
    /// The push service answered with any other non-success status. 401 and 403 usually mean
    /// the subscription was made with a different `applicationServerKey`; 429 and 5xx are
    /// worth retrying later.
    #[error("push service answered HTTP {status}: {body}")]
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// `Retry-After` in seconds, when the service sent it as a number.
        retry_after_secs: Option<u64>,
        /// The start of the response body, for logs.
        body: String,
    },
    /// The message could not be encrypted (RFC 8291 §3.4).
    #[error("encrypting the push message failed")]
    Encrypt(#[source] web_push_native::Error),
    /// The request could not be assembled.
    #[error("building the push request failed")]
    Request(#[source] http::Error),
    /// The TLS client could not be configured.
    #[error("configuring TLS failed")]
    Tls(#[source] rustls::Error),
    /// Connecting to the push service or exchanging the request failed.
    #[error("sending to the push service failed")]
    Transport(#[source] hyper_util::client::legacy::Error),
    /// The push service did not answer within the configured timeout.
    #[error("push service did not answer within {0:?}")]
    Timeout(Duration),
}

/// The application server's VAPID key pair (RFC 8292 §3): a P-256 ECDSA key whose public half
/// browsers receive as `applicationServerKey` and push services check every JWT against.
///
/// The secret scalar is wiped from memory when the key is dropped, and `Debug` shows only the
/// public key.
#[derive(Clone)]
pub struct VapidKey(SigningKey);

impl VapidKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self(SigningKey::random(&mut rand_core_06::OsRng))
    }

    /// The key from its 32-byte big-endian secret scalar, as [`VapidKey::to_bytes`] returns it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WebPushError> {
        // `SigningKey::from_slice` also takes shorter slices and left-pads them; a stored key
        // of the wrong length is corruption, not something to repair silently.
        if bytes.len() != 32 {
            return Err(WebPushError::InvalidVapidKey);
        }
        SigningKey::from_slice(bytes).map(Self).map_err(|_| WebPushError::InvalidVapidKey)
    }

    /// The 32-byte big-endian secret scalar, for the server to seal and store.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut field = self.0.to_bytes();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&field);
        field.zeroize();
        out
    }

    /// The uncompressed 65-byte public key as unpadded base64url: the `k` parameter of
    /// RFC 8292 §3.2 and the `applicationServerKey` a browser subscribes with.
    pub fn public_key_base64url(&self) -> String {
        let point = self.0.verifying_key().to_encoded_point(false);
        Base64UrlUnpadded::encode_string(point.as_bytes())
    }
}

impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public_key_base64url()).finish()
    }
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it: the endpoint and the
/// `keys.p256dh` and `keys.auth` strings (unpadded base64url).
///
/// The endpoint is a URL the browser chose: [`WebPush`] reaches it only where its
/// [`EndpointPolicy`] allows (public `https` push services).
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The push resource URL (RFC 8030 §4), `http://` or `https://`.
    pub endpoint: String,
    /// The user agent's ECDH public key, a 65-byte uncompressed P-256 point (RFC 8291 §3.2).
    pub p256dh: String,
    /// The user agent's 16-byte authentication secret (RFC 8291 §3.2).
    pub auth: String,
}

/// What a valid [`Subscription`] decodes to.
struct Target {
    uri: Uri,
    audience: String,
    ua_public: p256::PublicKey,
    auth: web_push_native::Auth,
}

impl Subscription {
    /// A subscription whose fields have passed [`Subscription::validate`].
    pub fn new(
        endpoint: impl Into<String>,
        p256dh: impl Into<String>,
        auth: impl Into<String>,
    ) -> Result<Self, SubscriptionError> {
        let sub = Self { endpoint: endpoint.into(), p256dh: p256dh.into(), auth: auth.into() };
        sub.validate()?;
        Ok(sub)
    }

    /// Checks the endpoint (an `http://` or `https://` URL with a host, at most
    /// [`MAX_ENDPOINT_LEN`] bytes), that `p256dh` is an uncompressed point on P-256, and that
    /// `auth` is 16 bytes. [`WebPush::send`] checks again, since the fields are public.
    pub fn validate(&self) -> Result<(), SubscriptionError> {
        self.parse().map(|_| ())
    }

    fn parse(&self) -> Result<Target, SubscriptionError> {
        let (uri, audience) = parse_endpoint(&self.endpoint)?;

        let point = decode_key_field(&self.p256dh)
            .ok_or(SubscriptionError::P256dhEncoding)
            .and_then(|bytes| match bytes.len() {
                65 => Ok(bytes),
                len => Err(SubscriptionError::P256dhLength { len }),
            })?;
        // RFC 8291 §3.2 names the uncompressed form alone; its 0x04 tag is checked here so that
        // no other SEC1 encoding of the same length slips through `from_sec1_bytes`.
        if point.first() != Some(&0x04) {
            return Err(SubscriptionError::P256dhPoint);
        }
        let ua_public =
            p256::PublicKey::from_sec1_bytes(&point).map_err(|_| SubscriptionError::P256dhPoint)?;

        let auth = decode_key_field(&self.auth).ok_or(SubscriptionError::AuthEncoding)?;
        let auth: [u8; 16] = auth
            .as_slice()
            .try_into()
            .map_err(|_| SubscriptionError::AuthLength { len: auth.len() })?;

        Ok(Target { uri, audience, ua_public, auth: auth.into() })
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The auth secret is what keeps other senders from forging messages to this browser.
        f.debug_struct("Subscription")
            .field("endpoint", &self.endpoint)
            .field("p256dh", &self.p256dh)
            .field("auth", &"<redacted>")
            .finish()
    }
}

/// Decodes a base64url key field. Trailing `=` is tolerated because some client libraries pad.
fn decode_key_field(field: &str) -> Option<Vec<u8>> {
    if field.len() > MAX_KEY_FIELD_LEN {
        return None;
    }
    Base64UrlUnpadded::decode_vec(field.trim_end_matches('=')).ok()
}

/// Parses an endpoint and derives the VAPID `aud`: its origin in RFC 6454 §6.2 form, which keeps
/// a non-default port (RFC 8292 §2).
fn parse_endpoint(endpoint: &str) -> Result<(Uri, String), SubscriptionError> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(SubscriptionError::EndpointTooLong { len: endpoint.len() });
    }
    let lower_prefix = endpoint.get(..8).unwrap_or(endpoint).to_ascii_lowercase();
    if !lower_prefix.starts_with("http://") && !lower_prefix.starts_with("https://") {
        return Err(SubscriptionError::EndpointScheme);
    }
    let uri: Uri = endpoint.parse().map_err(|_| SubscriptionError::EndpointInvalid)?;
    let (scheme, default_port) = match uri.scheme_str() {
        Some("https") => ("https", 443),
        Some("http") => ("http", 80),
        _ => return Err(SubscriptionError::EndpointScheme),
    };
    let authority = uri.authority().ok_or(SubscriptionError::EndpointInvalid)?;
    // Credentials in the URL would be sent nowhere by hyper but would land in logs and in the
    // database; no push service issues such endpoints.
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(SubscriptionError::EndpointInvalid);
    }
    let host = authority.host().to_ascii_lowercase();
    let audience = match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    };
    Ok((uri, audience))
}

/// RFC 8030 §5.3 urgency of a push message; push services use it to decide whether to wake a
/// device on battery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Urgency {
    /// `very-low`: deliver when on power and Wi-Fi.
    VeryLow,
    /// `low`: deliver when on power or Wi-Fi.
    Low,
    /// `normal`: deliver unless the battery is low. The default.
    #[default]
    Normal,
    /// `high`: deliver at once, even on low battery. Fits a login waiting for approval.
    High,
}

impl Urgency {
    /// The header value of RFC 8030 §5.3.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLow => "very-low",
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

/// The push service's acceptance of a message (RFC 8030 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The success status: 201 normally, 202 when a receipt was asked for (RFC 8030 §5.1).
    pub status: u16,
    /// The push message resource (`Location`), if the service named one.
    pub location: Option<String>,
}

/// Supplies the current time in Unix seconds.
type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A Web Push sender: one VAPID identity and one pooled HTTPS client, cheap to clone and meant
/// to be shared by all requests.
#[derive(Clone)]
pub struct WebPush {
    client: Client<HttpsConnector<HttpConnector<PublicResolver>>, Full<Bytes>>,
    policy: Arc<EndpointPolicy>,
    lookup: Lookup,
    vapid: VapidKey,
    vapid_public: String,
    subject: String,
    clock: Clock,
    timeout: Duration,
}

impl fmt::Debug for WebPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebPush")
            .field("vapid", &self.vapid)
            .field("subject", &self.subject)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebPush {
    /// A sender identified by `vapid` and the contact URI `subject` (`mailto:…` or `https://…`,
    /// RFC 8292 §2.1), reading time from the system clock, giving up on a push service after
    /// 30 seconds, and reaching only `https` endpoints at public addresses (the default
    /// [`EndpointPolicy`]) found by the system's resolver.
    pub fn new(vapid: VapidKey, subject: impl Into<String>) -> Result<Self, WebPushError> {
        let subject = subject.into();
        validate_subject(&subject)?;
        let policy = Arc::new(EndpointPolicy::default());
        let lookup = egress::system_lookup();
        let vapid_public = vapid.public_key_base64url();
        Ok(Self {
            client: client(&policy, &lookup)?,
            policy,
            lookup,
            vapid,
            vapid_public,
            subject,
            clock: Arc::new(system_now),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Replaces which endpoints may be reached and how their names are resolved.
    pub fn with_endpoints(
        mut self,
        policy: EndpointPolicy,
        lookup: Lookup,
    ) -> Result<Self, WebPushError> {
        self.policy = Arc::new(policy);
        self.lookup = lookup;
        self.client = client(&self.policy, &self.lookup)?;
        Ok(self)
    }

    /// Whether `endpoint` may be reached, as far as can be told now: the scheme, the allowed
    /// hosts, and the addresses its name resolves to at the moment. Each send checks again
    /// at connect time.
    pub async fn check_endpoint(&self, endpoint: &str) -> Result<(), EndpointRefused> {
        let uri: Uri = endpoint.parse().map_err(|_| EndpointRefused::NotHttps)?;
        egress::check_endpoint(&self.policy, &self.lookup, &uri).await
    }

    /// Replaces the clock that dates VAPID tokens; it returns Unix seconds.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the limit on one delivery, connecting and reading the answer included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The VAPID public key, unpadded base64url, for the browser's `applicationServerKey`.
    pub fn application_server_key(&self) -> &str {
        &self.vapid_public
    }

    /// Encrypts `payload` for `sub` and POSTs it to the push service (RFC 8030 §5), asking it to
    /// keep the message `ttl_secs` seconds (§5.2) at `urgency` (§5.3), replacing any pending
    /// message with the same `topic` (§5.4).
    ///
    /// Any 2xx answer is a [`Delivery`]. 404 and 410 are [`WebPushError::SubscriptionGone`]:
    /// delete the subscription. 413 is [`WebPushError::TooLargeForService`]; other statuses are
    /// [`WebPushError::Rejected`].
    pub async fn send(
        &self,
        sub: &Subscription,
        payload: &[u8],
        ttl_secs: u32,
        urgency: Urgency,
        topic: Option<&str>,
    ) -> Result<Delivery, WebPushError> {
        let request = self.build_request(sub, payload, ttl_secs, urgency, topic, (self.clock)())?;
        // An address written in the URL is not resolved, so it is checked here; a name is
        // checked by the resolver as the connection is made.
        self.policy.check_uri(request.uri())?;
        let request = request.map(|body| Full::new(Bytes::from(body)));
        tokio::time::timeout(self.timeout, self.deliver(request))
            .await
            .map_err(|_| WebPushError::Timeout(self.timeout))?
    }

    /// The request [`WebPush::send`] would make at `now_unix`: the payload encrypted per
    /// RFC 8291 §3.4 as one `aes128gcm` record (RFC 8188 §2), with `TTL`, `Urgency`, optional
    /// `Topic`, and `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3).
    ///
    /// An empty payload is sent as a message without data (RFC 8030 §5): no body and no
    /// `Content-Encoding`, because RFC 8188 §2.1 forbids the 17-byte record size an empty
    /// `aes128gcm` body would declare.
    pub fn build_request(
        &self,
        sub: &Subscription,
        payload: &[u8],
        ttl_secs: u32,
        urgency: Urgency,
        topic: Option<&str>,
        now_unix: u64,
    ) -> Result<Request<Vec<u8>>, WebPushError> {
        let target = sub.parse()?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(WebPushError::PayloadTooLarge { len: payload.len() });
        }
        if let Some(topic) = topic {
            validate_topic(topic)?;
        }

        let mut builder = Request::post(target.uri)
            .header("ttl", ttl_secs)
            .header("urgency", urgency.as_str())
            .header(AUTHORIZATION, self.vapid_authorization(&target.audience, now_unix));
        if let Some(topic) = topic {
            builder = builder.header("topic", topic);
        }
        let body = if payload.is_empty() {
            Vec::new()
        } else {
            let body = web_push_native::encrypt(payload.to_vec(), &target.ua_public, &target.auth)
                .map_err(WebPushError::Encrypt)?;
            builder = builder
                .header(CONTENT_ENCODING, "aes128gcm")
                .header(CONTENT_TYPE, "application/octet-stream");
            body
        };
        builder.header(CONTENT_LENGTH, body.len()).body(body).map_err(WebPushError::Request)
    }

    /// The `Authorization` value of RFC 8292 §3: an ES256 JWT (RFC 7515, RFC 7518 §3.4) with
    /// `aud`, `exp` and `sub` claims (RFC 8292 §2), and the public key as `k` (§3.2).
    fn vapid_authorization(&self, audience: &str, now_unix: u64) -> String {
        const HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;
        let claims = serde_json::json!({
            "aud": audience,
            "exp": now_unix.saturating_add(VAPID_TOKEN_LIFETIME_SECS),
            "sub": self.subject,
        });
        let signing_input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(HEADER.as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
        );
        // JWS wants the fixed 64-byte r || s form, not DER (RFC 7518 §3.4).
        let signature: Signature = self.vapid.0.sign(signing_input.as_bytes());
        format!(
            "vapid t={signing_input}.{}, k={}",
            Base64UrlUnpadded::encode_string(&signature.to_bytes()),
            self.vapid_public,
        )
    }

    async fn deliver(&self, request: Request<Full<Bytes>>) -> Result<Delivery, WebPushError> {
        let response =
            self.client.request(request).await.map_err(|err| match egress::refusal_in(&err) {
                Some(refused) => WebPushError::EndpointRefused(refused),
                None => WebPushError::Transport(err),
            })?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let location = header(LOCATION).map(str::to_owned);
        let retry_after_secs = header(RETRY_AFTER).and_then(|v| v.trim().parse().ok());
        // Read even a success body (normally empty) so the pooled connection can be reused.
        let body = read_prefix(response.into_body(), RESPONSE_BODY_LIMIT).await;

        match status {
            200..=299 => Ok(Delivery { status, location }),
            404 | 410 => Err(WebPushError::SubscriptionGone { status }),
            413 => Err(WebPushError::TooLargeForService),
            _ => Err(WebPushError::Rejected {
                status,
                retry_after_secs,
                // The push service's words end up in logs: no line breaks or escape sequences.
                body: String::from_utf8_lossy(&body)
                    .trim()
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect(),
            }),
        }
    }
}

/// The pooled client: names resolved through [`PublicResolver`], so that only addresses the
/// policy allows are ever connected to; plain `http` only where loopback is allowed.
fn client(
    policy: &Arc<EndpointPolicy>,
    lookup: &Lookup,
) -> Result<Client<HttpsConnector<HttpConnector<PublicResolver>>, Full<Bytes>>, WebPushError> {
    let mut http =
        HttpConnector::new_with_resolver(PublicResolver::new(policy.clone(), lookup.clone()));
    // hyper-rustls hands `https` URIs to this connector; it must not refuse them.
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    // The provider is named rather than taken from the process default, so that another
    // crate enabling aws-lc-rs cannot make the choice ambiguous.
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(WebPushError::Tls)?;
    let https = if policy.loopback_allowed() {
        // Plain http only for push services on loopback (tests, local relays).
        builder.https_or_http().enable_http1().wrap_connector(http)
    } else {
        builder.https_only().enable_http1().wrap_connector(http)
    };
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(https))
}

/// Reads at most `limit` bytes of a response body; a body that fails or runs longer is cut off.
async fn read_prefix(mut body: hyper::body::Incoming, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(Ok(frame)) = body.frame().await else { break };
        if let Ok(data) = frame.into_data() {
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(data.get(..room).unwrap_or(&data));
        }
    }
    out
}

fn validate_subject(subject: &str) -> Result<(), WebPushError> {
    let contact = subject.strip_prefix("mailto:").or_else(|| subject.strip_prefix("https://"));
    match contact {
        Some(rest) if !rest.is_empty() && !subject.chars().any(char::is_control) => Ok(()),
        _ => Err(WebPushError::InvalidSubject),
    }
}

fn validate_topic(topic: &str) -> Result<(), WebPushError> {
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if (1..=MAX_TOPIC_LEN).contains(&topic.len()) && topic.bytes().all(base64url) {
        Ok(())
    } else {
        Err(WebPushError::InvalidTopic)
    }
}

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::SocketAddr;

    use aes_gcm::aead::{Aead as _, KeyInit as _};
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse as _, Response};
    use hkdf::Hkdf;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use rand_core_06::RngCore as _;
    use sha2::Sha256;
    use tokio::sync::mpsc;

    const SUBJECT: &str = "mailto:ops@pushotp.example";

    fn b64(bytes: &[u8]) -> String {
        Base64UrlUnpadded::encode_string(bytes)
    }

    fn unb64(s: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(s).unwrap()
    }

    /// A browser's side of a subscription: its ECDH key pair and auth secret (RFC 8291 §3.2).
    struct Browser {
        secret: p256::SecretKey,
        auth: [u8; 16],
    }

    impl Browser {
        fn new() -> Self {
            let mut auth = [0u8; 16];
            rand_core_06::OsRng.fill_bytes(&mut auth);
            Self { secret: p256::SecretKey::random(&mut rand_core_06::OsRng), auth }
        }

        fn subscription(&self, endpoint: &str) -> Subscription {
            let public = self.secret.public_key().to_encoded_point(false);
            Subscription::new(endpoint, b64(public.as_bytes()), b64(&self.auth)).unwrap()
        }
    }

    /// RFC 8291 §3.3–3.4 and RFC 8188 §2 decryption, written from the RFCs independently of
    /// `web-push-native`, so that a symmetric mistake on its side could not pass.
    fn decrypt(body: &[u8], ua_secret: &p256::SecretKey, auth: &[u8]) -> Vec<u8> {
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
        assert_eq!(body[20], 65, "keyid must be the 65-byte sender key (RFC 8291 §4)");
        let as_public_bytes = &body[21..86];
        let record = &body[86..];
        assert!(record.len() <= usize::try_from(rs).unwrap(), "one record (RFC 8291 §4)");

        let as_public = p256::PublicKey::from_sec1_bytes(as_public_bytes).unwrap();
        let shared =
            p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), as_public.as_affine());
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(ua_secret.public_key().to_encoded_point(false).as_bytes());
        key_info.extend_from_slice(as_public_bytes);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(auth), &shared.raw_secret_bytes()[..])
            .expand(&key_info, &mut ikm)
            .unwrap();

        let content = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        content.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
        // The first record's sequence number is 0, so the nonce is used without the XOR.
        let mut nonce = [0u8; 12];
        content.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let plain = aes_gcm::Aes128Gcm::new(&cek.into()).decrypt(&nonce.into(), record).unwrap();

        let delimiter = plain.iter().rposition(|&b| b != 0).unwrap();
        assert_eq!(plain[delimiter], 0x02, "last-record delimiter (RFC 8188 §2)");
        plain[..delimiter].to_vec()
    }

    #[test]
    fn test_decryptor_matches_rfc8291_example() {
        // RFC 8291 §5 / Appendix A.
        let ua_secret =
            p256::SecretKey::from_slice(&unb64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
                .unwrap();
        let auth = unb64("BTBZMqHH6r4Tts7J_aSIgg");
        let body = unb64(concat!(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
            "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
            "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        ));
        let expected = b"When I grow up, I want to be a watermelon";
        assert_eq!(decrypt(&body, &ua_secret, &auth), expected);
        let auth = web_push_native::Auth::from(<[u8; 16]>::try_from(auth).unwrap());
        assert_eq!(web_push_native::decrypt(body, &ua_secret, &auth).unwrap(), expected);
    }

    /// What the loopback push service saw.
    struct Received {
        path: String,
        headers: HeaderMap,
        body: Bytes,
    }

    #[derive(Clone)]
    struct Service {
        seen: mpsc::UnboundedSender<Received>,
        status: StatusCode,
        delay: Duration,
    }

    async fn push_resource(
        State(service): State<Service>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        tokio::time::sleep(service.delay).await;
        let _ = service.seen.send(Received { path: uri.path().to_owned(), headers, body });
        let mut response = match service.status.as_u16() {
            201 => (service.status, [(LOCATION, "/message/m1")]).into_response(),
            429 => {
                (service.status, [(RETRY_AFTER, "120")], "slow\r\ndown\u{1b}[0m").into_response()
            }
            _ => (service.status, r#"{"reason":"test"}"#).into_response(),
        };
        *response.status_mut() = service.status;
        response
    }

    /// Starts a loopback push service that answers every POST to `/push/{id}` with `status`.
    async fn push_service(
        status: StatusCode,
        delay: Duration,
    ) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
        let (seen, received) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/push/{id}", axum::routing::post(push_resource))
            .with_state(Service { seen, status, delay });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, received)
    }

    /// A sender that may reach the push services these tests run on loopback.
    fn sender() -> WebPush {
        WebPush::new(VapidKey::generate(), SUBJECT)
            .unwrap()
            .with_endpoints(EndpointPolicy::new(Vec::new(), true), egress::system_lookup())
            .unwrap()
    }

    /// Checks an `Authorization: vapid` value and returns its JWT claims.
    fn verify_vapid(authorization: &str, expected_k: &str) -> serde_json::Value {
        let params = authorization.strip_prefix("vapid ").unwrap();
        let (t, k) = params.split_once(", ").unwrap();
        let token = t.strip_prefix("t=").unwrap();
        let k = k.strip_prefix("k=").unwrap();
        assert_eq!(k, expected_k);

        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&unb64(k)).unwrap();
        let signature = Signature::from_slice(&unb64(signature)).unwrap();
        key.verify(signing_input.as_bytes(), &signature).unwrap();

        let (header, claims) = signing_input.split_once('.').unwrap();
        let header: serde_json::Value = serde_json::from_slice(&unb64(header)).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "JWT");
        serde_json::from_slice(&unb64(claims)).unwrap()
    }

    #[tokio::test]
    async fn delivers_an_encrypted_signed_message_to_a_push_service() {
        let (addr, mut received) = push_service(StatusCode::CREATED, Duration::ZERO).await;
        let browser = Browser::new();
        let sub = browser.subscription(&format!("http://{addr}/push/abc"));
        let push = sender();
        let payload = br#"{"type":"login","id":"r-42","code":"493 117"}"#;

        let delivery =
            push.send(&sub, payload, 60, Urgency::High, Some("login-r42")).await.unwrap();
        assert_eq!(delivery, Delivery { status: 201, location: Some("/message/m1".into()) });

        let seen = received.recv().await.unwrap();
        assert_eq!(seen.path, "/push/abc");
        let h = |name: &str| seen.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("content-encoding"), "aes128gcm");
        assert_eq!(h("content-type"), "application/octet-stream");
        assert_eq!(h("ttl"), "60");
        assert_eq!(h("urgency"), "high");
        assert_eq!(h("topic"), "login-r42");
        assert_eq!(h("content-length"), seen.body.len().to_string());

        let claims = verify_vapid(&h("authorization"), &push.vapid.public_key_base64url());
        assert_eq!(claims["aud"], format!("http://127.0.0.1:{}", addr.port()));
        assert_eq!(claims["sub"], SUBJECT);
        let exp = claims["exp"].as_u64().unwrap();
        let now = system_now();
        assert!(exp > now && exp <= now + 24 * 60 * 60, "exp {exp} vs now {now}");

        // RFC 8291 §4: one record sized exactly for this plaintext, delimiter and tag.
        assert_eq!(seen.body.len(), 86 + payload.len() + 17);
        assert_eq!(decrypt(&seen.body, &browser.secret, &browser.auth), payload);
        let auth = web_push_native::Auth::from(browser.auth);
        assert_eq!(
            web_push_native::decrypt(seen.body.to_vec(), &browser.secret, &auth).unwrap(),
            payload
        );
    }

    #[tokio::test]
    async fn injected_clock_dates_the_token_and_empty_payload_has_no_body() {
        let (addr, mut received) = push_service(StatusCode::CREATED, Duration::ZERO).await;
        let sub = Browser::new().subscription(&format!("http://{addr}/push/tickle"));
        let push = sender().with_clock(|| 1_700_000_000);

        push.send(&sub, b"", 0, Urgency::VeryLow, None).await.unwrap();

        let seen = received.recv().await.unwrap();
        assert!(seen.body.is_empty());
        assert!(seen.headers.get("content-encoding").is_none());
        assert!(seen.headers.get("topic").is_none());
        assert_eq!(seen.headers["ttl"], "0");
        assert_eq!(seen.headers["urgency"], "very-low");
        let authorization = seen.headers["authorization"].to_str().unwrap();
        let claims = verify_vapid(authorization, push.application_server_key());
        assert_eq!(claims["exp"], 1_700_000_000 + VAPID_TOKEN_LIFETIME_SECS);
    }

    #[tokio::test]
    async fn maps_push_service_statuses() {
        let cases = [
            (StatusCode::ACCEPTED, "delivered 202"),
            (StatusCode::GONE, "gone 410"),
            (StatusCode::NOT_FOUND, "gone 404"),
            (StatusCode::PAYLOAD_TOO_LARGE, "too large"),
            (StatusCode::TOO_MANY_REQUESTS, "rejected 429 retry 120"),
            (StatusCode::FORBIDDEN, "rejected 403"),
        ];
        let push = sender();
        for (status, expected) in cases {
            let (addr, _received) = push_service(status, Duration::ZERO).await;
            let sub = Browser::new().subscription(&format!("http://{addr}/push/abc"));
            let outcome = match push.send(&sub, b"hi", 30, Urgency::Normal, None).await {
                Ok(Delivery { status, .. }) => format!("delivered {status}"),
                Err(WebPushError::SubscriptionGone { status }) => format!("gone {status}"),
                Err(WebPushError::TooLargeForService) => "too large".into(),
                Err(WebPushError::Rejected { status: 429, retry_after_secs, body }) => {
                    // Line breaks and escape sequences never reach a log line.
                    assert_eq!(body, "slow  down [0m");
                    format!("rejected 429 retry {}", retry_after_secs.unwrap())
                }
                Err(WebPushError::Rejected { status, body, .. }) => {
                    assert_eq!(body, r#"{"reason":"test"}"#);
                    format!("rejected {status}")
                }
                Err(other) => panic!("{status}: unexpected {other:?}"),
            };
            assert_eq!(outcome, expected);
        }
    }

    #[tokio::test]
    async fn gives_up_on_a_silent_or_absent_push_service() {
        let (addr, _received) = push_service(StatusCode::CREATED, Duration::from_secs(5)).await;
        let sub = Browser::new().subscription(&format!("http://{addr}/push/slow"));
        let push = sender().with_timeout(Duration::from_millis(200));
        let err = push.send(&sub, b"hi", 30, Urgency::Normal, None).await.unwrap_err();
        assert!(matches!(err, WebPushError::Timeout(_)), "{err:?}");

        // A port nothing listens on: bound, read, released.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let sub = Browser::new().subscription(&format!("http://{closed_addr}/push/none"));
        let err = sender().send(&sub, b"hi", 30, Urgency::Normal, None).await.unwrap_err();
        assert!(matches!(err, WebPushError::Transport(_)), "{err:?}");
    }

    #[test]
    fn refuses_bad_subscriptions() {
        let browser = Browser::new();
        let good = browser.subscription("https://fcm.googleapis.com/fcm/send/abc");
        let with = |endpoint: &str, p256dh: &str, auth: &str| {
            Subscription::new(endpoint, p256dh, auth).unwrap_err()
        };
        let (ep, key, auth) = (good.endpoint.as_str(), good.p256dh.as_str(), good.auth.as_str());

        assert_eq!(with("ftp://push.example/x", key, auth), SubscriptionError::EndpointScheme);
        assert_eq!(with("push.example/x", key, auth), SubscriptionError::EndpointScheme);
        assert_eq!(with("https://", key, auth), SubscriptionError::EndpointInvalid);
        assert_eq!(with("https://a b/", key, auth), SubscriptionError::EndpointInvalid);
        assert_eq!(
            with("https://u:p@push.example/x", key, auth),
            SubscriptionError::EndpointInvalid
        );
        let long = format!("https://push.example/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert_eq!(
            with(&long, key, auth),
            SubscriptionError::EndpointTooLong { len: MAX_ENDPOINT_LEN + 21 }
        );

        assert_eq!(with(ep, "not base64!", auth), SubscriptionError::P256dhEncoding);
        assert_eq!(with(ep, &"A".repeat(200), auth), SubscriptionError::P256dhEncoding);
        assert_eq!(with(ep, &b64(&[4; 33]), auth), SubscriptionError::P256dhLength { len: 33 });
        let compressed = browser.secret.public_key().to_encoded_point(true);
        assert_eq!(
            with(ep, &b64(compressed.as_bytes()), auth),
            SubscriptionError::P256dhLength { len: 33 }
        );
        let mut off_curve = unb64(key);
        off_curve[64] ^= 1;
        assert_eq!(with(ep, &b64(&off_curve), auth), SubscriptionError::P256dhPoint);
        let mut wrong_tag = unb64(key);
        wrong_tag[0] = 0x05;
        assert_eq!(with(ep, &b64(&wrong_tag), auth), SubscriptionError::P256dhPoint);

        assert_eq!(with(ep, key, "#"), SubscriptionError::AuthEncoding);
        assert_eq!(with(ep, key, &b64(&[1; 8])), SubscriptionError::AuthLength { len: 8 });
        assert_eq!(with(ep, key, &b64(&[1; 17])), SubscriptionError::AuthLength { len: 17 });

        // What browsers and padding client libraries send is accepted.
        assert!(Subscription::new("HTTPS://Push.Example:8443/x", key, auth).is_ok());
        assert!(Subscription::new(ep, format!("{key}="), format!("{auth}==")).is_ok());

        // `send` checks too, because the fields are public.
        let bad = Subscription { auth: b64(&[7; 12]), ..good };
        let err = sender().build_request(&bad, b"x", 1, Urgency::Normal, None, 0).unwrap_err();
        assert!(matches!(err, WebPushError::Subscription(SubscriptionError::AuthLength { .. })));
    }

    #[test]
    fn enforces_the_payload_limit() {
        let browser = Browser::new();
        let sub = browser.subscription("https://push.example/p");
        let push = sender();
        let full = vec![0x5a; MAX_PAYLOAD_LEN];
        let request = push.build_request(&sub, &full, 60, Urgency::Normal, None, 0).unwrap();
        // RFC 8291 §4: the largest plaintext makes exactly the 4096 bytes every service takes.
        assert_eq!(request.body().len(), 4096);
        assert_eq!(decrypt(request.body(), &browser.secret, &browser.auth), full);

        let over = vec![0x5a; MAX_PAYLOAD_LEN + 1];
        let err = push.build_request(&sub, &over, 60, Urgency::Normal, None, 0).unwrap_err();
        assert!(matches!(err, WebPushError::PayloadTooLarge { len: 3994 }), "{err:?}");
    }

    #[test]
    fn audience_is_the_endpoint_origin() {
        let browser = Browser::new();
        let push = sender();
        for (endpoint, origin) in [
            ("https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com"),
            (
                "https://Updates.Push.Services.Mozilla.com/wpush/v2/x",
                "https://updates.push.services.mozilla.com",
            ),
            ("https://push.example:443/x?y=1", "https://push.example"),
            ("https://push.example:8443/x", "https://push.example:8443"),
            ("http://127.0.0.1:80/x", "http://127.0.0.1"),
            ("http://[::1]:8080/x", "http://[::1]:8080"),
        ] {
            let sub = browser.subscription(endpoint);
            let request = push.build_request(&sub, b"x", 1, Urgency::Low, None, 1000).unwrap();
            assert_eq!(request.uri().to_string().to_lowercase(), endpoint.to_lowercase());
            let authorization = request.headers()[AUTHORIZATION].to_str().unwrap();
            let claims = verify_vapid(authorization, push.application_server_key());
            assert_eq!(claims["aud"], origin, "{endpoint}");
            assert_eq!(claims["exp"], 1000 + VAPID_TOKEN_LIFETIME_SECS);
        }
    }

    #[test]
    fn checks_topic_and_subject() {
        let sub = Browser::new().subscription("https://push.example/p");
        let push = sender();
        for topic in ["", "has space", "dot.ted", "ünïcode", &"a".repeat(33)] {
            let err = push.build_request(&sub, b"x", 1, Urgency::Normal, Some(topic), 0);
            assert!(matches!(err, Err(WebPushError::InvalidTopic)), "{topic:?}");
        }
        let topic = "A-z_09".repeat(5) + "ab";
        assert!(push.build_request(&sub, b"x", 1, Urgency::Normal, Some(&topic), 0).is_ok());

        for subject in ["", "mailto:", "https://", "http://ops.example", "ops@x", "mailto:a\nb"] {
            let err = WebPush::new(VapidKey::generate(), subject).unwrap_err();
            assert!(matches!(err, WebPushError::InvalidSubject), "{subject:?}");
        }
        assert!(WebPush::new(VapidKey::generate(), "https://pushotp.example/contact").is_ok());
    }

    #[test]
    fn vapid_key_round_trips_and_stays_out_of_debug() {
        let key = VapidKey::generate();
        let bytes = key.to_bytes();
        let again = VapidKey::from_bytes(bytes.as_slice()).unwrap();
        assert_eq!(again.public_key_base64url(), key.public_key_base64url());
        assert_eq!(*again.to_bytes(), *bytes);

        let public = unb64(&key.public_key_base64url());
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 0x04);

        let debug = format!("{key:?} {:?}", sender());
        assert!(debug.contains(&key.public_key_base64url()));
        for secret_form in [b64(bytes.as_slice()), format!("{:?}", bytes.as_slice())] {
            assert!(!debug.contains(&secret_form), "{debug}");
        }
        let debug = format!("{:?}", key);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!debug.contains(&hex));

        let sub = Browser::new().subscription("https://push.example/p");
        assert!(!format!("{sub:?}").contains(&sub.auth));

        for bad in [&[1u8; 31][..], &[1; 33], &[0; 32], &[0xff; 32]] {
            let err = VapidKey::from_bytes(bad).unwrap_err();
            assert!(matches!(err, WebPushError::InvalidVapidKey), "{}", bad.len());
        }
    }

    #[test]
    fn errors_read_well() {
        let err = WebPushError::from(SubscriptionError::AuthLength { len: 8 });
        assert_eq!(err.to_string(), "auth must decode to 16 bytes, not 8");
        assert_eq!(
            WebPushError::PayloadTooLarge { len: 5000 }.to_string(),
            "payload is 5000 bytes; at most 3993 fit in one push message"
        );
    }
}
