//! The approval passcode (protocol §5): an OCRA response (RFC 6287) under `K_otp` to the
//! request id, and the parameters the enrollment answer gives it (protocol §3 `otp`).

use serde::{Deserialize, Serialize};

use super::Nonce;
use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::check_digits;
use crate::ocra::{OcraInput, OcraSuite};
use crate::secret::Secret;

/// The length of the OCRA question: the 16 bytes of a request id as 32 hexadecimal digits.
const QUESTION_LEN: u8 = 32;

/// How a token makes its approval passcodes (protocol §3 `otp`): the hash under HMAC and the
/// number of digits. JSON: `{"algorithm":"SHA1","digits":6}`.
///
/// Always valid: digits 6 to 10. The hash also sets the length of `K_otp` (protocol §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OtpWire", into = "OtpWire")]
pub struct OtpParams {
    algorithm: Algorithm,
    digits: u8,
}

impl OtpParams {
    /// Parameters from their parts; fails with [`Error::InvalidDigits`] outside 6 to 10.
    pub fn new(algorithm: Algorithm, digits: u8) -> Result<Self> {
        check_digits(digits)?;
        Ok(Self { algorithm, digits })
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

    /// The OCRA suite of the approval passcode, `OCRA-1:HOTP-<hash>-<digits>:QH32`
    /// (RFC 6287 §6): no counter and no time, only the question.
    #[must_use]
    pub fn suite(&self) -> OcraSuite {
        OcraSuite::hex_question(self.algorithm, self.digits, QUESTION_LEN)
    }

    /// The approval passcode of the request `request_id` (protocol §5): the OCRA response
    /// (RFC 6287 §5.1) under `k_otp` to the question of the request id's 16 bytes as 32
    /// lower-case hexadecimal digits. The same request always gives the same passcode, so a
    /// retry needs nothing kept, and no two requests share one but by chance.
    pub fn passcode(&self, k_otp: &Secret, request_id: &Nonce) -> Result<String> {
        self.suite().compute(k_otp, &question(request_id))
    }

    /// The server's passcode check of protocol §5 step 5, compared in constant time. A
    /// passcode that is not digits, or of another length, is simply wrong.
    #[must_use]
    pub fn verify_passcode(&self, k_otp: &Secret, request_id: &Nonce, passcode: &str) -> bool {
        self.suite().verify(k_otp, &question(request_id), passcode).unwrap_or(false)
    }
}

/// The OCRA input: `Q` = the request id as 32 hexadecimal digits (RFC 6287 §5.1, `QH32`).
fn question(request_id: &Nonce) -> OcraInput {
    OcraInput::new().question(base16ct::lower::encode_string(request_id))
}

/// `otp` as it is on the wire; converted to [`OtpParams`] only through its checks.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OtpWire {
    algorithm: Algorithm,
    digits: u8,
}

impl TryFrom<OtpWire> for OtpParams {
    type Error = Error;

    fn try_from(wire: OtpWire) -> Result<Self> {
        Self::new(wire.algorithm, wire.digits)
    }
}

impl From<OtpParams> for OtpWire {
    fn from(params: OtpParams) -> Self {
        Self { algorithm: params.algorithm, digits: params.digits }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_strict() {
        for good in [r#"{"algorithm":"SHA1","digits":6}"#, r#"{"algorithm":"SHA512","digits":10}"#]
        {
            let params: OtpParams = serde_json::from_str(good).unwrap();
            assert_eq!(serde_json::to_string(&params).unwrap(), good);
        }
        for bad in [
            r#"{"algorithm":"SHA1"}"#,
            r#"{"algorithm":"SHA1","digits":5}"#,
            r#"{"algorithm":"SHA1","digits":11}"#,
            r#"{"algorithm":"sha1","digits":6}"#,
            r#"{"type":"hotp","algorithm":"SHA1","digits":6,"counter":0}"#,
            r#"{"algorithm":"SHA1","digits":6,"period":30}"#,
        ] {
            assert!(serde_json::from_str::<OtpParams>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_passcode_is_the_ocra_response_to_the_request_id() {
        // RFC 6287 Appendix C.1: suite OCRA-1:HOTP-SHA1-6:QN08 answers 237653 to Q = 00000000;
        // here the same key and a QH32 suite, checked against the suite's own parser.
        let key = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let params = OtpParams::new(Algorithm::Sha1, 6).unwrap();
        assert_eq!(params.suite().to_string(), "OCRA-1:HOTP-SHA1-6:QH32");
        let parsed: OcraSuite = "OCRA-1:HOTP-SHA1-6:QH32".parse().unwrap();
        assert_eq!(params.suite(), parsed);
        let id = [
            0xc0u8, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd,
            0xce, 0xcf,
        ];
        let input = OcraInput::new().question("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
        let code = params.passcode(&key, &id).unwrap();
        assert_eq!(code, parsed.compute(&key, &input).unwrap());
        assert_eq!(code.len(), 6);
        assert!(params.verify_passcode(&key, &id, &code));
        // Another request, another key, another length or a malformed code: refused.
        let mut other = id;
        other[15] ^= 1;
        assert!(!params.verify_passcode(&key, &other, &code));
        let other_key = Secret::from_bytes(vec![7; 20]).unwrap();
        assert!(!params.verify_passcode(&other_key, &id, &code));
        assert!(!params.verify_passcode(&key, &id, &format!("0{code}")));
        assert!(!params.verify_passcode(&key, &id, "abcdef"));
        assert!(!params.verify_passcode(&key, &id, ""));
        for (algorithm, digits) in [(Algorithm::Sha256, 8), (Algorithm::Sha512, 10)] {
            let params = OtpParams::new(algorithm, digits).unwrap();
            let code = params.passcode(&key, &id).unwrap();
            assert_eq!(code.len(), usize::from(digits));
            assert!(params.verify_passcode(&key, &id, &code));
        }
    }
}
