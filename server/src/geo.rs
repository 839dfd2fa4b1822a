//! Where a login comes from: the client's IP (from the socket, or from a trusted reverse
//! proxy's header) and its place in an optional GeoIP City database (MaxMind DB format).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use anyhow::Context;
use axum::http::HeaderMap;
use maxminddb::{Reader, geoip2};

/// A place as the push request carries it: integer micro-degrees so that both sides MAC the
/// same bytes (docs/protocol.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// City name in English, empty when the database knows only the country.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Latitude in millionths of a degree.
    pub lat_e6: i64,
    /// Longitude in millionths of a degree.
    pub lon_e6: i64,
}

/// Where the demo places sign-ins from this machine: an address of London in MaxMind's test
/// database (`server/testdata/geoip/README.md`), documented in the README. Only `serve --demo`
/// uses it; a server that is not a demo never changes a client's address.
pub const DEMO_CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(81, 2, 69, 142));

/// MaxMind's public GeoIP2 City test database (22 KB, MIT or Apache-2.0), built in so that the
/// demo shows places and maps without a GeoIP download.
const TEST_DATABASE: &[u8] = include_bytes!("../testdata/geoip/GeoIP2-City-Test.mmdb");

/// The GeoIP City database, if one is configured.
pub struct Geo {
    reader: Option<Reader<Vec<u8>>>,
}

impl Geo {
    /// No database: logins have no place.
    pub fn none() -> Self {
        Self { reader: None }
    }

    /// Opens a GeoIP2/GeoLite2 City database file.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let reader = Reader::open_readfile(path)
            .with_context(|| format!("opening the GeoIP database {}", path.display()))?;
        Ok(Self { reader: Some(reader) })
    }

    /// The built-in test database, for the demo: it knows only a few made-up networks, among
    /// them [`DEMO_CLIENT_IP`].
    pub fn demo() -> anyhow::Result<Self> {
        let reader = Reader::from_source(TEST_DATABASE.to_vec())
            .context("opening the built-in GeoIP test database")?;
        Ok(Self { reader: Some(reader) })
    }

    /// The place of `ip`, when the database has one with coordinates.
    pub fn place(&self, ip: IpAddr) -> Option<Place> {
        let reader = self.reader.as_ref()?;
        let city: geoip2::City<'_> = reader.lookup(ip).ok()?.decode().ok()??;
        let lat = city.location.latitude?;
        let lon = city.location.longitude?;
        Some(Place {
            city: city.city.names.english.unwrap_or_default().to_owned(),
            country: city.country.iso_code.unwrap_or_default().to_owned(),
            lat_e6: micro_degrees(lat)?,
            lon_e6: micro_degrees(lon)?,
        })
    }
}

#[allow(clippy::cast_possible_truncation, reason = "checked to be within ±180°")]
fn micro_degrees(degrees: f64) -> Option<i64> {
    (degrees.is_finite() && degrees.abs() <= 180.0).then(|| (degrees * 1e6).round() as i64)
}

/// The client's IP: the peer address, unless the peer is the configured trusted proxy, in
/// which case the last address of its `X-Forwarded-For` header (the one that proxy added).
/// Never trusts the header from anyone else, since a client can write it.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted_proxy: Option<IpAddr>) -> IpAddr {
    if trusted_proxy != Some(peer.ip()) {
        return peer.ip();
    }
    // Only the last entry is the proxy's own; anything before it came from the client. If that
    // entry is unreadable, fall back to the proxy rather than to a client-written one.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer.ip())
}

/// The address a sign-in is shown and placed with: in the demo (`demo` is
/// [`DEMO_CLIENT_IP`]) one from this machine stands for the demo address, since loopback has no
/// place; any other address, and every address outside the demo, stays as it is.
pub fn shown_ip(ip: IpAddr, demo: Option<IpAddr>) -> IpAddr {
    match demo {
        Some(demo) if ip.is_loopback() => demo,
        _ => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_db() -> Geo {
        Geo::open(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/geoip/GeoIP2-City-Test.mmdb"),
        )
        .unwrap()
    }

    #[test]
    fn known_addresses_have_places() {
        let geo = test_db();
        let london = geo.place("81.2.69.142".parse().unwrap()).unwrap();
        assert_eq!(london.city, "London");
        assert_eq!(london.country, "GB");
        assert_eq!((london.lat_e6, london.lon_e6), (51_514_200, -93_100));
        assert_eq!(geo.place("127.0.0.1".parse().unwrap()), None);
        assert_eq!(Geo::none().place("81.2.69.142".parse().unwrap()), None);
    }

    #[test]
    fn the_demo_places_this_machine_at_the_demo_address() {
        let geo = Geo::demo().unwrap();
        let place = geo.place(DEMO_CLIENT_IP).unwrap();
        assert_eq!((place.city.as_str(), place.country.as_str()), ("London", "GB"));
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let remote: IpAddr = "89.160.20.112".parse().unwrap();
        assert_eq!(shown_ip(local, Some(DEMO_CLIENT_IP)), DEMO_CLIENT_IP);
        assert_eq!(shown_ip("::1".parse().unwrap(), Some(DEMO_CLIENT_IP)), DEMO_CLIENT_IP);
        assert_eq!(shown_ip(remote, Some(DEMO_CLIENT_IP)), remote);
        assert_eq!(shown_ip(local, None), local);
    }

    #[test]
    fn forwarded_for_counts_only_from_the_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.1.1.1, 81.2.69.142".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let stranger: SocketAddr = "192.0.2.9:4000".parse().unwrap();
        let trusted = Some(proxy.ip());
        assert_eq!(client_ip(proxy, &headers, trusted), "81.2.69.142".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(stranger, &headers, trusted), stranger.ip());
        assert_eq!(client_ip(proxy, &headers, None), proxy.ip());
        assert_eq!(client_ip(proxy, &HeaderMap::new(), trusted), proxy.ip());
        // A forged first entry never wins over an unreadable last one.
        headers.insert("x-forwarded-for", "81.2.69.142, garbage".parse().unwrap());
        assert_eq!(client_ip(proxy, &headers, trusted), proxy.ip());
    }
}
