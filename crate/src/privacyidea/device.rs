//! The device key of a privacyIDEA token: an RSA key derived from a random 32-byte seed, and
//! the seed as the vault stores it (plain, or masked with the token's PIN).
//!
//! Why a seed and not a stored key: whatever is unwrapped with a key made from a PIN and can
//! be recognised as right is an offline PIN oracle. An AES-GCM or AES-KW tag, a PKCS#8
//! structure that parses, or an RSA key whose parts agree (m^(ed) mod n = m) all tell a right
//! PIN from a wrong one without asking anyone. Only uniformly random bytes can be masked
//! safely: every PIN unmasks to some 32 bytes, and every 32 bytes derive a valid RSA key. Which
//! key is the right one only privacyIDEA knows, since it alone holds the public key (the device
//! sends it at enrollment and keeps no copy), so a wrong PIN shows only as a signature the
//! server refuses.
//!
//! The derivation (`docs/privacyidea.md`, "Device keys") is this file's own, so that a key
//! never changes when a crate's key generator does:
//!
//! 1. For `L` = `"p"`, then `"q"`: `B = HKDF-SHA256(IKM = seed, salt =
//!    "pushotp-privacyidea-device-key-v1", info = L ‖ u16be(bits), length = bits/16)` (RFC 5869),
//!    with the two highest bits and the lowest bit of `B` set.
//! 2. The prime is the smallest integer `x ≥ B` with `x mod 65537 ≠ 1` (so that `e` is
//!    invertible modulo `x − 1`) that passes the Baillie-PSW test (Miller-Rabin to base 2 and a
//!    strong Lucas test; Baillie, Fiori, Wagstaff 2021), and below `2^(bits/2)`. No BPSW
//!    pseudoprime is known, so any BPSW variant finds the same prime.
//! 3. `e = 65537`, `n = p·q`, `d = e⁻¹ mod lcm(p−1, q−1)` (NIST SP 800-56B §6.2.1); `p` and `q`
//!    must differ by more than `2^(bits/2 − 100)` (the bound of FIPS 186-5 A.1.3), else the seed
//!    has no key.
//!
//! This is not FIPS 186-5's prime generation (A.1.3 draws each candidate anew from an approved
//! DRBG and tests it with the rounds of its table B.1): it searches upward from one HKDF output,
//! which favours primes after long gaps and costs the key a few bits of entropy at most, far
//! below the seed's 256 bits, on which the key's strength rests. The primes meet A.1.3's
//! conditions on size, on `gcd(p − 1, e) = 1` and on `|p − q|`.
//!
//! Signatures are RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2), deterministic: the vectors
//! in the tests pin the whole chain.

use std::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use crypto_bigint::BoxedUint;
use crypto_primes::hazmat::SmallFactorsSieve;
use crypto_primes::{Flavor, is_prime};
use hkdf::Hkdf;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::push::{PinParams, PinSalt, b64, b64_opt, b64_vec, pin_pad};
use crate::secret::Secret;

/// The length of a token's seed, in bytes.
pub const DEVICE_SEED_LEN: usize = 32;

/// The modulus size of every device key, in bits. RSA-2048 (NIST SP 800-57 Part 1: 112-bit
/// security, acceptable beyond 2030 only for existing signatures) because deriving the key
/// takes this long in the extension's WebAssembly at each approval and each start of the
/// worker: RSA-4096 took several seconds there (BENCHMARKS.md, "privacyIDEA device keys").
pub const DEVICE_KEY_BITS: u32 = 2048;

/// The HKDF salt of the derivation; the `v1` names this file's procedure.
const SALT: &[u8] = b"pushotp-privacyidea-device-key-v1";

/// The public exponent, F4.
const E: u32 = 65_537;

fn no_key() -> Error {
    Error::InvalidMessage("this seed derives no device key")
}

/// A derived device key, ready to sign. Its parts are wiped on drop by the `rsa` crate.
pub struct DeviceKey {
    key: PrivateKey,
}

impl core::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

