//! Enrollment (protocol §3): the device's request with its proof, the server's tagged answer,
//! and the token parameters that answer carries.

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::keys::{TokenKeys, activation_key};
use super::link::ActivationLink;
use super::wire::{b64, check_text, check_token_id, check_version};
use super::{Nonce, Tag, VERSION, purpose};
use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::{Hotp, check_digits};
use crate::secret::Secret;
use crate::tokens::is_web_origin;
use crate::totp::{Totp, Window};
use crate::uri::TokenKind;

/// How far past the next counter the server looks for an HOTP passcode (protocol §5 step 4).
pub const HOTP_LOOK_AHEAD: u64 = 20;
/// The TOTP steps the server accepts around its clock (protocol §5 step 4): one either side.
pub const TOTP_WINDOW: Window = Window::ONE_STEP;
/// The largest `maxTries` a PIN policy may set (protocol conventions): with more, guessing a
/// four-digit PIN online becomes too likely before the token locks.
pub const MAX_TRIES_LIMIT: u32 = 100;
/// The most login-page origins an enrollment answer may declare (protocol §3).
pub const MAX_LOGIN_ORIGINS: usize = 16;

/// How the token makes passcodes (protocol §3 `otp`): HOTP with its next counter or TOTP with
/// its period, the hash, and the number of digits.
///
/// Always valid: digits 6 to 10, a period of 1 s to one day. In JSON it is
/// `{"type":"hotp","algorithm":"SHA1","digits":6,"counter":0}` or
/// `{"type":"totp","algorithm":"SHA1","digits":6,"period":30}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OtpWire", into = "OtpWire")]
pub struct OtpParams {
    kind: TokenKind,
    algorithm: Algorithm,
    digits: u8,
}

impl OtpParams {
    /// Parameters from their parts; fails with [`Error::InvalidDigits`] or
    /// [`Error::InvalidPeriod`] on values no generator accepts.
    pub fn new(kind: TokenKind, algorithm: Algorithm, digits: u8) -> Result<Self> {
        check_digits(digits)?;
        if let TokenKind::Totp { period } = kind {
            Totp::new(algorithm, digits, period, 0)?;
        }
        Ok(Self { kind, algorithm, digits })
    }

    /// HOTP (with the counter of the first passcode) or TOTP (with its period).
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The HMAC hash; it also sets the length of `K_otp` (protocol §1).
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits of each passcode.
    #[must_use]
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The HOTP generator of an HOTP token; `None` for TOTP.
    #[must_use]
    pub fn hotp(&self) -> Option<Hotp> {
        match self.kind {
            TokenKind::Hotp { .. } => Hotp::new(self.algorithm, self.digits).ok(),
            TokenKind::Totp { .. } => None,
        }
    }

    /// The TOTP generator (T0 = 0) of a TOTP token; `None` for HOTP.
    #[must_use]
    pub fn totp(&self) -> Option<Totp> {
        match self.kind {
            TokenKind::Totp { period } => Totp::new(self.algorithm, self.digits, period, 0).ok(),
            TokenKind::Hotp { .. } => None,
        }
    }

    /// The server's passcode check of protocol §5 step 4: HOTP from the counter after
    /// `last_used` (or from the token's first counter) with a look-ahead of
    /// [`HOTP_LOOK_AHEAD`]; TOTP within [`TOTP_WINDOW`] of `now`. A counter or step at or below
    /// `last_used` never matches, so a passcode is accepted once.
    ///
    /// Returns the counter or step that matched; store it as the new `last_used`.
    pub fn verify_passcode(
        &self,
        k_otp: &Secret,
        passcode: &str,
        last_used: Option<u64>,
        now: u64,
    ) -> Result<Option<u64>> {
        // After the largest counter or step nothing can follow.
        let next = match last_used {
            Some(last) => match last.checked_add(1) {
                Some(next) => Some(next),
                None => return Ok(None),
            },
            None => None,
        };
        match self.kind {
            TokenKind::Hotp { counter } => {
                let from = next.map_or(counter, |next| next.max(counter));
                Hotp::new(self.algorithm, self.digits)?.verify(
                    k_otp,
                    passcode,
                    from,
                    HOTP_LOOK_AHEAD,
                )
            }
            TokenKind::Totp { period } => {
                let totp = Totp::new(self.algorithm, self.digits, period, 0)?;
                let step = totp.verify(k_otp, passcode, now, TOTP_WINDOW)?;
                Ok(step.filter(|step| next.is_none_or(|next| *step >= next)))
            }
        }
    }

