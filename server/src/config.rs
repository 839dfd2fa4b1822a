//! Settings an administrator chooses, and their check at start-up.

use std::net::IpAddr;

/// How long it takes, by default, for one failed approval of a token to be forgiven: a day.
///
/// A failed approval is a wrong PIN or a wrong number, and each one counts against the token
/// until it decays, however many right approvals come in between. A day lets a guesser who
/// spreads tries between the person's own sign-ins make `maxTries - 1` guesses and then one a
/// day without locking the token (with the default five, four and then about 365 a year: a
/// four-digit PIN holds for over a decade on average, and the person is told of each), while
/// the person's own slips, a few a month, never add up to a lock.
pub const FAILURE_DECAY: u64 = 24 * 3600;

/// The shortest decay a server takes: an hour. A guesser who never locks the token gets one
/// guess per decay once the first `maxTries - 1` are spent, so an hour still allows 24 a day
/// (a four-digit PIN in about seven months on average, each guess told to the person); a
/// minute would allow 1,440 a day, and the PIN would fall within a week.
pub const MIN_FAILURE_DECAY: u64 = 3600;

/// The longest decay a server takes: a year, past which a count is a lifetime cap in all but
/// name and only the administrator's unlock clears it.
pub const MAX_FAILURE_DECAY: u64 = 365 * 24 * 3600;

/// How the person gives the login page's number on the device (protocol §4, "Number
/// matching"; `--number-matching`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberMatching {
    /// Picks it from three numbers the request offers: quick, but a person who taps without
    /// looking approves one push in three.
    #[default]
    Choose,
    /// Types the two digits: the request offers none, so a blind guess approves one push in
    /// 90, and the first wrong one ends the request.
    Type,
}

/// Settings an administrator chooses (see `pushotp-server serve --help`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The base URL browsers and devices use to reach this server, without a trailing slash.
    pub public_url: String,
    /// The organization's name, shown on enrolled tokens.
    pub org_name: String,
    /// The protected app's name, shown in push requests.
    pub app_name: String,
    /// The origins of the login pages whose sign-ins this server pushes, besides its own
    /// (protocol §3 `loginOrigins`): declared to each device at enrollment, the only sites
    /// besides the server's own where devices fill an approval's passcode. The demo app's
    /// sign-ins name the first (the demo app served at that origin by a reverse proxy).
    pub login_origins: Vec<String>,
    /// The reverse proxy whose `X-Forwarded-For` header is believed.
    pub trusted_proxy: Option<IpAddr>,
    /// How long a push login request can be answered, in seconds.
    pub request_ttl: u64,
    /// How long an activation link can be redeemed, in seconds.
    pub activation_ttl: u64,
    /// Most pushes per person within one request lifetime that did not end in an approved
    /// sign-in (no push bombing); see [`crate::store::requests::PushHistory`].
    pub max_pending_per_user: i64,
    /// Seconds after a denied or reported request before a new sign-in of that person may push
    /// (the refused sign-in itself is over for good).
    pub deny_cooldown: u64,
    /// Failed answers (wrong number, wrong PIN) counted before a token locks; they decay by
    /// one per [`failure_decay`](Self::failure_decay), and no success resets them.
    pub max_tries: i64,
    /// Seconds after which one counted failed answer is forgiven ([`FAILURE_DECAY`] unless
    /// set).
    pub failure_decay: u64,
    /// Whether push requests carry number matching.
    pub number_matching: bool,
    /// With number matching, whether the person picks the login page's number from three or
    /// types it.
    pub number_entry: NumberMatching,
    /// Whether new tokens are PIN-protected.
    pub require_pin: bool,
    /// Whether a reported request locks the token.
    pub lock_on_report: bool,
    /// Whether only bound approvals sign in: approvals made in the browser that shows the
    /// login page, on its origin (docs/protocol.md §5, "Same-browser approvals"). Unbound ones
    /// are refused as `unbound`, counting no failed try; by default they are taken and audited
    /// as unbound.
    pub require_same_browser: bool,
    /// How push services can reach the operator (RFC 8292 §2.1 `sub`): a `mailto:` or
    /// `https://` URI. Defaults to the public URL when that is https.
    pub contact: Option<String>,
    /// In the demo only: the address sign-ins from this machine are shown and placed with
    /// ([`crate::geo::shown_ip`]), so that they get a place in the demo's GeoIP test database.
    pub demo_client_ip: Option<IpAddr>,
    /// Password checks that may wait for one of the Argon2 slots; more are refused at once.
    pub password_queue: usize,
    /// Push-service hosts Web Push messages may go to (`*.example.com` for every name under
    /// it); empty: any host at a public address.
    pub webpush_allow_hosts: Vec<String>,
    /// Let Web Push endpoints at loopback addresses, over plain `http` too, be reached: for
    /// test setups whose push service runs on the same machine.
    pub webpush_allow_loopback: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            org_name: "Demo Org".into(),
            app_name: "Demo Portal".into(),
            login_origins: Vec::new(),
            trusted_proxy: None,
            request_ttl: 120,
            activation_ttl: 24 * 3600,
            max_pending_per_user: 3,
            deny_cooldown: 60,
            max_tries: 5,
            failure_decay: FAILURE_DECAY,
            number_matching: true,
            number_entry: NumberMatching::Choose,
            require_pin: false,
            lock_on_report: false,
            require_same_browser: false,
            contact: None,
            demo_client_ip: None,
            password_queue: 32,
            webpush_allow_hosts: Vec::new(),
            webpush_allow_loopback: false,
        }
    }
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
        anyhow::ensure!(
            (MIN_FAILURE_DECAY..=MAX_FAILURE_DECAY).contains(&self.failure_decay),
            "the failure decay must be {MIN_FAILURE_DECAY} s or more (an hour: one a minute \
             would let a guesser try 1,440 PINs a day) and at most {MAX_FAILURE_DECAY} s \
             (a year)"
        );
        anyhow::ensure!(self.max_pending_per_user >= 1, "max pending must be at least 1");
        anyhow::ensure!(
            (1..=3600).contains(&self.request_ttl),
            "the request TTL must be 1 to 3600 s"
        );
        anyhow::ensure!(self.activation_ttl >= 60, "activation links must live at least 60 s");
        // The protocol's rules (docs/protocol.md §3, field rules), which devices hold the
        // server to: a server that breaks them could enroll no one or push nothing.
        anyhow::ensure!(
            pushotp::is_secure_server(&self.public_url),
            "the public URL must start with https:// (http:// only on this computer: 127.0.0.1, \
             [::1] or localhost); put a TLS proxy in front and give its URL with --public-url"
        );
        anyhow::ensure!(
            self.login_origins.len() <= pushotp::push::MAX_LOGIN_ORIGINS
                && self
                    .login_origins
                    .iter()
                    .all(|o| pushotp::tokens::is_web_origin(o) && pushotp::is_secure_server(o)),
            "login origins must be at most {} https origins as browsers write them, such as \
             https://portal.example.com (no path, no trailing /; http:// only on this computer)",
            pushotp::push::MAX_LOGIN_ORIGINS
        );
        for (name, text) in [("org", &self.org_name), ("app", &self.app_name)] {
            anyhow::ensure!(
                !text.is_empty() && text.len() <= 256 && pushotp::reads_as_is(text),
                "the {name} name must be 1 to 256 bytes without control or format characters"
            );
        }
        Ok(())
    }
}
