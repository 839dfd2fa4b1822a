//! Random identifiers.

/// `n` random bytes as unpadded base64url, for ids and nonces.
pub fn random_id(prefix: &str, n: usize) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    format!("{prefix}{}", Base64UrlUnpadded::encode_string(&bytes))
}