impl DeviceKey {
    /// The device key of `seed` ([`DEVICE_SEED_LEN`] bytes), [`DEVICE_KEY_BITS`] bits.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a seed of another length, or (never seen; about one seed
    /// in 2^90) one whose primes are too close or leave their size.
    pub fn derive(seed: &Secret) -> Result<Self> {
        Self::derive_bits(seed, DEVICE_KEY_BITS)
    }

    /// [`derive`](Self::derive) for another modulus size: a multiple of 128 from 1024 to
    /// 4096 (the benchmarks compare sizes; tokens use [`DEVICE_KEY_BITS`]).
    ///
    /// # Errors
    /// As [`derive`](Self::derive), and [`Error::InvalidMessage`] for another size.
    pub fn derive_bits(seed: &Secret, bits: u32) -> Result<Self> {
        if seed.len() != DEVICE_SEED_LEN {
            return Err(Error::InvalidMessage("a device seed is 32 bytes"));
        }
        if !(1024..=4096).contains(&bits) || !bits.is_multiple_of(128) {
            return Err(Error::InvalidMessage("device keys are 1024 to 4096 bits"));
        }
        let half = bits / 2;
        let p = prime(seed, b'p', bits)?;
        let q = prime(seed, b'q', bits)?;
        // |p − q| > 2^(half − 100): compare the top 100 bits' worth through the difference.
        let diff = if p > q { p.wrapping_sub(&q) } else { q.wrapping_sub(&p) };
        if diff.bit_width() <= half - 100 {
            return Err(no_key());
        }
        let e = BoxedUint::from(u64::from(E));
        let key = PrivateKey::from_p_q(p, q, e).map_err(|_| no_key())?;
        if key.n().as_ref().bit_width() != bits {
            return Err(no_key());
        }
        Ok(Self { key })
    }

    /// The DER `SubjectPublicKeyInfo` of the public key (RFC 5280 §4.1.2.7, RFC 8017 A.1.1),
    /// what privacyIDEA's enrollment takes as `pubkey` (base64).
    #[must_use]
    pub fn public_key_spki(&self) -> Vec<u8> {
        let mut body = der_integer(&self.key.n_bytes());
        body.extend(der_integer(&self.key.e_bytes()));
        let mut pkcs1 = vec![0x30];
        push_len(&mut pkcs1, body.len());
        pkcs1.extend(body);
        // A SEQUENCE exactly as long as its header says, well under 4 KB: cannot fail.
        super::pkcs1_to_spki(&pkcs1).unwrap_or_default()
    }

    /// The RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (RFC 8017 §8.2.1), as long as the
    /// modulus.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if the computation's own check fails (a fault).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha256::digest(message);
        // Without a random number generator: the `rsa` crate's arithmetic is constant-time,
        // and it checks each signature against the public key before returning it.
        self.key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|_| Error::InvalidMessage("the signature failed"))
    }
}

/// Step 1 and 2 of the derivation for the prime labelled `label`.
fn prime(seed: &Secret, label: u8, bits: u32) -> Result<BoxedUint> {
    candidates(seed, label, bits)?
        .filter(|c| residue(c, E) != 1)
        .find(|c| is_prime(Flavor::Any, c))
        .ok_or_else(no_key)
}

/// Step 1, and the numbers from `B` up that step 2 tries.
fn candidates(seed: &Secret, label: u8, bits: u32) -> Result<SmallFactorsSieve<BoxedUint>> {
    let half = bits / 2;
    let len = usize::try_from(half / 8).map_err(|_| no_key())?;
    let mut start = Zeroizing::new(vec![0u8; len]);
    let [hi, lo] = u16::try_from(bits).map_err(|_| no_key())?.to_be_bytes();
    Hkdf::<Sha256>::new(Some(SALT), seed.expose())
        .expand(&[label, hi, lo], &mut start)
        .map_err(|_| no_key())?;
    if let Some(first) = start.first_mut() {
        *first |= 0xc0;
    }
    if let Some(last) = start.last_mut() {
        *last |= 1;
    }
    let start = BoxedUint::from_be_slice(&start, half).map_err(|_| no_key())?;
    let half = core::num::NonZeroU32::new(half).ok_or_else(no_key)?;
    // The sieve yields, in increasing order from `start`, the numbers below 2^half that no
    // small prime divides; the first of them that passes BPSW is the smallest prime ≥ start.
    SmallFactorsSieve::new(start, half, false).map_err(|_| no_key())
}

