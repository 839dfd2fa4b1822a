//! The enrollment link privacyIDEA shows as a QR code (`otpauth://pipush/…` or, with the
//! `push_use_pia_scheme` policy, `pia://pipush/…`).

use std::string::{String, ToString};

use serde::Serialize;

use crate::text::{is_secure_server, reads_as_is};
use crate::uri::{decode_text, key_is, query_pairs};
use crate::{Error, Result};

/// The longest enrollment link accepted, in bytes.
pub const MAX_ENROLL_LINK_LEN: usize = 4096;

/// A parsed privacyIDEA push enrollment link. Serialises to camelCase for JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollLink {
    /// The label (the path), percent-decoded; often the serial.
    pub label: String,
    /// Where enrollment step 2, polls and answers go: normally `https://<server>/ttype/push`;
    /// `http://` only to this computer.
    pub url: String,
    /// Minutes the server allows for step 2 (advisory; privacyIDEA does not enforce it).
    pub ttl_minutes: u32,
    /// The issuer, `privacyIDEA` by default.
    pub issuer: String,
    /// 40 hex digits that authorise step 2.
    pub enrollment_credential: String,
    /// The token serial, e.g. `PIPU0000D04D`.
    pub serial: String,
    /// Whether the server asks the device to verify TLS certificates.
    pub sslverify: bool,
    /// Whether the token only polls (no Firebase).
    pub poll_only: bool,
    /// `pin=True`: the device must ask for a PIN before answering.
    pub pin: bool,
    /// `app_force_unlock` (`pin`, `biometric` or `any`), if set.
    pub app_force_unlock: Option<String>,
}

fn missing(name: &'static str) -> Error {
    Error::MissingParameter { name }
}

fn invalid(name: &'static str) -> Error {
    Error::InvalidParameter { name }
}

/// Python's `str(True)`/`str(False)`, also `1`/`0` and lower case.
fn flag(value: &str, name: &'static str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(invalid(name)),
    }
}

/// Text that can go into a `|`-joined signed string unchanged, into storage safely, and on a
/// screen as it is (no control or format characters).
fn plain(value: &str) -> bool {
    !value.is_empty() && value.len() <= 256 && !value.contains('|') && reads_as_is(value)
}

impl core::str::FromStr for EnrollLink {
    type Err = Error;

    /// Parses a link as privacyIDEA 3.14 writes it (`create_push_token_url`): parameters
    /// percent-encoded, booleans as `True`/`False`. Unknown parameters (such as `image`) are
    /// ignored.
    fn from_str(link: &str) -> Result<Self> {
        if link.len() > MAX_ENROLL_LINK_LEN {
            return Err(Error::TooLong { max: MAX_ENROLL_LINK_LEN });
        }
        let link = link.trim();
        let rest = ["otpauth://", "pia://"]
            .iter()
            .find_map(|scheme| {
                link.get(..scheme.len())
                    .filter(|head| head.eq_ignore_ascii_case(scheme))
                    .and_then(|_| link.get(scheme.len()..))
            })
            .ok_or(Error::WrongScheme { expected: "otpauth://pipush/" })?;
        let rest = rest
            .get(..7)
            .filter(|host| host.eq_ignore_ascii_case("pipush/"))
            .and_then(|_| rest.get(7..))
            .ok_or(Error::WrongScheme { expected: "otpauth://pipush/" })?;
        let (path, query) = rest.split_once('?').ok_or(Error::MalformedUri("no parameters"))?;
        let label =
            decode_text(path, false).ok_or(Error::MalformedUri("the label is not UTF-8"))?;
        if !reads_as_is(&label) {
            return Err(invalid("label"));
        }

        let get = |name: &'static str| -> Result<Option<String>> {
            query_pairs(query)
                .find(|(key, _)| key_is(key, name))
                .map(|(_, value)| decode_text(value, false).ok_or_else(|| invalid(name)))
                .transpose()
        };
        let required = |name: &'static str| get(name)?.ok_or_else(|| missing(name));

        if required("v")? != "1" {
            return Err(Error::UnsupportedVersion);
        }
        let url = required("url")?;
        let scheme_ok = ["https://", "http://"]
            .iter()
            .any(|s| url.get(..s.len()).is_some_and(|h| h.eq_ignore_ascii_case(s)));
        if !scheme_ok || !plain(&url) || url.contains(char::is_whitespace) {
            return Err(invalid("url"));
        }
        // Enrollment step 2 has no MAC: over plain http anyone on the way could swap the
        // device's or the server's key.
        if !is_secure_server(&url) {
            return Err(Error::InsecureServer { name: "url" });
        }
        let serial = required("serial")?;
        if !plain(&serial)
            || !serial.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid("serial"));
        }
        let enrollment_credential = required("enrollment_credential")?;
        if enrollment_credential.len() != 40
            || !enrollment_credential.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid("enrollment_credential"));
        }
        let ttl_minutes = match get("ttl")? {
            Some(ttl) => ttl.parse().map_err(|_| invalid("ttl"))?,
            None => 10,
        };
        let issuer = get("issuer")?.unwrap_or_else(|| "privacyIDEA".to_string());
        if !plain(&issuer) {
            return Err(invalid("issuer"));
        }
        let sslverify = get("sslverify")?.map_or(Ok(true), |v| flag(&v, "sslverify"))?;
        let poll_only = get("poll_only")?.map_or(Ok(false), |v| flag(&v, "poll_only"))?;
        let pin = get("pin")?.map_or(Ok(false), |v| flag(&v, "pin"))?;
        let app_force_unlock = get("app_force_unlock")?.filter(|v| !v.is_empty());
        if app_force_unlock.as_deref().is_some_and(|v| !plain(v)) {
            return Err(invalid("app_force_unlock"));
        }
        Ok(Self {
            label: if label.is_empty() { serial.clone() } else { label },
            url,
            ttl_minutes,
            issuer,
            enrollment_credential,
            serial,
            sslverify,
            poll_only,
            pin,
            app_force_unlock,
        })
    }
}

