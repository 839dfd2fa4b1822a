//! The activation link `pushotp://enroll?…` (protocol §3).

use core::{fmt, str::FromStr};

use percent_encoding::utf8_percent_encode;
use zeroize::Zeroizing;

use super::wire::check_token_id;
use super::{ACTIVATION_SECRET_LEN, MAX_TEXT_LEN, VERSION};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::text::is_secure_server;
use crate::uri::{COMPONENT, decode_bytes, query_pairs, strip_scheme};

/// The longest activation link accepted, in bytes. Real links are about 150 bytes; the bound
/// keeps a hostile QR code from costing time or memory.
pub const MAX_LINK_LEN: usize = 1024;

const SCHEME: &str = "pushotp://";
const PATH: &str = "enroll";

/// An activation link (protocol §3):
/// `pushotp://enroll?v=2&server=<base URL>&token=<tokenId>&secret=<base32 A>&exp=<unix>`.
///
/// Values are always valid: a base URL of `https://` (or `http://` to this computer: a
/// loopback address or `localhost`) and a host, with no path
/// ending in `/`, no query, no fragment, spaces or control characters, and at most 256 bytes; a
/// token id of 1 to 64 of `A-Z a-z 0-9 _ -`; a 20-byte activation secret. So
/// `link.to_string().parse() == link`.
///
/// Parsing is strict, since the server writes these links and nobody types them: every
/// parameter exactly once, in any order; no other parameter; `v=2`. Only the scheme's case
/// (RFC 3986 §3.1) and the base32 letters' case are free.
///
/// `Debug` hides the secret; [`Display`](fmt::Display) shows it, since it is the whole link.
///
/// ```
/// use pushotp::push::ActivationLink;
/// let link: ActivationLink = "pushotp://enroll?v=2&server=https%3A%2F%2Fauth.example.com\
///     &token=tok_1&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&exp=1764086400".parse()?;
/// assert_eq!(link.server(), "https://auth.example.com");
/// assert_eq!(link.token_id(), "tok_1");
/// assert_eq!(link.secret().expose(), b"12345678901234567890");
/// assert!(link.check_expiry(1_764_086_399).is_ok());
/// # Ok::<(), pushotp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationLink {
    server: String,
    token_id: String,
    secret: Secret,
    expires_at: u64,
}

impl ActivationLink {
    /// A link from its parts. Fails with [`Error::InvalidParameter`] naming `server`, `token`
    /// or `secret` when one breaks the rules above.
    pub fn new(server: &str, token_id: &str, secret: Secret, expires_at: u64) -> Result<Self> {
        check_server(server)?;
        check_token_id(token_id).map_err(|_| Error::InvalidParameter { name: "token" })?;
        if secret.len() != ACTIVATION_SECRET_LEN {
            return Err(Error::InvalidParameter { name: "secret" });
        }
        Ok(Self { server: server.into(), token_id: token_id.into(), secret, expires_at })
    }

    /// The server's base URL, such as `https://auth.example.com`; the device posts to
    /// `{server}/api/v1/enroll`.
    #[must_use]
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The id of the pending token this link activates.
    #[must_use]
    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// The activation secret `A` (protocol §1). Forget it once enrollment is done.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The Unix time from which the server refuses the link.
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// [`Error::Expired`] from `expires_at` on, so a device need not bother the server with a
    /// link it will refuse. The server decides with its own clock.
    pub fn check_expiry(&self, now: u64) -> Result<()> {
        if now < self.expires_at { Ok(()) } else { Err(Error::Expired) }
    }
}

