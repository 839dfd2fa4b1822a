//! People and their passwords (Argon2id, RFC 9106, as PHC strings).

use anyhow::Context;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, PasswordHash};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::clock::{now, secs};
use crate::db::Db;
use crate::store;
pub use crate::store::users::User;

/// Adds a person; fails if the name is taken or not a plain login name.
pub async fn add(db: &Db, username: &str, password: &str) -> anyhow::Result<User> {
    anyhow::ensure!(
        valid_username(username),
        "a username is 1 to {MAX_USERNAME} letters, digits, '.', '_', '-' or '@'"
    );
    anyhow::ensure!(
        !password.is_empty() && password.len() <= 1024,
        "a password is 1 to 1024 bytes"
    );
    let hash = hash_password(password)?;
    let id = store::users::insert(db, username, &hash, secs(now())?)
        .await
        .with_context(|| format!("adding user {username} (is the name taken?)"))?;
    Ok(User { id, username: username.to_owned() })
}

/// The person named `username`, if any.
pub async fn find(db: &Db, username: &str) -> anyhow::Result<Option<User>> {
    store::users::find(db, username).await
}

/// Whether anyone can sign in at all.
pub async fn any(db: &Db) -> anyhow::Result<bool> {
    store::users::any(db).await
}

/// Password checks refused because every slot is taken and the queue is full.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Too many checks are running or waiting; try again in a moment.
    #[error("too many password checks at once")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The person if `password` is theirs. Takes as long for an unknown name as for a known one,
/// so the answer does not reveal which names exist.
pub async fn check_password(
    db: &Db,
    slots: &Slots,
    username: &str,
    password: &str,
) -> Result<Option<User>, CheckError> {
    // Each check takes Argon2id's memory (19 MiB): a few at a time, a bounded queue waits its
    // turn, and the rest is refused at once rather than waiting behind a flood.
    let turn = slots.enter().await?;
    let (user, hash) = match store::users::with_password_hash(db, username).await? {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let password = password.to_owned();
    // The slot goes with the hash, not with this future: a client that hangs up drops the
    // future, but the blocking hash runs on to its end and must keep holding its slot, or
    // hanging up would start Argon2 runs (and their memory) without bound.
    let ok = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        verify_password(&hash, &password)
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(user.filter(|_| ok))
}

/// Password checks at once.
const CHECKS: usize = 4;

/// The slots for password checks: [`CHECKS`] run at once and at most `queue` wait.
#[derive(Debug)]
pub struct Slots {
    running: std::sync::Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

impl Slots {
    /// [`CHECKS`] slots with room for `queue` checks waiting.
    pub fn new(queue: usize) -> Self {
        Self {
            running: std::sync::Arc::new(tokio::sync::Semaphore::new(CHECKS)),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, CheckError> {
        if let Ok(permit) = self.running.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _place = Waiting::join(&self.waiting, self.queue).ok_or(CheckError::Busy)?;
        self.running.clone().acquire_owned().await.map_err(|e| CheckError::Internal(e.into()))
    }
}

/// A place in the queue, given back when dropped: also when the request waiting in it is
/// cancelled (its client went away), so that cancelled requests cannot fill the queue for good.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn join(waiting: &'a AtomicUsize, queue: usize) -> Option<Self> {
        let place = Self(waiting);
        (waiting.fetch_add(1, Ordering::AcqRel) < queue).then_some(place)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The longest username, in bytes.
pub const MAX_USERNAME: usize = 64;

fn valid_username(name: &str) -> bool {
    (1..=MAX_USERNAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks `password` against a PHC string, in Argon2's own memory from [`MEMORY`].
///
/// `Argon2::verify_password` allocates its 19 MiB afresh for every check. glibc's allocator
/// then raises its threshold for serving large blocks from fresh mappings and keeps the freed
/// blocks in its heaps instead: after a burst of logins the server stayed at 0.7 to 1.4 GB.
/// Reusing the blocks bounds that at [`CHECKS`] blocks per [`Slots`].
fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt.as_ref(), parsed.hash.as_ref()) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else { return false };
    let blocks = params.block_count();
    let mut memory =
        MEMORY.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
    memory.resize(blocks, argon2::Block::default());
    let mut output = Zeroizing::new(vec![0u8; expected.len()]);
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt.as_ref(),
        &mut output,
        memory.get_mut(..blocks).unwrap_or_default(),
    );
    // The memory held the password's derivation: wipe it before it goes back.
    memory.iter_mut().for_each(|block| *block = argon2::Block::default());
    // At most one buffer per slot is kept: more would only hold memory a burst once needed.
    let mut kept = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < CHECKS {
        kept.push(memory);
    }
    drop(kept);
    hashed.is_ok() && bool::from(output.as_slice().ct_eq(expected.as_bytes()))
}

/// Argon2's working memory, kept between checks (at most [`CHECKS`] per [`Slots`] at once).
static MEMORY: Mutex<Vec<Vec<argon2::Block>>> = Mutex::new(Vec::new());

/// A valid hash of a random password, checked when the name is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut random = [0u8; 16];
        rand::fill(&mut random);
        hash_password(&format!("{random:?}")).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Whether `enter` is still waiting after a moment (rather than refused or let in).
    async fn waits(slots: &Slots) -> bool {
        tokio::time::timeout(Duration::from_millis(20), slots.enter()).await.is_err()
    }

    #[tokio::test]
    async fn a_check_whose_client_went_away_keeps_its_slot_until_its_hash_ends() {
        let db = crate::db::Db::connect("sqlite::memory:").await.unwrap();
        let slots = std::sync::Arc::new(Slots::new(2));
        // One hash first, so that one buffer waits in MEMORY: the check's hash takes it when it
        // starts, which tells this test that the hash is running.
        assert!(!verify_password(dummy_hash(), "warm-up"));
        let kept = || MEMORY.lock().unwrap_or_else(PoisonError::into_inner).len();
        assert!(kept() >= 1);
        let check = {
            let slots = slots.clone();
            tokio::spawn(async move { check_password(&db, &slots, "nobody", "guess").await })
        };
        // Once the check's hash has started, its client hangs up.
        while kept() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        check.abort();
        assert!(check.await.unwrap_err().is_cancelled());
        // Argon2 runs on (it cannot be stopped midway): it still holds its slot, or hanging up
        // again and again would start hashes, and take their memory, without bound.
        assert_eq!(slots.running.available_permits(), CHECKS - 1);
        for _ in 0..1000 {
            if slots.running.available_permits() == CHECKS {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the slot was not given back when the hash ended");
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_cancelled_waiters_give_their_place_back() {
        let slots = std::sync::Arc::new(Slots::new(2));
        let mut running = Vec::new();
        for _ in 0..CHECKS {
            running.push(slots.enter().await.unwrap());
        }
        // Waiters whose requests are cancelled (the timeout drops them) leave the queue.
        for _ in 0..5 {
            assert!(waits(&slots).await, "a place in the queue");
        }
        // Two that stay fill it; the next is refused at once.
        let mut queued = Vec::new();
        for _ in 0..2 {
            let slots = slots.clone();
            queued.push(tokio::spawn(async move { slots.enter().await.map(drop).is_ok() }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(slots.enter().await, Err(CheckError::Busy)));
        // A check that ends lets a waiter in.
        drop(running);
        for waiter in queued {
            assert!(waiter.await.unwrap());
        }
    }
}
