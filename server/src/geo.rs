//! Where a login comes from: the client's IP (from the socket, or from a trusted reverse
//! proxy's header) and its place in an optional GeoIP City database (MaxMind DB format).

use std::net::{IpAddr, SocketAddr};
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
