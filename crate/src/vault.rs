//! The key that encrypts the extension's stored secrets and its export files: Argon2id
//! (RFC 9106) of the person's password, at the costs of [`VAULT_COSTS`] for every new
//! password and export. The costs are stored with each sealed vault and export file, so that
//! one sealed at other costs (earlier versions used PIN masking's m = 19456 KiB, t = 2) still
//! opens.
//!
//! The encryption itself (AES-256-GCM) is done by the browser's WebCrypto; this module only
//! stretches the password, so that a copied profile or export file costs an attacker one
//! Argon2id evaluation per guess.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
pub use crate::push::PinParams as KdfParams;

/// Length of the derived key: an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Length of a salt: 16 random bytes, chosen afresh for every password and every export.
pub const SALT_LEN: usize = 16;
/// The longest password accepted, in bytes of UTF-8.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The costs of a new password or export file: RFC 9106 §4's second recommended option
/// (m = 64 MiB, t = 3, p = 1), for settings where 2 GiB (the first) is too much memory, as in a
/// browser. The key is derived once per unlock or export, not per approval, so it may cost more
/// than PIN masking: about a quarter of a second in the extension's WebAssembly on the
/// reference machine (`BENCHMARKS.md`), which leaves room under a second for slower computers.
pub const VAULT_COSTS: KdfParams = KdfParams { memory_kib: 65_536, iterations: 3, parallelism: 1 };

/// `Argon2id(password, salt, m, t, p, L = 32)`, version 0x13, no secret, no associated data.
///
/// Fails with [`Error::InvalidParameter`] naming `password` (empty, or over
/// [`MAX_PASSWORD_LEN`] bytes), `salt` (not [`SALT_LEN`] bytes), or the cost that is out of
/// range: `memoryKib` (8 × parallelism to 1 GiB), `iterations` (1 to 16), `parallelism`
/// (1 to 16).
pub fn derive_key(
    password: &str,
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
        return Err(Error::InvalidParameter { name: "password" });
    }
    if salt.len() != SALT_LEN {
        return Err(Error::InvalidParameter { name: "salt" });
    }
    if !(1..=16).contains(&params.iterations) {
        return Err(Error::InvalidParameter { name: "iterations" });
    }
    if !(1..=16).contains(&params.parallelism) {
        return Err(Error::InvalidParameter { name: "parallelism" });
    }
    if !(params.parallelism * 8..=1 << 20).contains(&params.memory_kib) {
        return Err(Error::InvalidParameter { name: "memoryKib" });
    }
    let argon2 = params.argon2(KEY_LEN)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    argon2
        .hash_password_into(password.as_bytes(), salt, key.as_mut())
        .map_err(|_| Error::InvalidParameter { name: "memoryKib" })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_use_rfc_9106s_second_recommended_costs() {
        // RFC 9106 §4: "Argon2id with t=3 iterations, p=4 lanes, m=2^(16) (64 MiB of RAM)";
        // one lane here, since this core computes lanes one after another.
        assert_eq!(VAULT_COSTS, KdfParams { memory_kib: 1 << 16, iterations: 3, parallelism: 1 });
        assert_ne!(VAULT_COSTS, KdfParams::default(), "the vault costs more than a PIN");
        let key = derive_key("correct horse battery staple", &[7; SALT_LEN], &VAULT_COSTS);
        assert_eq!(key.unwrap().len(), KEY_LEN);
    }

    const FAST: KdfParams = KdfParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Known answers computed independently with Python's argon2-cffi 25.1.0 (the reference C
    /// implementation): `argon2.low_level.hash_secret_raw(password, salt, time_cost,
    /// memory_cost, parallelism, hash_len=32, type=Type.ID, version=19)`.
    #[test]
    fn matches_the_reference_implementation() {
        let salt: Vec<u8> = (0..16).collect();
        let key = derive_key("correct horse battery staple", &salt, &KdfParams::default()).unwrap();
        assert_eq!(
            hex(key.as_ref()),
            "818259b6310026a8e0dbac5d2e6927abcfdb07b32258fac4f61b18b80f929085"
        );
        let key = derive_key("pässwörd", &[7; 16], &FAST).unwrap();
        assert_eq!(
            hex(key.as_ref()),
            "40b0b4f7b996d539ce4d95d63d0a9d726f426f4b442c522e5963137758237504"
        );
    }

    #[test]
    fn password_and_salt_change_the_key() {
        let a = derive_key("password", &[1; 16], &FAST).unwrap();
        assert_ne!(a, derive_key("passwore", &[1; 16], &FAST).unwrap());
        assert_ne!(a, derive_key("password", &[2; 16], &FAST).unwrap());
        assert_ne!(
            a,
            derive_key("password", &[1; 16], &KdfParams { iterations: 2, ..FAST }).unwrap()
        );
        assert_eq!(a, derive_key("password", &[1; 16], &FAST).unwrap());
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let err = |name| Err(Error::InvalidParameter { name });
        assert_eq!(derive_key("", &[1; 16], &FAST), err("password"));
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(derive_key(&long, &[1; 16], &FAST), err("password"));
        assert!(derive_key(&"x".repeat(MAX_PASSWORD_LEN), &[1; 16], &FAST).is_ok());
        assert_eq!(derive_key("p", &[1; 15], &FAST), err("salt"));
        assert_eq!(derive_key("p", &[1; 17], &FAST), err("salt"));
        for (params, name) in [
            (KdfParams { iterations: 0, ..FAST }, "iterations"),
            (KdfParams { iterations: 17, ..FAST }, "iterations"),
            (KdfParams { parallelism: 0, ..FAST }, "parallelism"),
            (KdfParams { parallelism: 17, ..FAST }, "parallelism"),
            (KdfParams { memory_kib: 7, ..FAST }, "memoryKib"),
            (KdfParams { memory_kib: (1 << 20) + 1, ..FAST }, "memoryKib"),
            (KdfParams { parallelism: 2, memory_kib: 15, iterations: 1 }, "memoryKib"),
        ] {
            assert_eq!(derive_key("p", &[1; 16], &params), err(name), "{params:?}");
        }
    }
}
