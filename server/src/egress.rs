//! Where the server may send Web Push messages. A device chooses its push endpoint, so without
//! a check it could make the server POST to any host its network reaches (an admin page on
//! loopback, a cloud metadata service). Only `https` endpoints at public addresses are reached,
//! optionally only at listed push-service hosts.
//!
//! Names are checked after resolution, by the resolver the Web Push client connects with
//! ([`PublicResolver`]), so that a name that resolves to a public address when the device
//! registers and to an internal one when a push is sent (DNS rebinding) is still refused. An
//! address written in the URL never reaches a resolver and is checked before connecting
//! ([`EndpointPolicy::check_uri`]).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::dns::Name;

/// Why an endpoint is not reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointRefused {
    /// Not `https` (plain `http` only where loopback is allowed, for tests).
    #[error("a Web Push endpoint must be an https URL")]
    NotHttps,
    /// The host is not among `--webpush-allow-host`.
    #[error("{0} is not one of the push services this server sends to")]
    HostNotAllowed(String),
    /// The host is, or resolves only to, addresses that are not public.
    #[error("{0} is not at a public address")]
    NotPublic(String),
}

/// Which endpoints the Web Push client may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    allow_hosts: Vec<String>,
    allow_loopback: bool,
}

impl EndpointPolicy {
    /// Endpoints at public addresses; if `allow_hosts` is not empty, only at those hosts (an
    /// entry `*.example.com` stands for every name under `example.com`). `allow_loopback` also
    /// lets endpoints at loopback addresses, over plain `http` too, be reached: for test setups
    /// whose push service runs on the same machine, never for a server that real people use.
    pub fn new(allow_hosts: Vec<String>, allow_loopback: bool) -> Self {
        let allow_hosts = allow_hosts.into_iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        Self { allow_hosts, allow_loopback }
    }

    /// Whether endpoints at loopback addresses (and plain `http`) may be reached.
    pub fn loopback_allowed(&self) -> bool {
        self.allow_loopback
    }

    /// Whether the client may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_loopback && canonical(ip).is_loopback())
    }

    /// What can be checked without a lookup: the scheme, the allowed hosts, and an address
    /// written in the URL.
    pub fn check_uri(&self, uri: &Uri) -> Result<(), EndpointRefused> {
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.allow_loopback => {}
            _ => return Err(EndpointRefused::NotHttps),
        }
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        if !self.allow_hosts.is_empty() && !self.allow_hosts.iter().any(|h| host_matches(h, &host))
        {
            return Err(EndpointRefused::HostNotAllowed(host));
        }
        match literal(&host) {
            Some(ip) if !self.allows(ip) => Err(EndpointRefused::NotPublic(host)),
            _ => Ok(()),
        }
    }
}

fn host_matches(entry: &str, host: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.')),
        None => entry == host,
    }
}

/// The address written as a URL's host (`[…]` around IPv6), if it is one.
fn literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// An IPv4 address carried in IPv6 (mapped, `::ffff:a.b.c.d`) is judged as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether `ip` is a public unicast address: not unspecified, loopback, private (RFC 1918),
/// shared (RFC 6598), link-local, unique-local (RFC 4193), multicast, broadcast, reserved,
/// benchmarking (RFC 2544) or documentation (RFC 5737, RFC 3849); IPv6 forms that embed an
/// IPv4 address (mapped, NAT64 RFC 6052, 6to4 RFC 3056) are judged by that address, and
/// Teredo (RFC 4380) is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                        // "this network" (RFC 791)
        || ip.is_loopback()                         // 127/8
        || ip.is_private()                          // 10/8, 172.16/12, 192.168/16
        || (a == 100 && (64..128).contains(&b))     // 100.64/10, shared (RFC 6598)
        || ip.is_link_local()                       // 169.254/16
        || (a == 192 && b == 0 && c == 0)           // 192.0.0/24, IETF assignments
        || ip.is_documentation()                    // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 198 && (b == 18 || b == 19))       // 198.18/15, benchmarking
        || a >= 224) // multicast 224/4, reserved 240/4, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        is_public_v4(Ipv4Addr::new(a, b, c, d))
    };
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return false;
    }
    match s[0] {
        // Unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10 (deprecated).
        0xfc00..=0xfdff | 0xfe80..=0xfeff => false,
        // Documentation 2001:db8::/32 and Teredo 2001::/32.
        0x2001 if s[1] == 0x0db8 || s[1] == 0 => false,
        // 6to4: the IPv4 address in the next 32 bits.
        0x2002 => embedded(s[1], s[2]),
        // NAT64 64:ff9b::/96: the IPv4 address in the last 32 bits.
        0x0064 if s[1] == 0xff9b && s[2..6] == [0; 4] => embedded(s[6], s[7]),
        // Global unicast is 2000::/3; everything else (discard 100::/64, IPv4-compatible
        // ::a.b.c.d, reserved ranges) is not a push service.
        first => (0x2000..=0x3fff).contains(&first),
    }
}