    /// The value that follows the kind in the MAC input: the period or the counter.
    fn kind_value(&self) -> u64 {
        match self.kind {
            TokenKind::Hotp { counter } => counter,
            TokenKind::Totp { period } => period,
        }
    }
}

/// `otp` as it is on the wire; converted to [`OtpParams`] only through its checks.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum OtpWire {
    Hotp { algorithm: Algorithm, digits: u8, counter: u64 },
    Totp { algorithm: Algorithm, digits: u8, period: u64 },
}

impl TryFrom<OtpWire> for OtpParams {
    type Error = Error;

    fn try_from(wire: OtpWire) -> Result<Self> {
        match wire {
            OtpWire::Hotp { algorithm, digits, counter } => {
                Self::new(TokenKind::Hotp { counter }, algorithm, digits)
            }
            OtpWire::Totp { algorithm, digits, period } => {
                Self::new(TokenKind::Totp { period }, algorithm, digits)
            }
        }
    }
}

impl From<OtpParams> for OtpWire {
    fn from(params: OtpParams) -> Self {
        let (algorithm, digits) = (params.algorithm, params.digits);
        match params.kind {
            TokenKind::Hotp { counter } => Self::Hotp { algorithm, digits, counter },
            TokenKind::Totp { period } => Self::Totp { algorithm, digits, period },
        }
    }
}

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
    /// Protocol version: 1.
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
    /// Protocol version: 1.
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
    /// How the token makes passcodes.
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
            .str(self.otp.kind().name())
            .str(self.otp.algorithm().name())
            .u64(u64::from(self.otp.digits()))
            .u64(self.otp.kind_value())
            .u64(u64::from(self.pin.required))
            .u64(u64::from(self.pin.max_tries))
    }

    /// The server sets `tag` for the verified `request` (fill the other fields first; `v`
    /// must be 1 and `tokenId` the request's). Fails like [`verify`](Self::verify) on fields
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

    fn secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    fn link() -> ActivationLink {
        ActivationLink::new("https://auth.example.com", "tok_1", secret(), 2_000_000_000).unwrap()
    }

    fn otp(kind: TokenKind, algorithm: Algorithm, digits: u8) -> OtpParams {
        OtpParams::new(kind, algorithm, digits).unwrap()
    }

    fn enrolled(request: &EnrollRequest) -> Enrolled {
        let mut answer = Enrolled {
            v: 1,
            token_id: request.token_id.clone(),
            token_name: "Demo Portal".into(),
            user: "alice".into(),
            issuer: "Demo Org".into(),
            server_nonce: [0x5a; 16],
            otp: OtpParams::new(TokenKind::Hotp { counter: 0 }, Algorithm::Sha1, 6).unwrap(),
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
        assert!(json.starts_with(r#"{"v":1,"tokenId":"tok_1","deviceName":"Chrome on laptop","deviceNonce":"paWlpaWlpaWlpaWlpaWlpQ","proof":""#), "{json}");

        let answer = enrolled(&request);
        let json = serde_json::to_string(&answer).unwrap();
        assert!(json.contains(r#""otp":{"type":"hotp","algorithm":"SHA1","digits":6,"counter":0},"pin":{"required":true,"maxTries":5}"#), "{json}");
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
        bad.v = 2;
        assert_eq!(bad.verify(&secret()), Err(Error::UnsupportedVersion));

        let answer = enrolled(&request);
        let tampered: &[fn(&mut Enrolled)] = &[
            |a| a.tag[0] ^= 1,
            |a| a.token_name.push('x'),
            |a| a.user = "mallory".into(),
            |a| a.issuer.clear(),
            |a| a.server_nonce[15] ^= 1,
            |a| a.otp = otp(TokenKind::Hotp { counter: 1 }, Algorithm::Sha1, 6),
            |a| a.otp = otp(TokenKind::Totp { period: 30 }, Algorithm::Sha1, 6),
            |a| a.otp = otp(TokenKind::Hotp { counter: 0 }, Algorithm::Sha256, 6),
            |a| a.otp = otp(TokenKind::Hotp { counter: 0 }, Algorithm::Sha1, 8),
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
        let good = r#"{"v":1,"tokenId":"tok_1","deviceName":"d","deviceNonce":"AAAAAAAAAAAAAAAAAAAAAA","proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(serde_json::from_str::<EnrollRequest>(good).is_ok());
        for bad in [
            good.replace(r#""v":1,"#, r#""v":1,"extra":0,"#),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAA\""),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAAAA\""),
            good.replace("AAAAAAAAAAAAAAAAAAAAAA\"", "AAAAAAAAAAAAAAAAAAAAAA==\""),
            good.replace(r#""deviceName":"d","#, ""),
            good.replace(r#""proof":"A"#, r#""proof":"+"#),
        ] {
            assert!(serde_json::from_str::<EnrollRequest>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn otp_params_json_is_strict() {
        for good in [
            r#"{"type":"hotp","algorithm":"SHA1","digits":6,"counter":0}"#,
            r#"{"type":"totp","algorithm":"SHA512","digits":8,"period":30}"#,
        ] {
            let params: OtpParams = serde_json::from_str(good).unwrap();
            assert_eq!(serde_json::to_string(&params).unwrap(), good);
        }
        for bad in [
            r#"{"type":"hotp","algorithm":"SHA1","digits":6}"#,
            r#"{"type":"hotp","algorithm":"SHA1","digits":6,"counter":0,"period":30}"#,
            r#"{"type":"totp","algorithm":"SHA1","digits":6,"period":0}"#,
            r#"{"type":"totp","algorithm":"SHA1","digits":6,"period":86401}"#,
            r#"{"type":"hotp","algorithm":"SHA1","digits":5,"counter":0}"#,
            r#"{"type":"hotp","algorithm":"sha1","digits":6,"counter":0}"#,
            r#"{"type":"motp","algorithm":"SHA1","digits":6,"counter":0}"#,
        ] {
            assert!(serde_json::from_str::<OtpParams>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passcodes_are_accepted_once() {
        let key = secret();
        let hotp = OtpParams::new(TokenKind::Hotp { counter: 0 }, Algorithm::Sha1, 6).unwrap();
        // RFC 4226 Appendix D: counter 1 is 287082, counter 21 is outside a look-ahead of 20.
        assert_eq!(hotp.verify_passcode(&key, "287082", None, 0), Ok(Some(1)));
        assert_eq!(hotp.verify_passcode(&key, "287082", Some(1), 0), Ok(None));
        assert_eq!(hotp.verify_passcode(&key, "755224", None, 0), Ok(Some(0)));
        assert_eq!(hotp.verify_passcode(&key, "755224", Some(0), 0), Ok(None));
        assert_eq!(hotp.verify_passcode(&key, "755224", Some(1), 0), Ok(None), "below");
        assert_eq!(hotp.verify_passcode(&key, "287082", Some(u64::MAX), 0), Ok(None));
        assert_eq!(hotp.verify_passcode(&key, "28708a", None, 0), Err(Error::MalformedCode));
        let later = OtpParams::new(TokenKind::Hotp { counter: 2 }, Algorithm::Sha1, 6).unwrap();
        assert_eq!(later.verify_passcode(&key, "287082", None, 0), Ok(None));
        let far = hotp.hotp().unwrap().generate(&key, HOTP_LOOK_AHEAD + 1);
        assert_eq!(hotp.verify_passcode(&key, &far, None, 0), Ok(None));
        assert_eq!(hotp.verify_passcode(&key, &far, Some(0), 0), Ok(Some(HOTP_LOOK_AHEAD + 1)));

        let totp = OtpParams::new(TokenKind::Totp { period: 30 }, Algorithm::Sha1, 8).unwrap();
        // RFC 6238 Appendix B: 94287082 at T = 59 s (step 1).
        assert_eq!(totp.verify_passcode(&key, "94287082", None, 75), Ok(Some(1)));
        assert_eq!(totp.verify_passcode(&key, "94287082", Some(0), 89), Ok(Some(1)));
        assert_eq!(totp.verify_passcode(&key, "94287082", Some(1), 75), Ok(None));
        assert_eq!(totp.verify_passcode(&key, "94287082", Some(2), 75), Ok(None), "below");
        assert_eq!(totp.verify_passcode(&key, "94287082", None, 120), Ok(None));
        assert!(totp.hotp().is_none() && hotp.totp().is_none());
    }
}
