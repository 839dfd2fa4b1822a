//! Random identifiers.

/// `n` random bytes as unpadded base64url, for ids and nonces.
pub fn random_id(prefix: &str, n: usize) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    format!("{prefix}{}", Base64UrlUnpadded::encode_string(&bytes))
}

/// What the database keeps of a secret id that a browser holds in a cookie (a login's or a
/// session's): its SHA-256 hash, unpadded base64url, looked up by hashing the cookie again.
/// The ids are random (144 and 192 bits), so a plain hash is enough: one who reads the
/// database cannot turn what is stored back into a cookie.
pub fn stored_id(id: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use sha2::Digest;
    Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(id.as_bytes()))
}
