//! Enrollment (protocol §3): the device's request with its proof, the server's tagged answer,
//! and the token parameters that answer carries.

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::keys::{TokenKeys, activation_key};
use super::link::ActivationLink;
use super::passcode::OtpParams;
use super::wire::{b64, check_text, check_token_id, check_version};
use super::{Nonce, Tag, VERSION, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::tokens::is_web_origin;

/// The largest `maxTries` a PIN policy may set (protocol conventions): with more, guessing a
/// four-digit PIN online becomes too likely before the token locks.
pub const MAX_TRIES_LIMIT: u32 = 100;
/// The most login-page origins an enrollment answer may declare (protocol §3).
pub const MAX_LOGIN_ORIGINS: usize = 16;

/// Whether the token is PIN-protected (protocol §6) and after how many counted failed tries
/// the server locks it (protocol §5: a success forgives none; they decay with time). JSON: `{"required":true,"maxTries":5}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinPolicy {
    /// The device masks `K_otp` and `K_ans` with a PIN (§6).
    pub required: bool,
    /// Counted failed tries before the token locks: 1 to [`MAX_TRIES_LIMIT`].
    pub max_tries: u32,
}

impl PinPolicy {
    fn check(&self) -> Result<()> {
        if (1..=MAX_TRIES_LIMIT).contains(&self.max_tries) {
            Ok(())
        } else {
            Err(Error::InvalidMessage("maxTries must be 1 to 100"))
        }
    }
}

/// The device's enrollment request, `POST {server}/api/v1/enroll` (protocol §3).
///
/// `proof = mac(K_act, "enroll", str(tokenId), str(deviceName), bytes(deviceNonce))` shows the
/// server that the device holds the activation secret without sending it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollRequest {
    /// Protocol version: 2.
    pub v: u32,
    /// The token the activation link names.
    pub token_id: String,
    /// How the person will recognise this device in the server's list, such as
    /// `Chrome on laptop`.
    pub device_name: String,
    /// 16 random bytes of the device, half of the HKDF salt (§1).
    #[serde(with = "b64")]
    pub device_nonce: Nonce,
    /// The proof of possession of `A`.
    #[serde(with = "b64")]
    pub proof: Tag,
}

impl EnrollRequest {
    /// The device's request for the token of `link`, with its proof. `device_nonce` must be 16
    /// fresh random bytes. Fails with [`Error::InvalidMessage`] on a device name that is
    /// longer than 256 bytes or holds control or format characters.
    pub fn new(link: &ActivationLink, device_name: &str, device_nonce: Nonce) -> Result<Self> {
        let mut request = Self {
            v: VERSION,
            token_id: link.token_id().into(),
            device_name: device_name.into(),
            device_nonce,
            proof: [0; 32],
        };
        request.check()?;
        request.proof = request.canonical().mac(&activation_key(link.secret()));
        Ok(request)
    }

    /// The MAC input of `proof`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        Canonical::new(purpose::ENROLL)
            .str(&self.token_id)
            .str(&self.device_name)
            .bytes(&self.device_nonce)
    }

    /// The server's check, with the activation secret of the pending token `tokenId` names:
    /// [`Error::UnsupportedVersion`], [`Error::InvalidMessage`], or [`Error::BadTag`] for a
    /// wrong proof. The server answers every failure, and unknown, expired or redeemed links,
    /// alike (§3).
    pub fn verify(&self, activation_secret: &Secret) -> Result<()> {
        self.check()?;
        if self.canonical().verify(&activation_key(activation_secret), &self.proof) {
            Ok(())
        } else {
            Err(Error::BadTag)
        }
    }

    fn check(&self) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)?;
        check_text(
            &self.device_name,
            "deviceName must be at most 256 bytes, no control or format characters",
        )
    }
}

