//! Online password guessing: wrong passwords back off exponentially per account and per client
//! address, in tables of bounded size.
//!
//! The state is this node's own: with several nodes behind one address each keeps its own
//! counts (docs/threat-model.md, "Known limits").

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The first wait once the free failures are used up; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait, and how long a key is remembered after its last failure.
pub const MAX_WAIT: Duration = Duration::from_secs(900);
/// Wrong passwords for one account before it has to wait.
const ACCOUNT_FREE: u32 = 5;
/// Wrong passwords from one address before it has to wait: more than per account, since many
/// people can share one address (a company's NAT).
const ADDRESS_FREE: u32 = 20;
/// Keys each table holds at most: a flood of made-up names or addresses cannot grow it further.
const CAPACITY: usize = 65_536;

/// The password step's throttle: per account (the name typed) and per client address.
#[derive(Debug)]
pub struct Throttle {
    accounts: Backoff<String>,
    addresses: Backoff<IpAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            accounts: Backoff::new(ACCOUNT_FREE, CAPACITY),
            addresses: Backoff::new(ADDRESS_FREE, CAPACITY),
        }
    }
}

impl Throttle {
    /// How long a password check for `account` from `address` must still wait, if at all.
    /// A check that waits is refused without looking at the password.
    pub fn wait(&self, account: &str, address: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let account = self.accounts.wait(account, now);
        let address = self.addresses.wait(&address, now);
        account.max(address)
    }

    /// A wrong password for `account` from `address`.
    pub fn failed(&self, account: &str, address: IpAddr) {
        let now = Instant::now();
        self.accounts.failed(account.to_owned(), now);
        self.addresses.failed(address, now);
    }

    /// The right password for `account`: its count starts again. The address keeps its count,
    /// so that an attacker's own account cannot clear the address it guesses from.
    pub fn succeeded(&self, account: &str) {
        self.accounts.forget(account);
    }
}

/// Exponential backoff per key: after `free` failures, each failure makes the key wait
/// [`FIRST_WAIT`] doubled per failure beyond those, up to [`MAX_WAIT`].
#[derive(Debug)]
struct Backoff<K> {
    free: u32,
    capacity: usize,
    keys: Mutex<HashMap<K, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// When the key may try again: `last` plus the wait its count has earned.
    fn until(self, free: u32) -> Instant {
        let Some(beyond) = self.count.checked_sub(free).filter(|n| *n > 0) else {
            return self.last;
        };
        let wait = FIRST_WAIT.saturating_mul(1 << (beyond - 1).min(20)).min(MAX_WAIT);
        self.last + wait
    }
}

impl<K: Hash + Eq + Clone> Backoff<K> {
    fn new(free: u32, capacity: usize) -> Self {
        Self { free, capacity, keys: Mutex::new(HashMap::new()) }
    }

    fn wait<Q>(&self, key: &Q, now: Instant) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let until = keys.get(key)?.until(self.free);
        (until > now).then(|| until - now)
    }

    fn failed(&self, key: K, now: Instant) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if !keys.contains_key(&key) && keys.len() >= self.capacity {
            // Forget what is over first; if the table is still full, the key with the fewest
            // failures goes, so that a flood of one-off names cannot push out an account
            // under attack.
            keys.retain(|_, f| now.saturating_duration_since(f.last) < MAX_WAIT);
            if keys.len() >= self.capacity {
                let least =
                    keys.iter().min_by_key(|(_, f)| (f.count, f.last)).map(|(k, _)| k.clone());
                if let Some(least) = least {
                    keys.remove(&least);
                }
            }
        }
        let entry = keys.entry(key).or_insert(Failures { count: 0, last: now });
        // A key whose last failure is long past starts again.
        if now.saturating_duration_since(entry.last) >= MAX_WAIT {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    fn forget<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures() {
        let backoff = Backoff::<u32>::new(2, 10);
        let t0 = Instant::now();
        backoff.failed(1, t0);
        backoff.failed(1, t0);
        assert_eq!(backoff.wait(&1, t0), None, "two failures are free");
        backoff.failed(1, t0);
        assert_eq!(backoff.wait(&1, t0), Some(FIRST_WAIT));
        backoff.failed(1, t0);
        assert_eq!(backoff.wait(&1, t0), Some(FIRST_WAIT * 2));
        for _ in 0..100 {
            backoff.failed(1, t0);
        }
        assert_eq!(backoff.wait(&1, t0), Some(MAX_WAIT));
        assert_eq!(backoff.wait(&1, t0 + MAX_WAIT), None);
        backoff.forget(&1);
        assert_eq!(backoff.wait(&1, t0), None);
    }

    #[test]
    fn a_flood_of_new_keys_stays_bounded_and_keeps_the_key_under_attack() {
        let backoff = Backoff::<u32>::new(1, 100);
        let t0 = Instant::now();
        for _ in 0..10 {
            backoff.failed(0, t0);
        }
        for key in 1..10_000 {
            backoff.failed(key, t0);
        }
        assert_eq!(backoff.len(), 100);
        assert!(backoff.wait(&0, t0).is_some(), "the account under attack still waits");
    }
}