/// `x mod m` for a small `m`.
fn residue(x: &BoxedUint, m: u32) -> u32 {
    let m = u64::from(m);
    let r = x.to_be_bytes().iter().fold(0u64, |r, &b| ((r << 8) | u64::from(b)) % m);
    u32::try_from(r).unwrap_or(u32::MAX)
}

/// A DER length.
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

/// A DER INTEGER of a non-negative big-endian number.
fn der_integer(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let digits = be.get(skip..).unwrap_or_default();
    let pad = digits.first().is_none_or(|&b| b & 0x80 != 0);
    let mut out = vec![0x02];
    push_len(&mut out, digits.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

/// A token's seed masked with its PIN, as a push token's keys are (protocol §6):
/// `masked = seed XOR Argon2id(PIN, salt, L = 32)`. Every PIN unmasks to some seed, and every
/// seed to a valid key, so nothing here tells a right PIN from a wrong one.
///
/// JSON: `{"salt": <16 bytes>, "params": {…}, "masked": <32 bytes>}`, unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaskedSeed {
    /// The Argon2id salt: 16 random bytes chosen when the PIN is set.
    #[serde(with = "b64")]
    pub salt: PinSalt,
    /// The Argon2id costs the seed was masked with.
    pub params: PinParams,
    /// `seed XOR W`.
    #[serde(with = "b64_vec")]
    pub masked: Vec<u8>,
}

impl MaskedSeed {
    /// Masks `seed` with `pin` under `params`; `salt` must be 16 fresh random bytes.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a seed of another length, [`Error::InvalidPin`] for an
    /// empty PIN or one over 64 bytes.
    pub fn mask(seed: &Secret, pin: &str, salt: PinSalt, params: PinParams) -> Result<Self> {
        if seed.len() != DEVICE_SEED_LEN {
            return Err(Error::InvalidMessage("a device seed is 32 bytes"));
        }
        let mut masked = pin_pad(pin, &salt, &params, DEVICE_SEED_LEN)?;
        for (m, s) in masked.iter_mut().zip(seed.expose()) {
            *m ^= s;
        }
        Ok(Self { salt, params, masked: masked.to_vec() })
    }

    /// The seed under `pin`: a wrong PIN gives another seed, never an error.
    ///
    /// # Errors
    /// [`Error::InvalidPin`] for an empty PIN or one over 64 bytes, [`Error::InvalidMessage`]
    /// for a stored record of another length or an impossible cost.
    pub fn unmask(&self, pin: &str) -> Result<Secret> {
        if self.masked.len() != DEVICE_SEED_LEN {
            return Err(Error::InvalidMessage("a masked device seed is 32 bytes"));
        }
        let mut seed = pin_pad(pin, &self.salt, &self.params, DEVICE_SEED_LEN)?;
        for (s, m) in seed.iter_mut().zip(&self.masked) {
            *s ^= m;
        }
        Ok(Secret::from_derived(seed))
    }
}

/// A token's seed as the vault stores it: `{"seed": <32 bytes>}` for a token without a PIN,
/// `{"masked": MaskedSeed}` for one whose server asks for a PIN. Which form a token has decides
/// whether approving needs a PIN: the token's other fields cannot waive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceSecret {
    /// The seed itself (no PIN).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64_opt")]
    pub seed: Option<[u8; DEVICE_SEED_LEN]>,
    /// The seed masked with the PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked: Option<MaskedSeed>,
}

