//! The device's answer to a push login request (protocol §5).

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::request::PushRequest;
use super::wire::{b64, b64_opt, check_number, check_passcode, check_token_id, check_version};
use super::{Nonce, PageBinding, Tag, VERSION, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What the person decided (protocol §5). JSON: `"approve"`, `"deny"` or `"report"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// It is me: log me in. Needs the passcode and the answer tag, so the PIN if there is one.
    Approve,
    /// Not now. Needs no PIN, so that a person can always refuse.
    Deny,
    /// I did not try to log in: deny, and tell the administrator. Needs no PIN.
    Report,
}

impl Decision {
    /// The name in JSON and in the MAC input: `approve`, `deny` or `report`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Report => "report",
        }
    }
}

/// An answer, `POST {server}/api/v1/answers` (protocol §5).
///
/// Both tags cover the same fields, `bytes(requestId), str(tokenId), str(decision),
/// opt(u64(number)), opt(str(passcode)), u64(answeredAt)`, followed, only when the approval
/// carries the binding of its login page, by `str("binding") || bytes(binding)`: `deviceTag` under `K_chan` shows it
/// comes from the enrolled device, `answerTag` under the PIN-masked `K_ans` shows the person
/// knew the PIN. Build it with [`approve`](Self::approve), [`deny`](Self::deny) or
/// [`report`](Self::report); the server checks it with
/// [`verify_device_tag`](Self::verify_device_tag) and
/// [`verify_answer_tag`](Self::verify_answer_tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Answer {
    /// Protocol version: 2.
    pub v: u32,
    /// The `id` of the request answered.
    #[serde(with = "b64")]
    pub request_id: Nonce,
    /// The request's token.
    pub token_id: String,
    /// Approve, deny or report.
    pub decision: Decision,
    /// The picked choice, for an approval of a request with choices; else `None`.
    #[serde(default)]
    pub number: Option<u8>,
    /// The approval passcode of this request under `K_otp`
    /// ([`OtpParams::passcode`](super::OtpParams::passcode)), for an approval; else `None`.
    #[serde(default)]
    pub passcode: Option<String>,
    /// When the person answered (Unix seconds).
    pub answered_at: u64,
    /// `mac(K_chan, "answer-device", fields)`.
    #[serde(with = "b64")]
    pub device_tag: Tag,
    /// `mac(K_ans, "answer", fields)`, for an approval; else `None`.
    #[serde(default, with = "b64_opt")]
    pub answer_tag: Option<Tag>,
    /// The binding the device read from the request's login page, open on the request's
    /// origin in this browser (§5, "Same-browser approvals"), for an approval; left out of the
    /// JSON, and of the tags, when `None`, so that an answer without it is as before the field.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64_opt")]
    pub binding: Option<PageBinding>,
}

