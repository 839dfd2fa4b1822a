//! Notices about a token, server to device (protocol §4, "Notices about a token"): wrong
//! passcodes are being typed for the person's account, another authenticator was added to it,
//! or an approval failed (a wrong PIN, a wrong number).

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::wire::{b64, check_token_id, check_version};
use super::{Tag, VERSION, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What a notice tells the person (protocol §4). JSON: `"wrong_passcodes"`,
/// `"authenticator_added"` or `"failed_approvals"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Wrong passcodes were typed at the sign-in page in a row, past the free ones: someone who
    /// knows the password is guessing, and typed passcodes now wait.
    WrongPasscodes,
    /// Another authenticator was enrolled for the same person.
    AuthenticatorAdded,
    /// An approval of one of the person's push requests failed and was counted against its
    /// token (a wrong PIN, a wrong number, an answer under the wrong keys): whoever made it may
    /// be guessing the PIN, or tapping numbers blindly.
    FailedApprovals,
}

impl NoticeKind {
    /// Every kind, in the order of the protocol's list.
    pub const ALL: [Self; 3] =
        [Self::WrongPasscodes, Self::AuthenticatorAdded, Self::FailedApprovals];

    /// The name in JSON and in the MAC input.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::WrongPasscodes => "wrong_passcodes",
            Self::AuthenticatorAdded => "authenticator_added",
            Self::FailedApprovals => "failed_approvals",
        }
    }
}

/// A notice about token `tokenId` (protocol §4): the device tells the person, and keeps it on
/// the token's line until it is dismissed.
///
/// Tagged under the token's `K_req`, with a purpose of its own, so that nobody but the server
/// can alarm a device, and no request or end notice passes for one. `at` is when it happened;
/// a device shows a notice only when it is newer than the last one of its kind it showed for
/// the token, so a replayed one shows nothing.
///
/// JSON: `{"v":2,"tokenId":…,"kind":"wrong_passcodes","at":1764000031,"tag":…}`, unknown fields
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenNotice {
    /// Protocol version: 2.
    pub v: u32,
    /// The token the notice is for, whose `K_req` tags it.
    pub token_id: String,
    /// What happened.
    pub kind: NoticeKind,
    /// When it happened, Unix seconds.
    pub at: u64,
    /// `mac(K_req, "token-notice", str(tokenId), str(kind), u64(at))`.
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl TokenNotice {
    /// The server's notice to `token_id`, tagged under its `K_req`. Fails on a token id that
    /// breaks the field rules.
    pub fn new(token_id: &str, kind: NoticeKind, at: u64, k_req: &Secret) -> Result<Self> {
        let mut notice = Self { v: VERSION, token_id: token_id.to_owned(), kind, at, tag: [0; 32] };
        notice.check()?;
        notice.tag = notice.canonical().mac(k_req);
        Ok(notice)
    }

    /// The MAC input of `tag` (§4): `str(tokenId), str(kind), u64(at)`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        Canonical::new(purpose::TOKEN_NOTICE).str(&self.token_id).str(self.kind.name()).u64(self.at)
    }

    /// The device's check before it shows the notice, in this order:
    /// [`Error::UnsupportedVersion`], [`Error::InvalidMessage`] for a token id that breaks the
    /// field rules, [`Error::BadTag`] unless the tag verifies under the token's `K_req`.
    pub fn verify(&self, k_req: &Secret) -> Result<()> {
        let fields = (self.v, self.token_id.as_str(), self.kind.name(), self.at, &self.tag[..]);
        verify_token_notice(fields, k_req).map(|_| ())
    }

    fn check(&self) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)
    }
}