impl EnrollLink {
    /// Whether the device must unlock (PIN, or the browser's user verification) before it
    /// answers a challenge of this token.
    #[must_use]
    pub fn needs_unlock(&self) -> bool {
        self.pin || self.app_force_unlock.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTPAUTH: &str = "otpauth://pipush/PIPU0000C99F?url=https%3A//pi.example.test/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=7ac8e998b0132088906bf7a49cc607a2e4d83584&v=1&serial=PIPU0000C99F&sslverify=1&poll_only=True";
    const LOCAL: &str = "otpauth://pipush/PIPU0000D04D?url=http%3A//127.0.0.1%3A5001/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=b8b38aa170aa0ffc4cb593eee68ccad6b39efe8b&v=1&serial=PIPU0000D04D&sslverify=0&poll_only=True";

    #[test]
    fn parses_the_links_privacyidea_writes() {
        let link: EnrollLink = OTPAUTH.parse().unwrap();
        assert_eq!(
            link,
            EnrollLink {
                label: "PIPU0000C99F".into(),
                url: "https://pi.example.test/ttype/push".into(),
                ttl_minutes: 10,
                issuer: "privacyIDEA".into(),
                enrollment_credential: "7ac8e998b0132088906bf7a49cc607a2e4d83584".into(),
                serial: "PIPU0000C99F".into(),
                sslverify: true,
                poll_only: true,
                pin: false,
                app_force_unlock: None,
            }
        );
        assert!(!link.needs_unlock());
        let local: EnrollLink = LOCAL.parse().unwrap();
        assert_eq!(local.url, "http://127.0.0.1:5001/ttype/push");
        assert!(!local.sslverify);
        let pia: EnrollLink = LOCAL.replacen("otpauth://", "pia://", 1).parse().unwrap();
        assert_eq!(pia, local);
        let locked: EnrollLink =
            format!("{LOCAL}&pin=True&app_force_unlock=any&image=https%3A//x/y.png")
                .parse()
                .unwrap();
        assert!(locked.pin && locked.needs_unlock());
        assert_eq!(locked.app_force_unlock.as_deref(), Some("any"));
        let labelled: EnrollLink =
            LOCAL.replace("pipush/PIPU0000D04D", "pipush/alice%40realm1").parse().unwrap();
        assert_eq!(labelled.label, "alice@realm1");
    }

    #[test]
    fn plain_http_only_for_this_computer() {
        let at = |url: &str| LOCAL.replace("http%3A//127.0.0.1%3A5001/ttype/push", url);
        for ok in ["http%3A//localhost%3A5001/ttype/push", "http%3A//%5B%3A%3A1%5D/ttype/push"] {
            assert!(at(ok).parse::<EnrollLink>().is_ok(), "{ok}");
        }
        for bad in [
            "http%3A//pi.example.test/ttype/push",
            "HTTP%3A//pi.example.test/ttype/push",
            "http%3A//127.0.0.1.evil.example/ttype/push",
            "http%3A//127.0.0.1%40evil.example/ttype/push",
            "http%3A//127.0.0.1%3A5001%40evil.example/ttype/push",
            "http%3A//user%3Apass%40localhost/ttype/push",
        ] {
            let err = at(bad).parse::<EnrollLink>().map(drop).unwrap_err();
            assert_eq!(err.code(), "insecure_server", "{bad}");
        }
    }

    #[test]
    fn refuses_names_that_hide_characters() {
        for hidden in ["%E2%80%AE", "%E2%81%A6", "%E2%80%8B", "%C2%AD", "%EF%BB%BF", "%C2%85"] {
            let issuer = LOCAL.replace("issuer=privacyIDEA", &format!("issuer=moc.{hidden}knab"));
            assert_eq!(issuer.parse::<EnrollLink>(), Err(invalid("issuer")), "{hidden}");
            let label = LOCAL.replace("pipush/PIPU0000D04D", &format!("pipush/moc.{hidden}knab"));
            assert_eq!(label.parse::<EnrollLink>(), Err(invalid("label")), "{hidden}");
        }
    }

    #[test]
    fn refuses_broken_links() {
        let cases: [(String, Error); 8] = [
            (
                LOCAL.replace("otpauth://pipush/", "otpauth://totp/"),
                Error::WrongScheme { expected: "otpauth://pipush/" },
            ),
            (
                LOCAL.replace("otpauth://", "https://"),
                Error::WrongScheme { expected: "otpauth://pipush/" },
            ),
            (LOCAL.replace("&v=1", "&v=2"), Error::UnsupportedVersion),
            (LOCAL.replace("&v=1", ""), Error::MissingParameter { name: "v" }),
            (
                LOCAL.replace("enrollment_credential=b8", "enrollment_credential=zz"),
                invalid("enrollment_credential"),
            ),
            (LOCAL.replace("url=http%3A", "url=javascript%3A"), invalid("url")),
            (LOCAL.replace("serial=PIPU0000D04D", "serial=PIPU%7C1"), invalid("serial")),
            (LOCAL.replace("sslverify=0", "sslverify=maybe"), invalid("sslverify")),
        ];
        for (link, err) in cases {
            assert_eq!(link.parse::<EnrollLink>(), Err(err), "{link}");
        }
        assert!("otpauth://pipush/x".parse::<EnrollLink>().is_err());
    }
}
