//! The page binding of a push request (protocol §5, "Same-browser approvals"): a fresh random
//! value the server puts into the login page the push is started from, which a device reads
//! only from a document of the request's origin whose every ancestor has that origin too. The
//! request commits to it (`bindingHash`), and an approval that carries it proves that the login
//! page was open on the right origin in the browser that approved: a relay on another origin
//! shows the page at an origin where no device reads it.

use zeroize::Zeroizing;

use super::canonical::Canonical;
use super::wire::check_token_id;
use super::{Nonce, Tag, purpose};
use crate::error::Result;
use crate::secret::Secret;

/// The length of a page binding, in bytes.
pub const BINDING_LEN: usize = 16;

/// A page binding: 16 random bytes of the server's, one per page load of a login page.
pub type PageBinding = [u8; BINDING_LEN];

/// The MAC input of a request's `bindingHash`: `bytes(requestId), str(tokenId)` after the
/// purpose `page-binding`. The binding is the key, so that the commitment says nothing of it
/// (it is 128 random bits) and each request of a page load commits to it apart.
#[must_use]
pub fn binding_hash_input(request_id: &Nonce, token_id: &str) -> Canonical {
    Canonical::new(purpose::PAGE_BINDING).bytes(request_id).str(token_id)
}

/// The `bindingHash` of request `request_id` of token `token_id` started from the page load
/// whose binding is `binding`: `mac(binding, "page-binding", bytes(requestId), str(tokenId))`.
/// Fails with [`Error::InvalidMessage`](crate::Error::InvalidMessage) for a token id that
/// breaks the field rules.
pub fn binding_hash(binding: &PageBinding, request_id: &Nonce, token_id: &str) -> Result<Tag> {
    check_token_id(token_id)?;
    Ok(binding_hash_input(request_id, token_id).mac(&key(binding)))
}

/// Whether `binding` is the one `hash` commits to for request `request_id` of token `token_id`,
/// compared in constant time.
#[must_use]
pub fn binding_matches(
    binding: &PageBinding,
    request_id: &Nonce,
    token_id: &str,
    hash: &Tag,
) -> bool {
    binding_hash_input(request_id, token_id).verify(&key(binding), hash)
}

fn key(binding: &PageBinding) -> Secret {
    Secret::from_derived(Zeroizing::new(binding.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_binding_request_and_token_only() {
        let binding = [9u8; 16];
        let hash = binding_hash(&binding, &[1; 16], "tok_1").unwrap();
        assert!(binding_matches(&binding, &[1; 16], "tok_1", &hash));
        let mut other = binding;
        other[15] ^= 1;
        assert!(!binding_matches(&other, &[1; 16], "tok_1", &hash));
        assert!(!binding_matches(&binding, &[2; 16], "tok_1", &hash));
        assert!(!binding_matches(&binding, &[1; 16], "tok_2", &hash));
        let mut changed = hash;
        changed[0] ^= 1;
        assert!(!binding_matches(&binding, &[1; 16], "tok_1", &changed));
        assert!(binding_hash(&binding, &[1; 16], "tok 1").is_err());
    }
}