/// The device's check of a notice whose fields arrive one by one, `(v, tokenId, kind, at,
/// tag)`, `kind` by its name and `tag` as its bytes (so that the extension holds no deserializer
/// for it): [`TokenNotice::verify`]'s checks in its order, with [`Error::InvalidMessage`] for an
/// unknown kind too. The kind, once it verifies.
pub fn verify_token_notice(
    (v, token_id, kind, at, tag): (u32, &str, &str, u64, &[u8]),
    k_req: &Secret,
) -> Result<NoticeKind> {
    check_version(v)?;
    check_token_id(token_id)?;
    let kind =
        NoticeKind::ALL.into_iter().find(|k| k.name() == kind).ok_or(Error::InvalidMessage(
            "kind must be wrong_passcodes, authenticator_added or failed_approvals",
        ))?;
    let input = Canonical::new(purpose::TOKEN_NOTICE).str(token_id).str(kind.name()).u64(at);
    if input.verify(k_req, tag) { Ok(kind) } else { Err(Error::BadTag) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_req() -> Secret {
        Secret::from_bytes(vec![0x42; 32]).unwrap()
    }

    fn notice() -> TokenNotice {
        TokenNotice::new("tok_1", NoticeKind::WrongPasscodes, 1_764_000_031, &k_req()).unwrap()
    }

    #[test]
    fn json_round_trip() {
        let notice = notice();
        let json = serde_json::to_string(&notice).unwrap();
        assert!(
            json.starts_with(
                r#"{"v":2,"tokenId":"tok_1","kind":"wrong_passcodes","at":1764000031,"tag":""#
            ),
            "{json}"
        );
        let back: TokenNotice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, notice);
        back.verify(&k_req()).unwrap();
    }

    #[test]
    fn every_field_is_covered_by_the_tag() {
        let good = notice();
        assert_eq!(good.verify(&k_req()), Ok(()));
        let other_key = Secret::from_bytes(vec![0x43; 32]).unwrap();
        assert_eq!(good.verify(&other_key), Err(Error::BadTag));
        let changes: &[fn(&mut TokenNotice)] = &[
            |n| n.tag[0] ^= 1,
            |n| n.token_id = "tok_2".into(),
            |n| n.kind = NoticeKind::AuthenticatorAdded,
            |n| n.at += 1,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut bad = good.clone();
            change(&mut bad);
            assert_eq!(bad.verify(&k_req()), Err(Error::BadTag), "change {i}");
        }
        let mut bad = good.clone();
        bad.v = 1;
        assert_eq!(bad.verify(&k_req()), Err(Error::UnsupportedVersion));
        let mut bad = good;
        bad.token_id = "tok 1".into();
        assert!(matches!(bad.verify(&k_req()), Err(Error::InvalidMessage(_))));
        assert!(matches!(
            TokenNotice::new("", NoticeKind::AuthenticatorAdded, 1, &k_req()),
            Err(Error::InvalidMessage(_))
        ));
    }

    #[test]
    fn no_other_tag_under_the_same_key_passes_for_a_notice() {
        // The same fields under the purposes of the other messages tagged with `K_req`.
        let notice = notice();
        for other in [purpose::PUSH_REQUEST, purpose::PUSH_ENDED, purpose::RESTORED_ELSEWHERE] {
            let mut forged = notice.clone();
            forged.tag = Canonical::new(other)
                .str(&notice.token_id)
                .str(notice.kind.name())
                .u64(notice.at)
                .mac(&k_req());
            assert_eq!(forged.verify(&k_req()), Err(Error::BadTag), "{other}");
        }
    }

    #[test]
    fn fields_one_by_one_are_checked_the_same_way() {
        let n = notice();
        fn fields<'a>(
            kind: &'a str,
            at: u64,
            tag: &'a [u8],
        ) -> (u32, &'a str, &'a str, u64, &'a [u8]) {
            (2, "tok_1", kind, at, tag)
        }
        let good = fields("wrong_passcodes", n.at, &n.tag);
        assert_eq!(verify_token_notice(good, &k_req()), Ok(NoticeKind::WrongPasscodes));
        let failed =
            TokenNotice::new("tok_1", NoticeKind::FailedApprovals, n.at, &k_req()).unwrap();
        let failed_fields = fields("failed_approvals", n.at, &failed.tag);
        assert_eq!(verify_token_notice(failed_fields, &k_req()), Ok(NoticeKind::FailedApprovals));
        for bad in [
            fields("authenticator_added", n.at, &n.tag),
            fields("failed_approvals", n.at, &n.tag),
            fields("wrong_passcodes", n.at + 1, &n.tag),
            fields("wrong_passcodes", n.at, &[0; 32]),
        ] {
            assert_eq!(verify_token_notice(bad, &k_req()), Err(Error::BadTag));
        }
        let short = fields("wrong_passcodes", n.at, &n.tag[1..]);
        assert_eq!(verify_token_notice(short, &k_req()), Err(Error::BadTag));
        for bad in
            [fields("locked", n.at, &n.tag), (n.v, "tok 1", "wrong_passcodes", n.at, &n.tag[..])]
        {
            assert!(matches!(verify_token_notice(bad, &k_req()), Err(Error::InvalidMessage(_))));
        }
        let old = (1, "tok_1", "wrong_passcodes", n.at, &n.tag[..]);
        assert_eq!(verify_token_notice(old, &k_req()), Err(Error::UnsupportedVersion));
    }

    #[test]
    fn kinds_are_fixed_words_and_unknown_fields_are_refused() {
        for kind in NoticeKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.name()));
        }
        let json = serde_json::to_string(&notice()).unwrap();
        for bad in [
            json.replace("wrong_passcodes", "WrongPasscodes"),
            json.replace("wrong_passcodes", "locked"),
            json.replace(r#""v":2,"#, r#""v":2,"why":"x","#),
            json.replace(r#","at":1764000031"#, ""),
            json.replace("1764000031", "-1"),
        ] {
            assert!(serde_json::from_str::<TokenNotice>(&bad).is_err(), "{bad}");
        }
    }
}
