//! The check of one challenge as `GET /ttype/push` lists it, before its signatures are
//! verified and it is shown.

use std::string::String;
use std::vec::Vec;

use super::{Challenge, capabilities_message, offers_decline_reason};
use crate::text::reads_as_is;
use crate::value::Value;
use crate::{Error, Result};

/// A challenge whose fields [`check_challenge`] found complete, with what its signatures sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedChallenge {
    /// The challenge's nonce.
    pub nonce: String,
    /// Where the answer goes, exactly as sent.
    pub url: String,
    /// The token's serial.
    pub serial: String,
    /// The text to show.
    pub question: String,
    /// Its title.
    pub title: String,
    /// `"0"` or `"1"`, as sent.
    pub sslverify: String,
    /// The comma-joined presence options, when the field is text.
    pub require_presence: Option<String>,
    /// What `capabilities_signature` signs, when the challenge has capabilities
    /// ([`capabilities_message`]).
    pub capabilities_message: Option<String>,
    /// Whether the capabilities offer decline reasons (`decline_reason: true`).
    pub decline_reason: bool,
}

impl CheckedChallenge {
    /// The challenge's fields as the signed string is built from them.
    #[must_use]
    pub fn challenge(&self) -> Challenge<'_> {
        Challenge {
            nonce: &self.nonce,
            url: &self.url,
            serial: &self.serial,
            question: &self.question,
            title: &self.title,
            sslverify: &self.sslverify,
            require_presence: self.require_presence.as_deref(),
        }
    }

    /// What the challenge's `signature` signs ([`Challenge::message`]).
    #[must_use]
    pub fn message(&self) -> String {
        self.challenge().message()
    }

    /// The options a presence challenge offers, in the server's order (empty ones left out);
    /// `None` when it is no presence challenge (no `require_presence`, or an empty one).
    #[must_use]
    pub fn choices(&self) -> Option<Vec<&str>> {
        self.require_presence
            .as_deref()
            .filter(|options| !options.is_empty())
            .map(|options| options.split(',').filter(|o| !o.is_empty()).collect())
    }
}

