//! Secrets at rest: sealed with XChaCha20-Poly1305 under the server key, bound to the row they
//! belong to, so that a database dump alone reveals no token secret.

use std::path::Path;

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;

/// The server key (32 bytes), from a file created on first start.
#[derive(Clone)]
pub struct ServerKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    /// Reads the key file, or creates it (mode 0600) with a fresh random key.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if let Ok(mut file) = std::fs::File::open(path) {
            // The key opens every sealed secret: like an SSH private key, one that other local
            // users may read is refused rather than used (the mode of the file opened, not of
            // whatever the path names a moment later).
            #[cfg(unix)]
            {
                let mode = std::os::unix::fs::PermissionsExt::mode(&file.metadata()?.permissions());
                anyhow::ensure!(
                    mode & 0o077 == 0,
                    "the server key file {} is open to other users (mode {:o}); chmod 600 it",
                    path.display(),
                    mode & 0o777
                );
            }
            let mut bytes = Zeroizing::new(Vec::new());
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            let key: [u8; 32] =
                bytes.as_slice().try_into().context("the server key file must hold 32 bytes")?;
            return Ok(Self(Zeroizing::new(key)));
        }
        let key = Self::random();
        write_private(path, key.0.as_slice())
            .with_context(|| format!("writing the server key to {}", path.display()))?;
        Ok(key)
    }

    /// A fresh random key, for in-memory databases that outlive nothing.
    pub fn random() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(key.as_mut_slice());
        Self(key)
    }

    fn cipher(&self) -> anyhow::Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.0.as_slice())
            .map_err(|_| anyhow::anyhow!("the server key has the wrong length"))
    }

    /// Encrypts `secret`; `context` names where it is stored (table, row id, column) and
    /// must be given again to open it.
    pub fn seal(&self, context: &str, secret: &[u8]) -> anyhow::Result<Vec<u8>> {
        let cipher = self.cipher()?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: context.as_bytes() })
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// A MAC of `data` under a key of its own for `purpose`, derived from the server key
    /// (HMAC-SHA256 under HMAC-SHA256(server key, "pushotp-server mac " || purpose)), for a
    /// value the database keeps only to compare with: a reader of the database, who holds no
    /// server key, cannot test guesses against it, as a plain hash of a short code would let
    /// them. Its own key, so that it has nothing to do with the sealing key's other use.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        type HmacSha256 = Hmac<sha2::Sha256>;
        // HMAC takes a key of any length: neither call can fail.
        let mut derive = <HmacSha256 as KeyInit>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!());
        derive.update(b"pushotp-server mac ");
        derive.update(purpose.as_bytes());
        let key = Zeroizing::new(<[u8; 32]>::from(derive.finalize().into_bytes()));
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key.as_slice())
            .unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        let (nonce, body) =
            sealed.split_at_checked(NONCE_LEN).context("a sealed secret is too short")?;
        let cipher = self.cipher()?;
        cipher
            .decrypt(&XNonce::try_from(nonce)?, Payload { msg: body, aad: context.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| anyhow::anyhow!("a sealed secret does not open with this server key"))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let key = ServerKey::random();
        let sealed = key.seal("tokens/tok_1/keys", b"secret").unwrap();
        assert_eq!(key.open("tokens/tok_1/keys", &sealed).unwrap().as_slice(), b"secret");
        assert!(key.open("tokens/tok_2/keys", &sealed).is_err());
        assert!(ServerKey::random().open("tokens/tok_1/keys", &sealed).is_err());
        assert!(key.open("tokens/tok_1/keys", &sealed[..10]).is_err());
    }
}