impl Drop for DeviceSecret {
    fn drop(&mut self) {
        if let Some(seed) = self.seed.as_mut() {
            zeroize::Zeroize::zeroize(seed);
        }
    }
}

impl DeviceSecret {
    /// A new token's secret: `seed` plain, or masked with `pin` under the protocol's Argon2id
    /// costs (`salt` 16 fresh random bytes) when the server asks for a PIN.
    ///
    /// # Errors
    /// [`Error::PinRequired`] when `pin` is given and is not 4 to 64 ASCII digits;
    /// [`Error::InvalidMessage`] for a seed of another length.
    pub fn new(seed: &Secret, pin: Option<&str>, salt: PinSalt) -> Result<Self> {
        Self::new_with(seed, pin, salt, PinParams::default())
    }

    /// [`new`](Self::new) with other Argon2id costs (tests use cheaper ones).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn new_with(
        seed: &Secret,
        pin: Option<&str>,
        salt: PinSalt,
        params: PinParams,
    ) -> Result<Self> {
        if seed.len() != DEVICE_SEED_LEN {
            return Err(Error::InvalidMessage("a device seed is 32 bytes"));
        }
        match pin {
            None => {
                let mut plain = [0u8; DEVICE_SEED_LEN];
                plain.copy_from_slice(seed.expose());
                Ok(Self { seed: Some(plain), masked: None })
            }
            Some(pin) if is_pin(pin, super::MIN_PIN_DIGITS) => {
                Ok(Self { seed: None, masked: Some(MaskedSeed::mask(seed, pin, salt, params)?) })
            }
            Some(_) => Err(Error::PinRequired),
        }
    }

    /// Whether approving needs a PIN.
    #[must_use]
    pub fn needs_pin(&self) -> bool {
        self.masked.is_some()
    }

    /// The seed: the plain one (a PIN is ignored), or the masked one unmasked with `pin`.
    ///
    /// # Errors
    /// [`Error::PinRequired`] for a masked seed without a PIN of 1 to 64 ASCII digits;
    /// [`Error::InvalidMessage`] for a record with both or neither form, or a damaged one.
    pub fn seed(&self, pin: Option<&str>) -> Result<Secret> {
        match (&self.seed, &self.masked) {
            (Some(seed), None) => Secret::from_bytes(seed.to_vec()),
            (None, Some(masked)) => match pin {
                Some(pin) if is_pin(pin, 1) => masked.unmask(pin),
                _ => Err(Error::PinRequired),
            },
            _ => Err(Error::InvalidMessage("a device secret is a seed or a masked seed")),
        }
    }
}

