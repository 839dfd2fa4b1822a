//! The notice that a push login request ended without the answer of the device holding it
//! (protocol §4, "The end of a request"), server to device.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::wire::{b64, check_token_id, check_version};
use super::{Nonce, Tag, VERSION, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Why a request ended without its device's answer (protocol §4). JSON: `"answered"`,
/// `"replaced"`, `"expired"` or `"removed"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Its sign-in got its outcome another way: another copy of the request (on another
    /// device, or another token of the person) was approved, denied, reported or answered
    /// wrongly, or a typed passcode completed the sign-in.
    Answered,
    /// A newer push of the same sign-in replaced it.
    Replaced,
    /// Its time ran out on the server.
    Expired,
    /// Its token was removed.
    Removed,
}

impl EndReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 4] = [Self::Answered, Self::Replaced, Self::Expired, Self::Removed];

    /// The name in JSON and in the MAC input.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Replaced => "replaced",
            Self::Expired => "expired",
            Self::Removed => "removed",
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EndReason {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|reason| reason.name() == name)
            .ok_or(Error::InvalidMessage("reason must be answered, replaced, expired or removed"))
    }
}

/// The notice that request `id` ended (protocol §4): the device removes it at once, with its
/// notification, instead of offering an answer the server would refuse.
///
/// Tagged under the request's own `K_req`, so that only the server can end a request on a
/// device. It carries no time: a notice can only ever end the request it names, which has
/// ended, so a replayed one changes nothing.
///
/// JSON: `{"v":2,"id":…,"tokenId":…,"reason":"answered","tag":…}`, unknown fields refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushEnded {
    /// Protocol version: 2.
    pub v: u32,
    /// The `id` of the request that ended.
    #[serde(with = "b64")]
    pub id: Nonce,
    /// The request's token, whose `K_req` tags the notice.
    pub token_id: String,
    /// Why it ended.
    pub reason: EndReason,
    /// `mac(K_req, "push-ended", bytes(id), str(tokenId), str(reason))`.
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl PushEnded {
    /// The server's notice that request `id` of `token_id` ended, tagged under the token's
    /// `K_req`. Fails on a token id that breaks the field rules.
    pub fn new(id: Nonce, token_id: &str, reason: EndReason, k_req: &Secret) -> Result<Self> {
        let mut notice =
            Self { v: VERSION, id, token_id: token_id.to_owned(), reason, tag: [0; 32] };
        notice.check()?;
        notice.tag = notice.canonical().mac(k_req);
        Ok(notice)
    }

    /// The MAC input of `tag` (§4): `bytes(id), str(tokenId), str(reason)`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        Canonical::new(purpose::PUSH_ENDED)
            .bytes(&self.id)
            .str(&self.token_id)
            .str(self.reason.name())
    }

    /// The device's check before it acts on the notice, in this order:
    /// [`Error::UnsupportedVersion`], [`Error::InvalidMessage`] for a token id that breaks the
    /// field rules, [`Error::BadTag`] unless the tag verifies under the token's `K_req`.
    pub fn verify(&self, k_req: &Secret) -> Result<()> {
        self.check()?;
        if self.canonical().verify(k_req, &self.tag) { Ok(()) } else { Err(Error::BadTag) }
    }

    fn check(&self) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_req() -> Secret {
        Secret::from_bytes(vec![0x42; 32]).unwrap()
    }

    fn notice() -> PushEnded {
        PushEnded::new([1; 16], "tok_1", EndReason::Replaced, &k_req()).unwrap()
    }

    #[test]
    fn json_round_trip() {
        let notice = notice();
        let json = serde_json::to_string(&notice).unwrap();
        assert!(
            json.starts_with(
                r#"{"v":2,"id":"AQEBAQEBAQEBAQEBAQEBAQ","tokenId":"tok_1","reason":"replaced","tag":""#
            ),
            "{json}"
        );
        let back: PushEnded = serde_json::from_str(&json).unwrap();
        assert_eq!(back, notice);
        back.verify(&k_req()).unwrap();
    }

    #[test]
    fn every_field_is_covered_by_the_tag() {
        let good = notice();
        assert_eq!(good.verify(&k_req()), Ok(()));
        let other_key = Secret::from_bytes(vec![0x43; 32]).unwrap();
        assert_eq!(good.verify(&other_key), Err(Error::BadTag));
        let changes: &[fn(&mut PushEnded)] = &[
            |n| n.tag[0] ^= 1,
            |n| n.id[15] ^= 1,
            |n| n.token_id = "tok_2".into(),
            |n| n.reason = EndReason::Answered,
            |n| n.reason = EndReason::Expired,
            |n| n.reason = EndReason::Removed,
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
            PushEnded::new([1; 16], "", EndReason::Expired, &k_req()),
            Err(Error::InvalidMessage(_))
        ));
    }

    #[test]
    fn a_request_tag_is_no_end_notice() {
        // Same key, other purpose: the tag of a push request cannot end it, nor the reverse.
        let notice = notice();
        let request_like = Canonical::new(purpose::PUSH_REQUEST)
            .bytes(&notice.id)
            .str(&notice.token_id)
            .str(notice.reason.name());
        let mut forged = notice.clone();
        forged.tag = request_like.mac(&k_req());
        assert_eq!(forged.verify(&k_req()), Err(Error::BadTag));
    }

    #[test]
    fn reasons_are_fixed_words() {
        for reason in EndReason::ALL {
            assert_eq!(reason.name().parse::<EndReason>(), Ok(reason));
            assert_eq!(serde_json::to_string(&reason).unwrap(), format!("\"{reason}\""));
        }
        assert!("Answered".parse::<EndReason>().is_err());
        let json = serde_json::to_string(&notice()).unwrap();
        for bad in [
            json.replace(r#""replaced""#, r#""cancelled""#),
            json.replace(r#""v":2,"#, r#""v":2,"why":"x","#),
            json.replace("AQEBAQEBAQEBAQEBAQEBAQ", "AQEBAQEBAQEBAQEBAQEBAQEB"),
            json.replace(r#","reason":"replaced""#, ""),
        ] {
            assert!(serde_json::from_str::<PushEnded>(&bad).is_err(), "{bad}");
        }
    }
}