/// Resolves a host name to addresses. The system resolver by default; tests put their own.
pub type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> + Send + Sync,
>;

/// The system's resolver (`getaddrinfo`, through Tokio).
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    })
}

/// Checks an endpoint as a device registers it, to refuse a bad one with a clear error at once.
/// A name that does not resolve now is let through: every send resolves it again and the
/// connection is checked then.
pub async fn check_endpoint(
    policy: &EndpointPolicy,
    lookup: &Lookup,
    uri: &Uri,
) -> Result<(), EndpointRefused> {
    policy.check_uri(uri)?;
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    if literal(&host).is_some() {
        return Ok(());
    }
    match lookup(host.clone()).await {
        Ok(addrs) if !addrs.is_empty() && !addrs.iter().any(|ip| policy.allows(*ip)) => {
            Err(EndpointRefused::NotPublic(host))
        }
        _ => Ok(()),
    }
}

/// The Web Push client's resolver: looks a name up and keeps only the addresses the policy
/// allows; a name with none left fails with [`EndpointRefused::NotPublic`], so no connection
/// is ever made to such an address, whatever the name resolved to before.
#[derive(Clone)]
pub struct PublicResolver {
    policy: Arc<EndpointPolicy>,
    lookup: Lookup,
}

impl PublicResolver {
    /// A resolver that asks `lookup` and filters by `policy`.
    pub fn new(policy: Arc<EndpointPolicy>, lookup: Lookup) -> Self {
        Self { policy, lookup }
    }
}

impl fmt::Debug for PublicResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicResolver").field("policy", &self.policy).finish_non_exhaustive()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Name> for PublicResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let (policy, lookup) = (self.policy.clone(), self.lookup.clone());
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = lookup(host.clone()).await?;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|ip| policy.allows(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(EndpointRefused::NotPublic(host)) as BoxError);
            }
            Ok(allowed.into_iter())
        })
    }
}

/// The refusal somewhere in `err`'s chain of causes, if a refusal made it fail.
pub fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<EndpointRefused> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(refused) = err.downcast_ref::<EndpointRefused>() {
            return Some(refused.clone());
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_are_told_apart() {
        for public in ["93.184.216.34", "8.8.8.8", "2a00:1450:4001:80b::200a", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for not in [
            "0.1.2.3",
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.0.1",
            "100.100.0.1",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.251",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001::1",
            "2001:db8::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
        ] {
            assert!(!is_public(not.parse().unwrap()), "{not}");
        }
    }

    #[test]
    fn hosts_match_exactly_or_under_a_wildcard() {
        assert!(host_matches("fcm.googleapis.com", "fcm.googleapis.com"));
        assert!(!host_matches("fcm.googleapis.com", "evil-fcm.googleapis.com.example"));
        assert!(host_matches("*.notify.windows.com", "db5.notify.windows.com"));
        assert!(!host_matches("*.notify.windows.com", "notify.windows.com"));
        assert!(!host_matches("*.notify.windows.com", "evilnotify.windows.com"));
    }
}
