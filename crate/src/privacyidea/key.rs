//! The server's public key: privacyIDEA sends PKCS#1 `RSAPublicKey`, WebCrypto imports SPKI.

use std::vec::Vec;

use base64ct::{Base64, Encoding};

use crate::{Error, Result};

/// The DER of `AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }`.
const RSA_ENCRYPTION: [u8; 15] =
    [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/// The largest key accepted, in DER bytes of `RSAPublicKey` (RSA-16384 is about 2 KB).
const MAX_KEY_DER: usize = 4096;

fn bad_key() -> Error {
    Error::InvalidParameter { name: "public_key" }
}

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.extend(u8::try_from(len).ok());
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.extend(u8::try_from(0x80 + significant.len()).ok());
        out.extend_from_slice(significant);
    }
}

/// The length of a DER element's header and content, read from its start.
fn der_len(der: &[u8]) -> Option<(usize, usize)> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let count = usize::from(first - 0x80);
    if count == 0 || count > 4 {
        return None;
    }
    let len = der.get(2..2 + count)?.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    Some((2 + count, len))
}

/// Wraps a DER PKCS#1 `RSAPublicKey` into a DER `SubjectPublicKeyInfo`:
/// `SEQUENCE { AlgorithmIdentifier(rsaEncryption, NULL), BIT STRING (0x00 ‖ pkcs1) }`.
///
/// # Errors
/// [`Error::InvalidParameter`] (`public_key`) when `pkcs1` is not one DER SEQUENCE exactly
/// as long as its header says, or is larger than 4 KB.
pub fn pkcs1_to_spki(pkcs1: &[u8]) -> Result<Vec<u8>> {
    let (header, len) = der_len(pkcs1).ok_or_else(bad_key)?;
    if pkcs1.first() != Some(&0x30) || header + len != pkcs1.len() || pkcs1.len() > MAX_KEY_DER {
        return Err(bad_key());
    }
    let mut bit_string = Vec::with_capacity(pkcs1.len() + 6);
    bit_string.push(0x03);
    push_len(&mut bit_string, pkcs1.len() + 1);
    bit_string.push(0x00);
    bit_string.extend_from_slice(pkcs1);
    let mut spki = Vec::with_capacity(bit_string.len() + RSA_ENCRYPTION.len() + 4);
    spki.push(0x30);
    push_len(&mut spki, RSA_ENCRYPTION.len() + bit_string.len());
    spki.extend_from_slice(&RSA_ENCRYPTION);
    spki.extend_from_slice(&bit_string);
    Ok(spki)
}

/// The SPKI DER of the `detail.public_key` of privacyIDEA's enrollment reply: base64 of a
/// PKCS#1 `RSAPublicKey`, possibly with line breaks (every 64 characters).
///
/// # Errors
/// [`Error::InvalidParameter`] (`public_key`) when it is not base64 of such a key.
pub fn server_key_spki(detail_public_key: &str) -> Result<Vec<u8>> {
    let compact: std::string::String =
        detail_public_key.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > MAX_KEY_DER * 2 {
        return Err(bad_key());
    }
    let der = Base64::decode_vec(&compact).map_err(|_| bad_key())?;
    pkcs1_to_spki(&der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> std::string::String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A DER RSAPublicKey of `modulus_len` modulus bytes (content is irrelevant to wrapping).
    fn fake_pkcs1(modulus_len: usize) -> Vec<u8> {
        let mut modulus = vec![0x02];
        push_len(&mut modulus, modulus_len + 1);
        modulus.push(0);
        modulus.extend(core::iter::repeat_n(0xa5, modulus_len));
        let body: Vec<u8> = modulus.into_iter().chain([0x02, 0x03, 0x01, 0x00, 0x01]).collect();
        let mut der = vec![0x30];
        push_len(&mut der, body.len());
        der.extend(body);
        der
    }

    #[test]
    fn wraps_with_the_known_prefixes() {
        let k4096 = fake_pkcs1(512);
        assert_eq!(k4096.len(), 526);
        let spki = pkcs1_to_spki(&k4096).unwrap();
        assert_eq!(hex(&spki[..24]), "30820222300d06092a864886f70d01010105000382020f00");
        assert_eq!(&spki[24..], &k4096[..]);
        let k2048 = fake_pkcs1(256);
        let spki = pkcs1_to_spki(&k2048).unwrap();
        assert_eq!(hex(&spki[..24]), "30820122300d06092a864886f70d01010105000382010f00");
        // The base64 privacyIDEA sends for a 4096-bit key starts like this, and may be wrapped.
        let b64 = Base64::encode_string(&k4096);
        assert!(b64.starts_with("MIICCgKCAgEA"));
        let wrapped: std::string::String = b64
            .as_bytes()
            .chunks(64)
            .map(|c| core::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(server_key_spki(&wrapped).unwrap(), pkcs1_to_spki(&k4096).unwrap());
        // Short keys use the short length form.
        let tiny = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(
            hex(&pkcs1_to_spki(&tiny).unwrap()),
            "3017300d06092a864886f70d01010105000306003003020105"
        );
    }

    #[test]
    fn refuses_what_is_not_one_der_sequence() {
        let good = fake_pkcs1(256);
        assert!(pkcs1_to_spki(&good[..good.len() - 1]).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(pkcs1_to_spki(&trailing).is_err());
        assert!(pkcs1_to_spki(&[0x04, 0x00]).is_err());
        assert!(pkcs1_to_spki(&[]).is_err());
        assert!(server_key_spki("not base64!").is_err());
        assert!(server_key_spki("MIICIjANBgkqhkiG9w0BAQEF").is_err());
    }
}