/// A base URL a device may post its enrollment to: a scheme and a host, and nothing that would
/// make `{server}/api/v1/…` point somewhere unexpected; [`Error::InsecureServer`] for
/// `http://` to another computer.
fn check_server(server: &str) -> Result<()> {
    let bad = Error::InvalidParameter { name: "server" };
    if server.len() > MAX_TEXT_LEN {
        return Err(bad);
    }
    let Some(rest) = server.strip_prefix("https://").or_else(|| server.strip_prefix("http://"))
    else {
        return Err(bad);
    };
    let host = rest.split('/').next().unwrap_or_default();
    let clean = |c: char| !c.is_control() && !c.is_whitespace() && !matches!(c, '?' | '#' | '\\');
    if host.is_empty() || host.contains('@') || rest.ends_with('/') || !rest.chars().all(clean) {
        return Err(bad);
    }
    if !is_secure_server(server) {
        return Err(Error::InsecureServer { name: "server" });
    }
    Ok(())
}

impl fmt::Display for ActivationLink {
    /// The canonical link: parameters in the order of protocol §3, the server URL
    /// percent-encoded, the secret as unpadded upper-case base32.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = Zeroizing::new(self.secret.to_base32());
        write!(
            f,
            "{SCHEME}{PATH}?v={VERSION}&server={}&token={}&secret={}&exp={}",
            utf8_percent_encode(&self.server, COMPONENT),
            self.token_id,
            secret.as_str(),
            self.expires_at
        )
    }
}

impl FromStr for ActivationLink {
    type Err = Error;

    /// Parses an activation link. Refused, with the error named: more than [`MAX_LINK_LEN`]
    /// bytes ([`Error::TooLong`]); another scheme ([`Error::WrongScheme`]); another path than
    /// `enroll`, a fragment or an unknown parameter ([`Error::MalformedUri`]); a missing
    /// parameter ([`Error::MissingParameter`]); `v` other than `2`
    /// ([`Error::UnsupportedVersion`]); a parameter given twice, not UTF-8, or breaking the
    /// rules of [`ActivationLink`] ([`Error::InvalidParameter`]).
    fn from_str(link: &str) -> Result<Self> {
        if link.len() > MAX_LINK_LEN {
            return Err(Error::TooLong { max: MAX_LINK_LEN });
        }
        let rest = strip_scheme(link, SCHEME).ok_or(Error::WrongScheme { expected: SCHEME })?;
        if rest.contains('#') {
            return Err(Error::MalformedUri("an activation link has no fragment"));
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path != PATH {
            return Err(Error::MalformedUri("the path must be enroll"));
        }
        let mut params = Params::default();
        for (key, value) in query_pairs(query) {
            let (slot, name) = match key {
                "v" => (&mut params.version, "v"),
                "server" => (&mut params.server, "server"),
                "token" => (&mut params.token, "token"),
                "secret" => (&mut params.secret, "secret"),
                "exp" => (&mut params.exp, "exp"),
                _ => return Err(Error::MalformedUri("unknown parameter")),
            };
            if slot.is_some() {
                return Err(Error::InvalidParameter { name });
            }
            // `+` stays a plus: the server percent-encodes and nothing form-encodes these links.
            let bytes = decode_bytes(value, false);
            let text =
                core::str::from_utf8(&bytes).map_err(|_| Error::InvalidParameter { name })?;
            *slot = Some(Zeroizing::new(String::from(text)));
        }
        let get =
            |slot: Option<Zeroizing<String>>, name| slot.ok_or(Error::MissingParameter { name });
        if get(params.version, "v")?.as_str() != "2" {
            return Err(Error::UnsupportedVersion);
        }
        let server = get(params.server, "server")?;
        let token = get(params.token, "token")?;
        let secret = get(params.secret, "secret")?;
        let exp = get(params.exp, "exp")?;
        // Exactly the 32 letters of 20 bytes: none of the spaces, dashes or padding that
        // `Secret::from_base32` forgives in hand-typed secrets.
        let bad_secret = Error::InvalidParameter { name: "secret" };
        let base32 = |b: u8| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b);
        if secret.len() != 32 || !secret.bytes().all(base32) {
            return Err(bad_secret);
        }
        let secret = Secret::from_base32(&secret).map_err(|_| bad_secret)?;
        let bad_exp = Error::InvalidParameter { name: "exp" };
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_exp);
        }
        let expires_at = exp.parse::<u64>().map_err(|_| bad_exp)?;
        Self::new(&server, &token, secret, expires_at)
    }
}

