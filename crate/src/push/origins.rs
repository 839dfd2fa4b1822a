//! Where an approval's sign-in code may be typed (protocol §4, "Where the sign-in code goes"):
//! only at the login pages a token serves, so that no server can have its codes typed into
//! another site by naming that site as a request's origin.

use crate::tokens::is_web_origin;

/// Whether the device may fill the sign-in code of an approved request naming `origin` into pages
/// of that origin, for a token of `server` (its base URL, protocol §3). Yes only for an origin
/// as browsers write it that is the server's own origin (its base URL without the path), one
/// the server declared at enrollment (`login_origins`, §3) or one the person confirmed for the
/// token (`sites`). A request naming any other origin is still shown, so that the person can
/// deny or report it, but its sign-in code is typed nowhere.
///
/// `allowed` are the token's declared and confirmed origins together.
#[must_use]
pub fn may_fill<'a>(
    server: &str,
    allowed: impl IntoIterator<Item = &'a str>,
    origin: &str,
) -> bool {
    is_web_origin(origin)
        && (server_origin(server) == Some(origin) || allowed.into_iter().any(|a| a == origin))
}

/// The origin of a server's base URL: `scheme://host[:port]`, the path left out. Byte by byte,
/// without `str`'s searchers, which would make the WebAssembly module larger.
fn server_origin(server: &str) -> Option<&str> {
    let bytes = server.as_bytes();
    let host_at = bytes.windows(3).position(|w| w == b"://")? + 3;
    let path = bytes.iter().skip(host_at).position(|&b| b == b'/');
    server.get(..path.map_or(bytes.len(), |path| host_at + path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: [&str; 0] = [];

    #[test]
    fn the_servers_own_origin_declared_and_confirmed_ones_are_filled() {
        assert!(may_fill("https://auth.example.com", NONE, "https://auth.example.com"));
        // A path is no part of the origin.
        assert!(may_fill("https://example.com/pushotp", NONE, "https://example.com"));
        assert!(may_fill("http://127.0.0.1:8080", NONE, "http://127.0.0.1:8080"));
        let allowed = ["https://portal.example.com", "https://intranet.example.org"];
        assert!(may_fill("https://auth.example.com", allowed, "https://portal.example.com"));
        assert!(may_fill("https://auth.example.com", allowed, "https://intranet.example.org"));
    }

    #[test]
    fn every_other_origin_is_refused() {
        let declared = ["https://portal.example.com"];
        let server = "https://auth.example.com";
        for other in [
            "https://bank.example",
            // Same host, another scheme or port, is another origin.
            "http://auth.example.com",
            "https://auth.example.com:8443",
            "https://portal.example.com.evil.example",
            "https://example.com",
            // Not an origin as browsers write it, even if it starts like an allowed one.
            "https://auth.example.com/",
            "https://auth.example.com/login",
            "HTTPS://auth.example.com",
            "",
        ] {
            assert!(!may_fill(server, declared, other), "{other}");
        }
        // An entry of the lists that is no origin matches nothing that is one.
        assert!(!may_fill(server, ["https://x.example/"], "https://x.example"));
        assert!(!may_fill(server, ["https://x.example/"], "https://x.example/"));
        assert!(!may_fill("not a url", NONE, "https://x.example"));
    }
}