impl Answer {
    /// An approval of `request` (§5), after the device verified it.
    ///
    /// `number` is the choice the person picked, or the number typed where the request asks
    /// for it to be typed ([`PushRequest::check_approval_number`]); `passcode` is the request's
    /// approval passcode under `K_otp` ([`OtpParams::passcode`](super::OtpParams::passcode),
    /// RFC 6287). `k_ans` is the unmasked `K_ans`: with a wrong PIN it is wrong, and
    /// the server counts a failed try. Fails with [`Error::InvalidMessage`] on a number that is
    /// not one of the choices or a passcode that is not 6 to 10 digits.
    ///
    /// `binding` is the binding of the request's login page, read from a document of the
    /// request's origin (and of that origin all the way up): it must be the one the request
    /// commits to ([`PushRequest::binding_matches`], else [`Error::InvalidMessage`]), and then
    /// `number` may be `None` even where the request has number matching.
    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        request: &PushRequest,
        number: Option<u8>,
        passcode: &str,
        binding: Option<&PageBinding>,
        answered_at: u64,
        k_chan: &Secret,
        k_ans: &Secret,
    ) -> Result<Self> {
        if binding.is_some_and(|b| !request.binding_matches(b)) {
            return Err(Error::InvalidMessage("the binding is not the one of this request"));
        }
        request.check_approval_number(number, binding.is_some())?;
        check_passcode(passcode)?;
        let mut answer = Self::unsigned(request, Decision::Approve, answered_at);
        answer.number = number;
        answer.passcode = Some(passcode.into());
        answer.binding = binding.copied();
        answer.device_tag = answer.canonical_device().mac(k_chan);
        answer.answer_tag = Some(answer.canonical_answer().mac(k_ans));
        Ok(answer)
    }

    /// A denial of `request` (§5): no number, no passcode, no answer tag, hence no PIN.
    #[must_use]
    pub fn deny(request: &PushRequest, answered_at: u64, k_chan: &Secret) -> Self {
        Self::refuse(request, Decision::Deny, answered_at, k_chan)
    }

    /// A report of `request` as a login the person did not start (§5): a denial the server
    /// also flags; no PIN needed.
    #[must_use]
    pub fn report(request: &PushRequest, answered_at: u64, k_chan: &Secret) -> Self {
        Self::refuse(request, Decision::Report, answered_at, k_chan)
    }

    fn refuse(
        request: &PushRequest,
        decision: Decision,
        answered_at: u64,
        k_chan: &Secret,
    ) -> Self {
        let mut answer = Self::unsigned(request, decision, answered_at);
        answer.device_tag = answer.canonical_device().mac(k_chan);
        answer
    }

    fn unsigned(request: &PushRequest, decision: Decision, answered_at: u64) -> Self {
        Self {
            v: VERSION,
            request_id: request.id,
            token_id: request.token_id.clone(),
            decision,
            number: None,
            passcode: None,
            answered_at,
            device_tag: [0; 32],
            answer_tag: None,
            binding: None,
        }
    }

    /// The fields both tags cover, after the purpose `purpose`.
    fn canonical(&self, purpose: &str) -> Canonical {
        let fields = Canonical::new(purpose)
            .bytes(&self.request_id)
            .str(&self.token_id)
            .str(self.decision.name())
            .opt(self.number, |c, n| c.u64(u64::from(n)))
            .opt(self.passcode.as_deref(), Canonical::str)
            .u64(self.answered_at);
        match &self.binding {
            Some(binding) => fields.str("binding").bytes(binding),
            None => fields,
        }
    }

    /// Whether this answer carries the binding `request` commits to (§5, "Same-browser
    /// approvals"): the server marks the approval *bound*, else *unbound*. Decide it only
    /// after the tags verified.
    #[must_use]
    pub fn is_bound(&self, request: &PushRequest) -> bool {
        self.request_id == request.id
            && self.binding.as_ref().is_some_and(|b| request.binding_matches(b))
    }

    /// The MAC input of `deviceTag` (purpose `answer-device`).
    #[must_use]
    pub fn canonical_device(&self) -> Canonical {
        self.canonical(purpose::ANSWER_DEVICE)
    }

    /// The MAC input of `answerTag` (purpose `answer`).
    #[must_use]
    pub fn canonical_answer(&self) -> Canonical {
        self.canonical(purpose::ANSWER)
    }

    /// The server's step 2 of §5, after it found the pending request of `requestId` and
    /// `tokenId`: [`Error::UnsupportedVersion`]; [`Error::InvalidMessage`] when a field breaks
    /// a rule (an approval without passcode or answer tag, a number outside 10 to 99, a
    /// passcode that is not 6 to 10 digits); [`Error::BadTag`] when `deviceTag` does not
    /// verify under `K_chan` (`bad_device_tag`: count nothing).
    pub fn verify_device_tag(&self, k_chan: &Secret) -> Result<()> {
        self.check()?;
        if self.canonical_device().verify(k_chan, &self.device_tag) {
            Ok(())
        } else {
            Err(Error::BadTag)
        }
    }

    /// The server's first check of §5 step 5, for an approval: [`Error::BadTag`] when
    /// `answerTag` is missing or does not verify under `K_ans`. For a PIN token that is a
    /// wrong PIN and counts as a failed try. Then check the passcode with
    /// [`OtpParams::verify_passcode`](super::OtpParams::verify_passcode): a tag that verifies
    /// proves the PIN right, so a wrong passcode after it is no wrong PIN.
    pub fn verify_answer_tag(&self, k_ans: &Secret) -> Result<()> {
        self.check()?;
        match &self.answer_tag {
            Some(tag) if self.canonical_answer().verify(k_ans, tag) => Ok(()),
            _ => Err(Error::BadTag),
        }
    }

    fn check(&self) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)?;
        if let Some(number) = self.number {
            check_number(number)?;
        }
        if let Some(passcode) = &self.passcode {
            check_passcode(passcode)?;
        }
        if self.decision == Decision::Approve
            && (self.passcode.is_none() || self.answer_tag.is_none())
        {
            return Err(Error::InvalidMessage("an approval needs passcode and answerTag"));
        }
        if self.decision != Decision::Approve && self.binding.is_some() {
            return Err(Error::InvalidMessage("only an approval carries a binding"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::Place;

    fn k_chan() -> Secret {
        Secret::from_bytes(vec![0xc0; 32]).unwrap()
    }

    fn k_ans() -> Secret {
        Secret::from_bytes(vec![0xa0; 32]).unwrap()
    }

    fn request(choices: Option<[u8; 3]>) -> PushRequest {
        let mut request = PushRequest {
            v: 2,
            id: [1; 16],
            token_id: "tok_1".into(),
            app: "Demo Portal".into(),
            origin: "http://127.0.0.1:8080".into(),
            client_ip: "81.2.69.160".into(),
            place: Some(Place { city: "x".into(), country: "y".into(), lat_e6: 0, lon_e6: 0 }),
            created_at: 1_764_000_000,
            expires_at: 1_764_000_120,
            choices,
            number_entry: None,
            binding_hash: None,
            nonce: [2; 16],
            tag: [0; 32],
        };
        request.sign(&Secret::from_bytes(vec![0x42; 32]).unwrap()).unwrap();
        request
    }

    #[test]
    fn approve_round_trip() {
        let req = request(Some([37, 82, 15]));
        let answer =
            Answer::approve(&req, Some(37), "287082", None, 1_764_000_031, &k_chan(), &k_ans())
                .unwrap();
        let json = serde_json::to_string(&answer).unwrap();
        assert!(json.starts_with(r#"{"v":2,"requestId":"AQEBAQEBAQEBAQEBAQEBAQ","tokenId":"tok_1","decision":"approve","number":37,"passcode":"287082","answeredAt":1764000031,"deviceTag":""#), "{json}");
        let back: Answer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, answer);
        back.verify_device_tag(&k_chan()).unwrap();
        back.verify_answer_tag(&k_ans()).unwrap();
        // The keys are not interchangeable.
        assert_eq!(back.verify_device_tag(&k_ans()), Err(Error::BadTag));
        assert_eq!(back.verify_answer_tag(&k_chan()), Err(Error::BadTag));
        assert_ne!(Some(answer.device_tag), answer.answer_tag);

        let plain = request(None);
        let answer = Answer::approve(&plain, None, "287082", None, 5, &k_chan(), &k_ans()).unwrap();
        assert!(serde_json::to_string(&answer).unwrap().contains(r#""number":null"#));
        answer.verify_answer_tag(&k_ans()).unwrap();
    }

    #[test]
    fn a_bound_approval_carries_its_binding_under_both_tags() {
        let binding = [0x5b; 16];
        let mut req = request(Some([37, 82, 15]));
        req.binding_hash =
            Some(crate::push::binding_hash(&binding, &req.id, &req.token_id).unwrap());
        req.sign(&Secret::from_bytes(vec![0x42; 32]).unwrap()).unwrap();
        // Bound: the number may be left out, the login page being open in this browser.
        let bound =
            Answer::approve(&req, None, "287082", Some(&binding), 9, &k_chan(), &k_ans()).unwrap();
        let json = serde_json::to_string(&bound).unwrap();
        assert!(json.ends_with(r#","binding":"W1tbW1tbW1tbW1tbW1tbWw"}"#), "{json}");
        let back: Answer = serde_json::from_str(&json).unwrap();
        back.verify_device_tag(&k_chan()).unwrap();
        back.verify_answer_tag(&k_ans()).unwrap();
        assert!(back.is_bound(&req));
        // The tags cover it: dropped or swapped on the way, neither verifies.
        for change in [None, Some([0x5c; 16])] {
            let mut bad = back.clone();
            bad.binding = change;
            assert_eq!(bad.verify_device_tag(&k_chan()), Err(Error::BadTag));
            assert_eq!(bad.verify_answer_tag(&k_ans()), Err(Error::BadTag));
        }
        // Another page's binding is refused by the device, and never bound on the server.
        let other = [0x5c; 16];
        assert!(matches!(
            Answer::approve(&req, Some(37), "287082", Some(&other), 9, &k_chan(), &k_ans()),
            Err(Error::InvalidMessage(_))
        ));
        let mut forged = bound.clone();
        forged.binding = Some(other);
        assert!(!forged.is_bound(&req));
        // Unbound, the number rule stands; a request without a hash binds nothing.
        assert!(Answer::approve(&req, None, "287082", None, 9, &k_chan(), &k_ans()).is_err());
        let unbound =
            Answer::approve(&req, Some(37), "287082", None, 9, &k_chan(), &k_ans()).unwrap();
        assert!(!unbound.is_bound(&req));
        assert!(!serde_json::to_string(&unbound).unwrap().contains("binding"));
        let plain = request(Some([37, 82, 15]));
        assert!(!plain.binding_matches(&binding));
        // Only an approval carries one.
        let mut deny = Answer::deny(&req, 9, &k_chan());
        deny.binding = Some(binding);
        assert!(matches!(deny.verify_device_tag(&k_chan()), Err(Error::InvalidMessage(_))));
    }

    #[test]
    fn deny_and_report_need_no_pin_keys() {
        let req = request(Some([37, 82, 15]));
        for (answer, name) in [
            (Answer::deny(&req, 7, &k_chan()), "deny"),
            (Answer::report(&req, 7, &k_chan()), "report"),
        ] {
            let json = serde_json::to_string(&answer).unwrap();
            assert!(
                json.contains(&format!(r#""decision":"{name}","number":null,"passcode":null"#))
            );
            assert!(json.ends_with(r#""answerTag":null}"#), "{json}");
            let back: Answer = serde_json::from_str(&json).unwrap();
            back.verify_device_tag(&k_chan()).unwrap();
            assert_eq!(back.verify_answer_tag(&k_ans()), Err(Error::BadTag));
            // Missing optional fields read as null.
            let short = json.replace(r#","answerTag":null"#, "").replace(r#""number":null,"#, "");
            assert_eq!(serde_json::from_str::<Answer>(&short).unwrap(), answer);
        }
        // A denial cannot be turned into a report or an approval.
        let mut bad = Answer::deny(&req, 7, &k_chan());
        bad.decision = Decision::Report;
        assert_eq!(bad.verify_device_tag(&k_chan()), Err(Error::BadTag));
    }

    #[test]
    fn builders_check_their_inputs() {
        let with = request(Some([37, 82, 15]));
        let without = request(None);
        let approve = |req, number, passcode: &str| {
            Answer::approve(req, number, passcode, None, 1, &k_chan(), &k_ans())
        };
        for (req, number, passcode) in [
            (&with, None, "123456"),
            (&with, Some(38), "123456"),
            (&without, Some(37), "123456"),
            (&with, Some(37), "12345"),
            (&with, Some(37), "12345678901"),
            (&with, Some(37), "12 456"),
        ] {
            assert!(
                matches!(approve(req, number, passcode), Err(Error::InvalidMessage(_))),
                "{number:?} {passcode}"
            );
        }
    }

    #[test]
    fn every_failure_path() {
        let req = request(Some([37, 82, 15]));
        let good =
            Answer::approve(&req, Some(37), "287082", None, 1_764_000_031, &k_chan(), &k_ans())
                .unwrap();
        let changes: &[fn(&mut Answer)] = &[
            |a| a.request_id[3] ^= 1,
            |a| a.token_id = "tok_2".into(),
            |a| a.number = Some(82),
            |a| a.number = None,
            |a| a.passcode = Some("287083".into()),
            |a| a.answered_at += 1,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut bad = good.clone();
            change(&mut bad);
            assert_eq!(bad.verify_device_tag(&k_chan()), Err(Error::BadTag), "{i}");
            assert_eq!(bad.verify_answer_tag(&k_ans()), Err(Error::BadTag), "{i}");
        }
        let mut bad = good.clone();
        bad.device_tag[31] ^= 1;
        assert_eq!(bad.verify_device_tag(&k_chan()), Err(Error::BadTag));
        assert_eq!(bad.verify_answer_tag(&k_ans()), Ok(()));
        let mut bad = good.clone();
        bad.answer_tag.as_mut().unwrap()[0] ^= 1;
        assert_eq!(bad.verify_device_tag(&k_chan()), Ok(()));
        assert_eq!(bad.verify_answer_tag(&k_ans()), Err(Error::BadTag));

        let mut bad = good.clone();
        bad.v = 0;
        assert_eq!(bad.verify_device_tag(&k_chan()), Err(Error::UnsupportedVersion));
        let invalid: &[fn(&mut Answer)] = &[
            |a| a.answer_tag = None,
            |a| a.passcode = None,
            |a| a.passcode = Some("x".repeat(100_000)),
            |a| a.number = Some(100),
            |a| a.token_id = "t".repeat(65),
        ];
        for (i, change) in invalid.iter().enumerate() {
            let mut bad = good.clone();
            change(&mut bad);
            assert!(
                matches!(bad.verify_device_tag(&k_chan()), Err(Error::InvalidMessage(_))),
                "{i}"
            );
            assert!(
                matches!(bad.verify_answer_tag(&k_ans()), Err(Error::InvalidMessage(_))),
                "{i}"
            );
        }

        let json = serde_json::to_string(&good).unwrap();
        for bad in [
            json.replace(r#""v":2,"#, r#""v":2,"extra":null,"#),
            json.replace(r#""decision":"approve""#, r#""decision":"Approve""#),
            json.replace(r#""decision":"approve""#, r#""decision":"allow""#),
            json.replace(r#""number":37"#, r#""number":256"#),
            json.replace(r#""number":37"#, r#""number":"37""#),
            json.replace(r#""requestId":"AQEBAQEBAQEBAQEBAQEBAQ""#, r#""requestId":"AQEB""#),
            json.replace(r#""answerTag":""#, r#""answerTag":"A"#),
            json.replace(r#""answeredAt":1764000031"#, r#""answeredAt":-1"#),
        ] {
            assert!(serde_json::from_str::<Answer>(&bad).is_err(), "{bad}");
        }
    }
}