/// Checks one challenge of the token `serial` (one element of the poll's `result.value`, as
/// parsed JSON) before its signatures are verified:
///
/// - `nonce`, `url`, `serial`, `question`, `title` and `sslverify` are text (their length is
///   the server's; all of them are signed) without control or format characters (Cc, Cf), as
///   is `require_presence`, so that what the person reads is what was sent;
/// - `serial` is the polling token's;
/// - `require_presence`, when it is text, is part of the signed string; otherwise it is left
///   out;
/// - when `capabilities` or `capabilities_signature` is there (neither `undefined` nor
///   `null`), `capabilities` is the text of a JSON object that RFC 8785 covers, and the
///   signed capabilities and whether they offer decline reasons come from it.
///
/// What is left for the caller, with the server's key: the `signature` over
/// [`CheckedChallenge::message`] and, with capabilities, the `capabilities_signature` over
/// [`CheckedChallenge::capabilities_message`]. Only then is the challenge shown.
///
/// # Errors
/// [`Error::InvalidMessage`] for a field that is missing or not text or that has a control or
/// format character, or a challenge of another token; [`Error::InvalidMessage`] or
/// [`Error::TooLong`] for capabilities that [`capabilities_message`] refuses.
pub fn check_challenge(challenge: &Value, serial: &str) -> Result<CheckedChallenge> {
    let text = |name: &str| challenge.get(name).as_str().map(String::from);
    let (Some(nonce), Some(url), Some(sent_serial), Some(question), Some(title), Some(sslverify)) = (
        text("nonce"),
        text("url"),
        text("serial"),
        text("question"),
        text("title"),
        text("sslverify"),
    ) else {
        return Err(Error::InvalidMessage(
            "a challenge's nonce, url, serial, question, title and sslverify must be text",
        ));
    };
    if sent_serial != serial {
        return Err(Error::InvalidMessage("the challenge is for another token"));
    }
    let require_presence = text("require_presence");
    // What is shown (question, title, presence options) or goes into an address must read as
    // it is; the rest is held to the same rule, since no honest server needs more.
    let presence = require_presence.as_deref().unwrap_or_default();
    let fields = [&nonce, &url, &question, &title, &sslverify, presence];
    if !fields.iter().all(|field| reads_as_is(field)) {
        return Err(Error::InvalidMessage(
            "a challenge's text must have no control or format characters",
        ));
    }
    let (capabilities_message, decline_reason) = if challenge.get("capabilities").is_nullish()
        && challenge.get("capabilities_signature").is_nullish()
    {
        (None, false)
    } else {
        let capabilities = challenge
            .get("capabilities")
            .as_str()
            .ok_or(Error::InvalidMessage("capabilities must be the text of a JSON object"))?;
        (Some(capabilities_message(capabilities, &nonce)?), offers_decline_reason(capabilities)?)
    };
    Ok(CheckedChallenge {
        require_presence,
        nonce,
        url,
        serial: sent_serial,
        question,
        title,
        sslverify,
        capabilities_message,
        decline_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIAL: &str = "PIPU0001AC85";
    const NONCE: &str = "25DJKXJTUDC627FAGN3H7SZGYO5UMZMF";

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    /// A challenge as privacyIDEA 3.14 lists it, with `changes` set over it.
    fn challenge(changes: &[(&str, Value)]) -> Value {
        let mut fields: Vec<(String, Value)> = [
            ("nonce", text(NONCE)),
            ("url", text("http://127.0.0.1:5001/ttype/push")),
            ("serial", text(SERIAL)),
            ("question", text("Confirm the login?")),
            ("title", text("privacyIDEA")),
            ("sslverify", text("0")),
            ("signature", text("AAAA")),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
        for (name, value) in changes {
            fields.retain(|(n, _)| n != name);
            fields.push(((*name).into(), value.clone()));
        }
        Value::Object(fields)
    }

    #[test]
    fn a_standard_challenge_gives_its_signed_string() {
        let checked = check_challenge(&challenge(&[]), SERIAL).unwrap();
        assert_eq!(
            checked.message(),
            format!(
                "{NONCE}|http://127.0.0.1:5001/ttype/push|{SERIAL}|Confirm the login?|privacyIDEA|0"
            )
        );
        assert_eq!(checked.choices(), None);
        assert_eq!(checked.capabilities_message, None);
        assert!(!checked.decline_reason);
    }

    #[test]
    fn presence_options_are_signed_and_offered() {
        let checked =
            check_challenge(&challenge(&[("require_presence", text("U,,S,V"))]), SERIAL).unwrap();
        assert!(checked.message().ends_with("|0|U,,S,V"));
        assert_eq!(checked.choices(), Some(vec!["U", "S", "V"]));
        // Empty: signed, but no presence challenge; only commas: one with no options.
        let empty = check_challenge(&challenge(&[("require_presence", text(""))]), SERIAL).unwrap();
        assert!(empty.message().ends_with("|0|"));
        assert_eq!(empty.choices(), None);
        let commas =
            check_challenge(&challenge(&[("require_presence", text(","))]), SERIAL).unwrap();
        assert_eq!(commas.choices(), Some(vec![]));
        // Not text: left out of the signed string.
        let number =
            check_challenge(&challenge(&[("require_presence", Value::Number(1.0))]), SERIAL)
                .unwrap();
        assert_eq!(number.require_presence, None);
        assert!(number.message().ends_with("|privacyIDEA|0"));
    }

    #[test]
    fn capabilities_are_signed_with_the_nonce() {
        let checked = check_challenge(
            &challenge(&[
                ("capabilities", text("{\"decline_reason\": true}")),
                ("capabilities_signature", text("AAAA")),
            ]),
            SERIAL,
        )
        .unwrap();
        assert_eq!(
            checked.capabilities_message.as_deref(),
            Some(
                format!("{{\"capabilities\":{{\"decline_reason\":true}},\"nonce\":\"{NONCE}\"}}")
                    .as_str()
            )
        );
        assert!(checked.decline_reason);
        let without = check_challenge(
            &challenge(&[
                ("capabilities", text("{\"other\": true}")),
                ("capabilities_signature", Value::Null),
            ]),
            SERIAL,
        )
        .unwrap();
        assert!(without.capabilities_message.is_some());
        assert!(!without.decline_reason);
    }

    #[test]
    fn text_that_hides_characters_is_refused() {
        // A bidi override, isolate, zero-width space, soft hyphen, BOM, tag (Cf), and C0 and C1
        // controls: the text would not read as it is.
        for hidden in [
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{ad}',
            '\u{feff}',
            '\u{e0041}',
            '\u{7}',
            '\u{85}',
        ] {
            for field in ["question", "title", "require_presence", "url", "nonce", "sslverify"] {
                let bad = challenge(&[(field, text(&format!("moc.{hidden}knab")))]);
                assert_eq!(
                    check_challenge(&bad, SERIAL).map(drop).unwrap_err().code(),
                    "invalid_message",
                    "{field} {hidden:?}"
                );
            }
        }
    }

    #[test]
    fn incomplete_or_foreign_challenges_are_refused() {
        for (bad, code) in [
            (Value::Null, "invalid_message"),
            (text("challenge"), "invalid_message"),
            (challenge(&[("nonce", Value::Undefined)]), "invalid_message"),
            (challenge(&[("url", Value::Null)]), "invalid_message"),
            (challenge(&[("question", Value::Number(1.0))]), "invalid_message"),
            (challenge(&[("title", Value::Array(vec![text("privacyIDEA")]))]), "invalid_message"),
            (challenge(&[("sslverify", Value::Bool(false))]), "invalid_message"),
            (challenge(&[("serial", text("PIPU0000FFFF"))]), "invalid_message"),
            // A signature for capabilities that are not there, or capabilities that are no
            // JSON object's text.
            (challenge(&[("capabilities_signature", text("AAAA"))]), "invalid_message"),
            (challenge(&[("capabilities", Value::Bool(true))]), "invalid_message"),
            (challenge(&[("capabilities", text("[\"decline_reason\"]"))]), "invalid_message"),
            (challenge(&[("capabilities", text("{\"a\": 1.5}"))]), "invalid_message"),
            (challenge(&[("capabilities", text("{\"a\": 1, \"a\": 2}"))]), "invalid_message"),
            (
                challenge(&[(
                    "capabilities",
                    text(&format!("{{\"a\": \"{}\"}}", "x".repeat(5000))),
                )]),
                "too_long",
            ),
        ] {
            assert_eq!(
                check_challenge(&bad, SERIAL).map(drop).unwrap_err().code(),
                code,
                "{bad:?}"
            );
        }
    }
}