/// The server's answer to a successful enrollment (protocol §3): what the device stores about
/// the token, tagged under `K_act` so that nobody in between can change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enrolled {
    /// Protocol version: 2.
    pub v: u32,
    /// The token now active; the one the request named.
    pub token_id: String,
    /// What the device shows for the token, such as `Demo Portal`.
    pub token_name: String,
    /// The person's account at the server, such as `alice`.
    pub user: String,
    /// The organisation running the server, such as `Demo Org`.
    pub issuer: String,
    /// 16 random bytes of the server, the other half of the HKDF salt (§1).
    #[serde(with = "b64")]
    pub server_nonce: Nonce,
    /// The hash and length of the token's approval passcodes (§5).
    pub otp: OtpParams,
    /// Whether the device asks for a PIN, and the lockout threshold.
    pub pin: PinPolicy,
    /// The origins of the login pages whose sign-ins this server sends requests for, besides
    /// its own origin: the only sites (with those the person confirms) where the device fills
    /// an approval's passcode ([`crate::push::may_fill`]). Absent when the server declares
    /// none; each is a web origin as browsers write it, at most [`MAX_LOGIN_ORIGINS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_origins: Option<Vec<String>>,
    /// `mac(K_act, "enrolled", …)`, set by [`sign`](Self::sign).
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl Enrolled {
    /// The MAC input of `tag` (§3): it binds the device's nonce too, so that an answer made for
    /// one redemption attempt cannot be passed off as the answer to another. `loginOrigins`,
    /// when present, follows as `u64(count) || str(each)`; an answer without it has the input
    /// it had before the field existed.
    #[must_use]
    pub fn canonical(&self, device_nonce: &Nonce) -> Canonical {
        let input = self.canonical_fields(device_nonce);
        match &self.login_origins {
            None => input,
            Some(origins) => origins.iter().fold(
                input.u64(u64::try_from(origins.len()).unwrap_or(u64::MAX)),
                |input, origin| input.str(origin),
            ),
        }
    }

    fn canonical_fields(&self, device_nonce: &Nonce) -> Canonical {
        Canonical::new(purpose::ENROLLED)
            .str(&self.token_id)
            .str(&self.token_name)
            .str(&self.user)
            .str(&self.issuer)
            .bytes(device_nonce)
            .bytes(&self.server_nonce)
            .str(self.otp.algorithm().name())
            .u64(u64::from(self.otp.digits()))
            .u64(u64::from(self.pin.required))
            .u64(u64::from(self.pin.max_tries))
    }

    /// The server sets `tag` for the verified `request` (fill the other fields first; `v`
    /// must be 2 and `tokenId` the request's). Fails like [`verify`](Self::verify) on fields
    /// that break the protocol's rules.
    pub fn sign(&mut self, activation_secret: &Secret, request: &EnrollRequest) -> Result<()> {
        self.check(request)?;
        self.tag = self.canonical(&request.device_nonce).mac(&activation_key(activation_secret));
        Ok(())
    }

    /// The device's check of the server's answer to its `request`, and then its keys (§1).
    ///
    /// Fails with [`Error::UnsupportedVersion`]; [`Error::InvalidMessage`] when a field breaks
    /// a rule or `tokenId` is not the request's; [`Error::BadTag`] when the tag does not verify
    /// under `K_act`. On success, store the answer's fields and the keys, and forget `A`.
    pub fn verify(&self, activation_secret: &Secret, request: &EnrollRequest) -> Result<TokenKeys> {
        self.check(request)?;
        let input = self.canonical(&request.device_nonce);
        if !input.verify(&activation_key(activation_secret), &self.tag) {
            return Err(Error::BadTag);
        }
        Ok(TokenKeys::derive(
            activation_secret,
            &request.device_nonce,
            &self.server_nonce,
            self.otp.algorithm(),
        ))
    }

    fn check(&self, request: &EnrollRequest) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)?;
        if self.token_id != request.token_id {
            return Err(Error::InvalidMessage("tokenId must be the enrollment request's"));
        }
        let rule =
            "tokenName, user and issuer must be at most 256 bytes, no control or format characters";
        for text in [&self.token_name, &self.user, &self.issuer] {
            check_text(text, rule)?;
        }
        if let Some(origins) = &self.login_origins {
            // A passcode typed into a plain-http page elsewhere could be read on the way, as
            // an enrollment could (the server's address follows the same rule).
            let fits = |o: &String| is_web_origin(o) && crate::is_secure_server(o);
            if origins.len() > MAX_LOGIN_ORIGINS || !origins.iter().all(fits) {
                return Err(Error::InvalidMessage(
                    "loginOrigins must be at most 16 https web origins as browsers write them",
                ));
            }
        }
        self.pin.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;

    fn secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    fn link() -> ActivationLink {
        ActivationLink::new("https://auth.example.com", "tok_1", secret(), 2_000_000_000).unwrap()
    }

    fn otp(algorithm: Algorithm, digits: u8) -> OtpParams {
        OtpParams::new(algorithm, digits).unwrap()
    }

    fn enrolled(request: &EnrollRequest) -> Enrolled {
        let mut answer = Enrolled {
            v: 2,
            token_id: request.token_id.clone(),
            token_name: "Demo Portal".into(),
            user: "alice".into(),
            issuer: "Demo Org".into(),
            server_nonce: [0x5a; 16],
            otp: otp(Algorithm::Sha1, 6),
            pin: PinPolicy { required: true, max_tries: 5 },
            login_origins: None,
            tag: [0; 32],
        };
        answer.sign(&secret(), request).unwrap();
        answer
    }

    #[test]
    fn declared_login_origins_are_tagged_and_checked() {
        let request = EnrollRequest::new(&link(), "Chrome on laptop", [0xa5; 16]).unwrap();
        let without = enrolled(&request);
        let mut answer = without.clone();
        answer.login_origins = Some(vec!["https://portal.example.com".into()]);
        answer.sign(&secret(), &request).unwrap();
        assert_ne!(answer.tag, without.tag);
        let json = serde_json::to_string(&answer).unwrap();
        assert!(json.contains(r#""loginOrigins":["https://portal.example.com"],"tag""#), "{json}");
        let answer: Enrolled = serde_json::from_str(&json).unwrap();
        answer.verify(&secret(), &request).unwrap();
        // Without the field the JSON and the tag are what they were before it existed.
        assert!(!serde_json::to_string(&without).unwrap().contains("loginOrigins"));
        without.verify(&secret(), &request).unwrap();

        // Added, dropped, emptied or changed on the way: the tag no longer verifies.
        let tampered: &[fn(&mut Enrolled)] = &[
            |a| a.login_origins = None,
            |a| a.login_origins = Some(Vec::new()),
            |a| a.login_origins = Some(vec!["https://bank.example".into()]),
            |a| {
                a.login_origins.as_mut().unwrap().push("https://bank.example".into());
            },
        ];
        for (i, tamper) in tampered.iter().enumerate() {
            let mut bad = answer.clone();
            tamper(&mut bad);
            assert_eq!(bad.verify(&secret(), &request), Err(Error::BadTag), "change {i}");
        }
        let mut added = without.clone();
        added.login_origins = Some(vec!["https://bank.example".into()]);
        assert_eq!(added.verify(&secret(), &request), Err(Error::BadTag));

        // Only origins as browsers write them, at most 16.
        for bad in [
            vec!["https://portal.example.com/".to_owned()],
            vec!["https://portal.example.com/login".to_owned()],
            vec!["HTTPS://portal.example.com".to_owned()],
            vec!["javascript:alert(1)".to_owned()],
            vec!["http://portal.example.com".to_owned()],
            vec![String::new()],
            vec!["https://a.example".to_owned(); MAX_LOGIN_ORIGINS + 1],
        ] {
            let mut answer = without.clone();
            answer.login_origins = Some(bad.clone());
            assert!(
                matches!(answer.sign(&secret(), &request), Err(Error::InvalidMessage(_))),
                "{bad:?}"
            );
        }
        let mut full = without;
        full.login_origins = Some(vec!["https://a.example".to_owned(); MAX_LOGIN_ORIGINS]);
        full.sign(&secret(), &request).unwrap();
        full.verify(&secret(), &request).unwrap();
    }

    #[test]
    fn enrollment_round_trip_gives_both_sides_the_same_keys() {
        let request = EnrollRequest::new(&link(), "Chrome on laptop", [0xa5; 16]).unwrap();
        request.verify(&secret()).unwrap();
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<EnrollRequest>(&json).unwrap(), request);
        assert!(json.starts_with(r#"{"v":2,"tokenId":"tok_1","deviceName":"Chrome on laptop","deviceNonce":"paWlpaWlpaWlpaWlpaWlpQ","proof":""#), "{json}");

        let answer = enrolled(&request);
        let json = serde_json::to_string(&answer).unwrap();
        assert!(
            json.contains(
                r#""otp":{"algorithm":"SHA1","digits":6},"pin":{"required":true,"maxTries":5}"#
            ),
            "{json}"
        );
        let answer: Enrolled = serde_json::from_str(&json).unwrap();
        let device = answer.verify(&secret(), &request).unwrap();
        let server = TokenKeys::derive(
            &secret(),
            &request.device_nonce,
            &answer.server_nonce,
            Algorithm::Sha1,
        );
        assert_eq!(device, server);
    }

    #[test]
    fn every_tampered_field_is_caught() {
        let request = EnrollRequest::new(&link(), "Chrome on laptop", [0xa5; 16]).unwrap();
        let mut bad = request.clone();
        bad.proof[31] ^= 1;
        assert_eq!(bad.verify(&secret()), Err(Error::BadTag));
        let mut bad = request.clone();
        bad.device_name.push('!');
        assert_eq!(bad.verify(&secret()), Err(Error::BadTag));
        let mut bad = request.clone();
        bad.device_nonce[0] ^= 1;
        assert_eq!(bad.verify(&secret()), Err(Error::BadTag));
        let other = Secret::from_bytes(vec![9; 20]).unwrap();
        assert_eq!(request.verify(&other), Err(Error::BadTag));
        let mut bad = request.clone();
        bad.v = 1;
        assert_eq!(bad.verify(&secret()), Err(Error::UnsupportedVersion));

        let answer = enrolled(&request);
        let tampered: &[fn(&mut Enrolled)] = &[
            |a| a.tag[0] ^= 1,
            |a| a.token_name.push('x'),
            |a| a.user = "mallory".into(),
            |a| a.issuer.clear(),
            |a| a.server_nonce[15] ^= 1,
            |a| a.otp = otp(Algorithm::Sha256, 6),
            |a| a.otp = otp(Algorithm::Sha512, 6),
            |a| a.otp = otp(Algorithm::Sha1, 8),
            |a| a.pin.required = false,
            |a| a.pin.max_tries = 6,
        ];
        for (i, tamper) in tampered.iter().enumerate() {
            let mut bad = answer.clone();
            tamper(&mut bad);
            assert_eq!(bad.verify(&secret(), &request), Err(Error::BadTag), "change {i}");
        }
        // The answer to another redemption attempt of the same link does not verify.
        let second = EnrollRequest::new(&link(), "Chrome on laptop", [0xa6; 16]).unwrap();
        assert_eq!(answer.verify(&secret(), &second), Err(Error::BadTag));
        let mut bad = answer.clone();
        bad.token_id = "tok_2".into();
        assert!(matches!(bad.verify(&secret(), &request), Err(Error::InvalidMessage(_))));
        let mut bad = answer.clone();
        bad.pin.max_tries = 0;
        assert!(matches!(bad.verify(&secret(), &request), Err(Error::InvalidMessage(_))));
        bad.pin.max_tries = MAX_TRIES_LIMIT + 1;
        assert!(matches!(bad.sign(&secret(), &request), Err(Error::InvalidMessage(_))));
        let mut bad = answer;
        bad.user = "a\u{1b}[2J".into();
        assert!(matches!(bad.verify(&secret(), &request), Err(Error::InvalidMessage(_))));
    }

    #[test]
    fn request_fields_are_checked() {
        assert!(matches!(
            EnrollRequest::new(&link(), &"d".repeat(257), [0; 16]),
            Err(Error::InvalidMessage(_))
        ));
        assert!(matches!(
            EnrollRequest::new(&link(), "a\u{0}b", [0; 16]),
            Err(Error::InvalidMessage(_))
        ));
        let good = r#"{"v":2,"tokenId":"tok_1","deviceName":"d","deviceNonce":"AAAAAAAAAAAAAAAAAAAAAA","proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(serde_json::from_str::<EnrollRequest>(good).is_ok());
        for bad in [
            good.replace(r#""v":2,"#, r#""v":2,"extra":0,"#),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAA\""),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAAAA\""),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAAA==\""),
            good.replace(r#""deviceName":"d","#, ""),
            good.replace(r#""proof":"A"#, r#""proof":"+"#),
        ] {
            assert!(serde_json::from_str::<EnrollRequest>(&bad).is_err(), "{bad}");
        }
    }
}
