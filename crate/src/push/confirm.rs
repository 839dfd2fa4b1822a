//! The comparison code of an enrollment (protocol §3, "Confirming an enrollment"): six digits
//! that the device and the server each derive from the exchange they just had, so that the
//! person can check, on the page that showed the link, that the token the server holds is the
//! one on their own device and not one redeemed by someone who saw the link first.

use super::canonical::Canonical;
use super::keys::activation_key;
use super::{Nonce, purpose};
use crate::algorithm::{dynamic_truncation, format_code};
use crate::secret::Secret;

/// The number of digits of the comparison code: as many as a passcode, few enough to compare
/// at a glance. Someone who redeemed the link instead of the person gets a code of their own,
/// which matches the one the person expects with a chance of one in a million.
pub const CONFIRM_CODE_DIGITS: u8 = 6;

/// The comparison code of one redemption of an activation link (protocol §3):
///
/// `confirm = mac(K_act, "enroll-confirm", str(tokenId), bytes(deviceNonce), bytes(serverNonce))`,
/// reduced to six decimal digits by RFC 4226 §5.3 dynamic truncation (the low four bits of
/// the last byte of the 32-byte MAC give the offset of four bytes, of which the low 31 bits
/// taken big-endian, modulo 10^6 and left-padded with zeros, are the code).
///
/// Both nonces are in it, so each redemption of a link has its own code: a device that did not
/// make the exchange the server answered cannot show the server's code.
#[must_use]
pub fn enroll_confirm_code(
    activation_secret: &Secret,
    token_id: &str,
    device_nonce: &Nonce,
    server_nonce: &Nonce,
) -> String {
    let mac = enroll_confirm_input(token_id, device_nonce, server_nonce)
        .mac(&activation_key(activation_secret));
    format_code(dynamic_truncation(&mac), CONFIRM_CODE_DIGITS)
}

/// The MAC input of [`enroll_confirm_code`] (protocol §2 canonical bytes).
#[must_use]
pub fn enroll_confirm_input(
    token_id: &str,
    device_nonce: &Nonce,
    server_nonce: &Nonce,
) -> Canonical {
    Canonical::new(purpose::ENROLL_CONFIRM).str(token_id).bytes(device_nonce).bytes(server_nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn each_redemption_has_its_own_six_digit_code() {
        let code = enroll_confirm_code(&secret(), "tok_1", &[1; 16], &[2; 16]);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        assert_eq!(code, enroll_confirm_code(&secret(), "tok_1", &[1; 16], &[2; 16]));
        let other = Secret::from_bytes(vec![9; 20]).unwrap();
        for changed in [
            enroll_confirm_code(&secret(), "tok_2", &[1; 16], &[2; 16]),
            enroll_confirm_code(&secret(), "tok_1", &[3; 16], &[2; 16]),
            enroll_confirm_code(&secret(), "tok_1", &[1; 16], &[3; 16]),
            enroll_confirm_code(&secret(), "tok_1", &[2; 16], &[1; 16]),
            enroll_confirm_code(&other, "tok_1", &[1; 16], &[2; 16]),
        ] {
            assert_ne!(changed, code);
        }
    }
}
