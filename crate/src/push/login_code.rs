//! The sign-in code in the reply to an approval (protocol §5, "What the login page gets"),
//! tagged by the server under the token's `K_req`, so that the device fills only a code the
//! token's server issued for that request, not one changed on the way.

use super::canonical::Canonical;
use super::wire::{check_passcode, check_token_id};
use super::{Nonce, Tag, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The MAC input of a sign-in code: `bytes(requestId), str(tokenId), str(loginCode)` after the
/// purpose `login-code`.
#[must_use]
pub fn login_code_input(request_id: &Nonce, token_id: &str, login_code: &str) -> Canonical {
    Canonical::new(purpose::LOGIN_CODE).bytes(request_id).str(token_id).str(login_code)
}

/// The server's `loginCodeTag` for the sign-in code `login_code` of the approval of request
/// `request_id` of token `token_id`. Fails with [`Error::InvalidMessage`] for a token id or a
/// code that breaks the field rules (a code is 6 to 10 ASCII digits).
pub fn login_code_tag(
    k_req: &Secret,
    request_id: &Nonce,
    token_id: &str,
    login_code: &str,
) -> Result<Tag> {
    check_token_id(token_id)?;
    check_passcode(login_code)?;
    Ok(login_code_input(request_id, token_id, login_code).mac(k_req))
}

/// The device's check before it fills `login_code`: [`Error::InvalidMessage`] for a token id
/// or a code that breaks the field rules, [`Error::BadTag`] unless `tag` verifies under the
/// token's `K_req` (compared in constant time).
pub fn verify_login_code(
    k_req: &Secret,
    request_id: &Nonce,
    token_id: &str,
    login_code: &str,
    tag: &[u8],
) -> Result<()> {
    check_token_id(token_id)?;
    check_passcode(login_code)?;
    if login_code_input(request_id, token_id, login_code).verify(k_req, tag) {
        Ok(())
    } else {
        Err(Error::BadTag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_req() -> Secret {
        Secret::from_bytes(vec![7u8; 32]).unwrap()
    }

    #[test]
    fn the_tag_covers_the_code_the_request_and_the_token() {
        let id = [1u8; 16];
        let tag = login_code_tag(&k_req(), &id, "tok_1", "493027").unwrap();
        assert_eq!(verify_login_code(&k_req(), &id, "tok_1", "493027", &tag), Ok(()));
        let other = Secret::from_bytes(vec![8u8; 32]).unwrap();
        for (key, id, token, code) in [
            (&other, id, "tok_1", "493027"),
            (&k_req(), [2u8; 16], "tok_1", "493027"),
            (&k_req(), id, "tok_2", "493027"),
            (&k_req(), id, "tok_1", "493028"),
        ] {
            assert_eq!(verify_login_code(key, &id, token, code, &tag), Err(Error::BadTag));
        }
        assert_eq!(
            verify_login_code(&k_req(), &id, "tok_1", "493027", &tag[..31]),
            Err(Error::BadTag)
        );
    }

    #[test]
    fn a_code_that_breaks_the_rules_is_refused_before_its_tag() {
        let id = [1u8; 16];
        let tag = [0u8; 32];
        for code in ["49302", "49302a", "12345678901", "", "٤٩٣٠٢٧"] {
            assert!(matches!(
                login_code_tag(&k_req(), &id, "tok_1", code),
                Err(Error::InvalidMessage(_))
            ));
            assert!(matches!(
                verify_login_code(&k_req(), &id, "tok_1", code, &tag),
                Err(Error::InvalidMessage(_))
            ));
        }
    }
}