/// The raw, decoded parameters of a link, each seen at most once.
#[derive(Default)]
struct Params {
    version: Option<Zeroizing<String>>,
    server: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
    secret: Option<Zeroizing<String>>,
    exp: Option<Zeroizing<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn link(query: &str) -> Result<ActivationLink> {
        format!("pushotp://enroll?{query}").parse()
    }

    fn good() -> String {
        format!("v=2&server=https%3A%2F%2Fauth.example.com&token=tok_1&secret={SECRET}&exp=99")
    }

    #[test]
    fn round_trips_and_hides_the_secret() {
        let secret = Secret::from_base32(SECRET).unwrap();
        for server in ["https://auth.example.com", "http://127.0.0.1:8080", "https://h/a/b%20c"] {
            let made =
                ActivationLink::new(server, "tok_A-9", secret.clone(), 1_764_086_400).unwrap();
            let text = made.to_string();
            assert!(text.starts_with("pushotp://enroll?v=2&server=http"), "{text}");
            assert_eq!(text.parse::<ActivationLink>().unwrap(), made, "{text}");
            assert!(!format!("{made:?}").contains(SECRET));
        }
        let parsed = link(&good()).unwrap();
        assert_eq!(parsed.to_string(), format!("pushotp://enroll?{}", good()));
        // Any order, any scheme case, lower-case base32.
        let shuffled = format!(
            "PushOTP://enroll?exp=99&secret={}&token=tok_1&v=2&server=https%3A%2F%2Fauth.example.com",
            SECRET.to_lowercase()
        );
        assert_eq!(shuffled.parse::<ActivationLink>().unwrap(), parsed);
        assert_eq!(parsed.check_expiry(98), Ok(()));
        assert_eq!(parsed.check_expiry(99), Err(Error::Expired));
    }