/// `min` to 64 ASCII digits.
fn is_pin(pin: &str, min: usize) -> bool {
    (min..=crate::push::MAX_PIN_LEN).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A seed as unpadded base64url, the form the extension keeps in session memory for polling.
///
/// # Errors
/// [`Error::InvalidMessage`] unless it is 32 bytes.
pub fn seed_from_text(text: &str) -> Result<Secret> {
    let bytes = Zeroizing::new(
        Base64UrlUnpadded::decode_vec(text)
            .map_err(|_| Error::InvalidMessage("a device seed is 32 bytes, base64url"))?,
    );
    if bytes.len() != DEVICE_SEED_LEN {
        return Err(Error::InvalidMessage("a device seed is 32 bytes, base64url"));
    }
    Secret::from_bytes(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use rsa::PublicKey as RsaPublicKey;
    use rsa::traits::PrivateKeyParts;

    use super::*;

    /// Cheap Argon2id costs: the format, not the cost, is under test.
    const CHEAP: PinParams = PinParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn hex(bytes: &[u8]) -> std::string::String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn seed(byte: u8) -> Secret {
        Secret::from_bytes(vec![byte; DEVICE_SEED_LEN]).unwrap()
    }

    fn counting() -> Secret {
        Secret::from_bytes((0u8..32).collect::<Vec<_>>()).unwrap()
    }

    fn public(key: &DeviceKey) -> RsaPublicKey {
        key.key.to_public_key()
    }

    /// Whether `signature` verifies under `key`'s public key, as privacyIDEA checks it.
    fn verifies(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature).is_ok()
    }

    #[test]
    fn vectors() {
        // Seed 00 01 … 1f, RSA-2048: SHA-256 of the SPKI DER, and of the signature of "test".
        let key = DeviceKey::derive(&counting()).unwrap();
        let spki = key.public_key_spki();
        assert_eq!(hex(&spki[..24]), "30820122300d06092a864886f70d01010105000382010f00");
        assert_eq!(hex(&Sha256::digest(&spki)), VECTOR_SPKI_SHA256);
        let signature = key.sign(b"test").unwrap();
        assert_eq!(signature.len(), 256);
        assert_eq!(hex(&Sha256::digest(&signature)), VECTOR_SIGNATURE_SHA256);
        assert_eq!(hex(&key.key.primes()[0].to_be_bytes()[..8]), VECTOR_P_HEAD);
        assert_eq!(hex(&key.key.primes()[1].to_be_bytes()[..8]), VECTOR_Q_HEAD);
        // The derivation is deterministic.
        assert_eq!(DeviceKey::derive(&counting()).unwrap().public_key_spki(), spki);
    }

    // Computed independently with Python: its own HKDF, Miller-Rabin to 40 bases, and the
    // `cryptography` package's RSA (docs/privacyidea.md has the script's steps).
    const VECTOR_SPKI_SHA256: &str =
        "64b96054948c57b1ce5e9a5cc09893c5a3015c3c1a3a68f3012c7ca7ddd6578a";
    const VECTOR_SIGNATURE_SHA256: &str =
        "d988b0a28ed8abac1cb79646cec6ec47ed7c3613975342baf72e127986af79df";
    const VECTOR_P_HEAD: &str = "fa4607cb552d542d";
    const VECTOR_Q_HEAD: &str = "ef40b2388b667d22";

    /// Further seeds, computed independently in Python as the first (docs/privacyidea.md):
    /// seed (hex), modulus bits, the first 8 bytes of `p` and `q`, SHA-256 of the SPKI DER and
    /// of the signature of "test". The last one's `p` is the one past a skipped prime (below).
    const MORE_VECTORS: [(&str, u32, &str, &str, &str, &str); 3] = [
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            2048,
            "cafac215924a8cc3",
            "f584930212df2f06",
            "2fb708810df6db9e08a515c3ea33049337d72aeaba64fb384a47e6cbfadac23c",
            "1f2082422d3be9300f43ef4a3eb14fc194210abd68ab6a46af92c6dad96729b8",
        ),
        (
            "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
            2048,
            "f1403883a3974724",
            "fd109274a9182366",
            "02b8b92aa0d943ad06dc65b0b4267dc96f79561c4ed91f20ab45a5a097278b71",
            "ffea708ff0c214534119e28b38f58fd4fec8d1e573186b58b87c025c101dd13e",
        ),
        (
            SKIP_SEED,
            1024,
            "deaaa16f3e54c941",
            "ee510a8251d57ff1",
            "45e4c6a6834c4a574133b1cc82982048f5a7adbc32e0312444486e3886a82439",
            "c6908c35bff75335dd2bc08849c0fce6e260bbd630d977590e3f4420efda161a",
        ),
    ];

    /// A seed whose first prime from `B` for `p` (RSA-1024) is 1 mod 65537, found by trying
    /// seeds 0, 1, 2, … (as a little-endian u64): the 392nd.
    const SKIP_SEED: &str = "8701000000000000000000000000000000000000000000000000000000000000";

    fn from_hex(text: &str) -> Secret {
        let bytes =
            (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap());
        Secret::from_bytes(bytes.collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn more_vectors() {
        for (seed, bits, p, q, spki, signature) in MORE_VECTORS {
            let key = DeviceKey::derive_bits(&from_hex(seed), bits).unwrap();
            let primes = key.key.primes();
            assert_eq!(hex(&primes[0].to_be_bytes()[..8]), p, "p of seed {seed}");
            assert_eq!(hex(&primes[1].to_be_bytes()[..8]), q, "q of seed {seed}");
            assert_eq!(hex(&Sha256::digest(key.public_key_spki())), spki, "SPKI of seed {seed}");
            let signed = key.sign(b"test").unwrap();
            assert_eq!(hex(&Sha256::digest(&signed)), signature, "signature of seed {seed}");
        }
    }

    #[test]
    fn a_prime_one_more_than_a_multiple_of_e_is_passed_over() {
        // Step 2 skips x with x mod 65537 = 1 (e would not be invertible mod x − 1). For this
        // seed the first prime from B is such a one, …ea6f; p is the next prime, 58 further.
        let seed = from_hex(SKIP_SEED);
        let first =
            candidates(&seed, b'p', 1024).unwrap().find(|c| is_prime(Flavor::Any, c)).unwrap();
        assert_eq!(residue(&first, E), 1);
        assert_eq!(hex(&first.to_be_bytes()[56..]), "16058a2e3959e96f");
        let p = prime(&seed, b'p', 1024).unwrap();
        assert_eq!(hex(&p.to_be_bytes()[56..]), "16058a2e3959e9a9");
        let key = DeviceKey::derive_bits(&seed, 1024).unwrap();
        assert_eq!(key.key.primes()[0].as_ref(), &p);
        key.key.validate().unwrap();
    }

    #[test]
    fn keys_are_valid_rsa_keys_of_the_size_asked() {
        for bits in [1024, 2048] {
            let key = DeviceKey::derive_bits(&seed(7), bits).unwrap();
            assert_eq!(key.key.n().as_ref().bit_width(), bits);
            assert_eq!(key.key.e(), &BoxedUint::from(65_537u64));
            key.key.validate().unwrap();
            for p in key.key.primes() {
                assert!(is_prime(Flavor::Any, p.as_ref()));
                assert_eq!(p.as_ref().bit_width(), bits / 2);
                assert_ne!(residue(p.as_ref(), E), 1);
            }
            let signature = key.sign(b"x").unwrap();
            assert!(verifies(&public(&key), b"x", &signature));
            assert!(!verifies(&public(&key), b"y", &signature));
        }
        assert!(DeviceKey::derive_bits(&seed(7), 1000).is_err());
        assert!(DeviceKey::derive(&Secret::from_bytes(vec![1; 31]).unwrap()).is_err());
    }

    #[test]
    fn each_seed_its_own_key() {
        let a = DeviceKey::derive_bits(&seed(1), 1024).unwrap();
        let b = DeviceKey::derive_bits(&seed(2), 1024).unwrap();
        assert_ne!(a.public_key_spki(), b.public_key_spki());
        let signature = a.sign(b"m").unwrap();
        assert!(!verifies(&public(&b), b"m", &signature));
    }

    #[test]
    fn the_spki_is_what_the_rsa_crate_reads() {
        // The hand-written DER against the `rsa` crate's own reading of n and e.
        let key = DeviceKey::derive_bits(&seed(3), 1024).unwrap();
        let spki = key.public_key_spki();
        let n = key.key.n_bytes();
        assert!(spki.windows(n.len()).any(|w| w == &n[..]));
        assert_eq!(&spki[spki.len() - 5..], &[0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(der_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[0x00, 0x7f]), [0x02, 0x01, 0x7f]);
    }

    #[test]
    fn every_pin_gives_a_valid_key_and_only_the_right_one_the_enrolled_key() {
        let right = counting();
        let secret = DeviceSecret::new_with(&right, Some("2468"), [9; 16], CHEAP).unwrap();
        assert!(secret.needs_pin());
        let enrolled = public(&DeviceKey::derive_bits(&right, 1024).unwrap());
        assert_eq!(secret.seed(Some("2468")).unwrap(), right);
        for pin in ["0000", "2467", "2469", "1", &"9".repeat(64)] {
            let wrong = secret.seed(Some(pin)).unwrap();
            assert_ne!(wrong, right, "{pin}");
            // A valid key, whose signatures the enrolled public key refuses.
            let key = DeviceKey::derive_bits(&wrong, 1024).unwrap();
            key.key.validate().unwrap();
            let signature = key.sign(b"nonce|serial").unwrap();
            assert!(verifies(&public(&key), b"nonce|serial", &signature));
            assert!(!verifies(&enrolled, b"nonce|serial", &signature), "{pin}");
        }
    }

    #[test]
    fn nothing_stored_confirms_a_pin() {
        // The stored record is the salt, the costs and 32 masked bytes, nothing else: no
        // digest, no tag, no public key. Each PIN unmasks to bytes that look alike (uniform
        // random: every candidate is as valid as the right one).
        let secret = DeviceSecret::new_with(&counting(), Some("2468"), [9; 16], CHEAP).unwrap();
        let json = serde_json::to_value(&secret).unwrap();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["masked"]);
        let mut fields: Vec<_> = json["masked"].as_object().unwrap().keys().cloned().collect();
        fields.sort();
        assert_eq!(fields, ["masked", "params", "salt"]);
        let masked = secret.masked.as_ref().unwrap();
        assert_eq!(masked.masked.len(), DEVICE_SEED_LEN);
        // The record round-trips and refuses anything added to it.
        let back: DeviceSecret = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, secret);
        let mut extra = json.clone();
        extra["digest"] = "x".into();
        assert!(serde_json::from_value::<DeviceSecret>(extra).is_err());
        let mut extra = json;
        extra["masked"]["digest"] = "x".into();
        assert!(serde_json::from_value::<DeviceSecret>(extra).is_err());
    }

    #[test]
    fn a_pin_token_needs_its_pin() {
        let secret = DeviceSecret::new_with(&seed(5), Some("2468"), [9; 16], CHEAP).unwrap();
        for pin in [None, Some(""), Some("12a4"), Some(&*"1".repeat(65))] {
            assert_eq!(secret.seed(pin), Err(Error::PinRequired), "{pin:?}");
        }
        // New PINs are 4 to 64 digits.
        for bad in ["", "123", "12a4", " 1234", "١٢٣٤"] {
            assert_eq!(
                DeviceSecret::new_with(&seed(5), Some(bad), [9; 16], CHEAP),
                Err(Error::PinRequired)
            );
        }
        // A plain seed needs none, and ignores one.
        let plain = DeviceSecret::new_with(&seed(5), None, [9; 16], CHEAP).unwrap();
        assert!(!plain.needs_pin());
        assert_eq!(plain.seed(None).unwrap(), seed(5));
        assert_eq!(plain.seed(Some("1234")).unwrap(), seed(5));
        // Both or neither form: no secret.
        let both = DeviceSecret { seed: plain.seed, masked: secret.masked.clone() };
        assert!(matches!(both.seed(Some("2468")), Err(Error::InvalidMessage(_))));
        let neither = DeviceSecret { seed: None, masked: None };
        assert!(matches!(neither.seed(None), Err(Error::InvalidMessage(_))));
    }

    #[test]
    fn the_old_pin_check_is_no_device_secret() {
        // Tokens stored with the earlier PIN check must be enrolled again.
        let old = serde_json::json!({
            "masked": {"salt": "AwMDAwMDAwMDAwMDAwMDAw", "params": {"memoryKib": 64, "iterations": 1, "parallelism": 1}, "masked": "AAAA"},
            "digest": "VtX6czP210fbQsI5QH5dpMMvTHnzXQkrE0/TWkAtnFw="
        });
        assert!(serde_json::from_value::<DeviceSecret>(old).is_err());
    }

    #[test]
    fn seeds_as_text() {
        let text = Base64UrlUnpadded::encode_string(counting().expose());
        assert_eq!(seed_from_text(&text).unwrap(), counting());
        assert!(seed_from_text("AAAA").is_err());
        assert!(seed_from_text("not base64!").is_err());
    }
}