    #[test]
    fn plain_http_only_for_this_computer() {
        let secret = Secret::from_base32(SECRET).unwrap();
        let make = |server: &str| ActivationLink::new(server, "tok_1", secret.clone(), 0);
        for ok in [
            "https://auth.example.com",
            "http://127.0.0.1:8080",
            "http://127.255.0.1",
            "http://[::1]:8080",
            "http://localhost:3000",
            "http://LocalHost",
        ] {
            assert!(make(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://auth.example.com",
            "http://10.0.0.1:8080",
            "http://128.0.0.1",
            "http://127.0.0.1.evil.example",
            "http://127.evil.example",
            "http://localhost.evil.example",
            "http://evil-localhost",
            "http://[::2]",
            "http://[::1].evil.example",
            "http://2130706433",
            "http://127.0.0.1:8080.evil.example",
        ] {
            assert_eq!(make(bad).map(drop).unwrap_err().code(), "insecure_server", "{bad}");
            let query = good().replace(
                "https%3A%2F%2Fauth.example.com",
                &utf8_percent_encode(bad, COMPONENT).to_string(),
            );
            assert_eq!(link(&query).map(drop).unwrap_err().code(), "insecure_server", "{bad}");
        }
    }

    #[test]
    fn malformed_links_get_typed_errors() {
        let g = good();
        let cases: Vec<(String, Error)> = vec![
            (g.replace("v=2", "v=1"), Error::UnsupportedVersion),
            (g.replace("v=2", "v=02"), Error::UnsupportedVersion),
            (g.replace("v=2&", ""), Error::MissingParameter { name: "v" }),
            (g.replace("&token=tok_1", ""), Error::MissingParameter { name: "token" }),
            (g.replace("&exp=99", ""), Error::MissingParameter { name: "exp" }),
            (
                g.replace(&format!("&secret={SECRET}"), ""),
                Error::MissingParameter { name: "secret" },
            ),
            (format!("{g}&token=tok_1"), Error::InvalidParameter { name: "token" }),
            (format!("{g}&image=x"), Error::MalformedUri("unknown parameter")),
            (format!("{g}&Token=x"), Error::MalformedUri("unknown parameter")),
            (format!("{g}#frag"), Error::MalformedUri("an activation link has no fragment")),
            (g.replace("exp=99", "exp=-1"), Error::InvalidParameter { name: "exp" }),
            (g.replace("exp=99", "exp=+1"), Error::InvalidParameter { name: "exp" }),
            (
                g.replace("exp=99", "exp=18446744073709551616"),
                Error::InvalidParameter { name: "exp" },
            ),
            (g.replace("exp=99", "exp="), Error::InvalidParameter { name: "exp" }),
            (g.replace(SECRET, "GEZDGNBVGY3TQOJQ"), Error::InvalidParameter { name: "secret" }),
            (g.replace(SECRET, "!!"), Error::InvalidParameter { name: "secret" }),
            (g.replace(SECRET, ""), Error::InvalidParameter { name: "secret" }),
            (g.replace(SECRET, &format!("{SECRET}=")), Error::InvalidParameter { name: "secret" }),
            (
                g.replace(SECRET, "GEZD%20GNBVGY3TQOJQGEZDGNBVGY3TQOJ"),
                Error::InvalidParameter { name: "secret" },
            ),
            (
                g.replace(SECRET, "GEZD-GNBVGY3TQOJQGEZDGNBVGY3TQOJ"),
                Error::InvalidParameter { name: "secret" },
            ),
            (
                g.replace(SECRET, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1"),
                Error::InvalidParameter { name: "secret" },
            ),
            (g.replace("tok_1", "tok%201"), Error::InvalidParameter { name: "token" }),
            (g.replace("tok_1", ""), Error::InvalidParameter { name: "token" }),
            (g.replace("tok_1", "%FF"), Error::InvalidParameter { name: "token" }),
        ];
        for (query, error) in &cases {
            assert_eq!(link(query).as_ref(), Err(error), "{query}");
        }
        for server in [
            "ftp%3A%2F%2Fh",
            "https%3A%2F%2F",
            "https%3A%2F%2Fh%2F",
            "https%3A%2F%2Fh%3Fq",
            "https%3A%2F%2Fh%23f",
            "https%3A%2F%2Fh%20x",
            "https%3A%2F%2Fu%40h",
            "https%3A%2F%2Fh%0A",
            "https%3A%2F%2F%2Fpath",
            "%FF",
        ] {
            let query = g.replace("https%3A%2F%2Fauth.example.com", server);
            assert_eq!(link(&query), Err(Error::InvalidParameter { name: "server" }), "{server}");
        }
        for (text, error) in [
            ("", Error::WrongScheme { expected: SCHEME }),
            ("otpauth://enroll?v=2", Error::WrongScheme { expected: SCHEME }),
            ("pushotp://", Error::MalformedUri("the path must be enroll")),
            ("pushotp://enrol?v=2", Error::MalformedUri("the path must be enroll")),
            ("pushotp://enroll/?v=2", Error::MalformedUri("the path must be enroll")),
            ("pushotp://enroll", Error::MissingParameter { name: "v" }),
        ] {
            assert_eq!(text.parse::<ActivationLink>(), Err(error), "{text}");
        }
        let huge = format!("pushotp://enroll?{g}&{}", "x".repeat(MAX_LINK_LEN));
        assert_eq!(huge.parse::<ActivationLink>(), Err(Error::TooLong { max: MAX_LINK_LEN }));
        let long_server = format!("https://{}", "h".repeat(MAX_TEXT_LEN));
        let secret = Secret::from_base32(SECRET).unwrap();
        assert_eq!(
            ActivationLink::new(&long_server, "t", secret.clone(), 0),
            Err(Error::InvalidParameter { name: "server" })
        );
        let short = Secret::from_bytes(vec![1; 16]).unwrap();
        assert_eq!(
            ActivationLink::new("https://h", "t", short, 0),
            Err(Error::InvalidParameter { name: "secret" })
        );
    }
}
