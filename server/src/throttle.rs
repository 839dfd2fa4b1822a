//! Online password guessing: wrong passwords back off exponentially per account and per client
//! address, in tables of bounded size.
//!
//! The state is this node's own: with several nodes behind one address each keeps its own
//! counts (docs/threat-model.md, "Known limits").

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
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
    /// Starts a password check for `account` from `address`, or says how long it must still
    /// wait. A check that waits is refused without looking at the password.
    ///
    /// The check is counted as a failure in the same step, before the password is looked at:
    /// guesses sent all at once are counted one after the other, so no more of them reach the
    /// password than the free failures allow. [`Attempt::succeeded`] gives the count back.
    pub fn begin(&self, account: &str, address: IpAddr) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let address = network(address);
        // Both tables are locked (always in this order) so that a check refused by one is not
        // counted by the other.
        let mut accounts = self.accounts.lock();
        let mut addresses = self.addresses.lock();
        let wait = self
            .accounts
            .wait(&accounts, account, now)
            .max(self.addresses.wait(&addresses, &address, now));
        if let Some(wait) = wait {
            return Err(wait);
        }
        self.accounts.failed(&mut accounts, account.to_owned(), now);
        self.addresses.failed(&mut addresses, address, now);
        Ok(Attempt { throttle: self, account: account.to_owned(), address, done: false })
    }
}

/// A password check under way, counted as a failure until it says otherwise. Dropped without
/// an outcome (the check could not run: no slot, a storage error), it gives its count back.
#[derive(Debug)]
#[must_use = "an attempt gives its count back when dropped"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    account: String,
    address: IpAddr,
    done: bool,
}

impl Attempt<'_> {
    /// A wrong password: the count stays.
    pub fn failed(mut self) {
        self.done = true;
    }

    /// The right password: the account's count starts again. The address keeps its earlier
    /// failures, so that an attacker's own account cannot clear the address it guesses from.
    pub fn succeeded(mut self) {
        self.done = true;
        self.throttle.accounts.forget(&self.account);
        self.throttle.addresses.give_back(&self.address);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle.accounts.give_back(self.account.as_str());
            self.throttle.addresses.give_back(&self.address);
        }
    }
}

/// The key an address counts under: an IPv6 address by its /64, since one host or one home
/// is commonly given a whole /64 and can pick any address in it (RFC 4291 §2.5.1, RFC 6177 §2);
/// an IPv4-mapped IPv6 address as the IPv4 address it is.
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
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
        self.last + wait_after(self.count, free)
    }
}

/// The wait that `count` failures in a row earn when the first `free` of them are free:
/// none up to `free`, then [`FIRST_WAIT`] doubled per failure beyond, up to [`MAX_WAIT`]. The
/// password step and typed passcodes ([`crate::signin::typed_passcode`]) share it.
pub fn wait_after(count: u32, free: u32) -> Duration {
    match count.checked_sub(free).filter(|n| *n > 0) {
        Some(beyond) => FIRST_WAIT.saturating_mul(1 << (beyond - 1).min(20)).min(MAX_WAIT),
        None => Duration::ZERO,
    }
}

type Keys<K> = HashMap<K, Failures>;

impl<K: Hash + Eq + Clone> Backoff<K> {
    fn new(free: u32, capacity: usize) -> Self {
        Self { free, capacity, keys: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, Keys<K>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<Q>(&self, keys: &Keys<K>, key: &Q, now: Instant) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let until = keys.get(key)?.until(self.free);
        (until > now).then(|| until - now)
    }

    fn failed(&self, keys: &mut Keys<K>, key: K, now: Instant) {
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

    /// Takes back one failure counted for a check that turned out not to be one.
    fn give_back<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut keys = self.lock();
        if let Some(entry) = keys.get_mut(key) {
            entry.count = entry.count.saturating_sub(1);
            if entry.count == 0 {
                keys.remove(key);
            }
        }
    }

    fn forget<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(backoff: &Backoff<u32>, key: u32, now: Instant) {
        backoff.failed(&mut backoff.lock(), key, now);
    }

    fn wait(backoff: &Backoff<u32>, key: u32, now: Instant) -> Option<Duration> {
        backoff.wait(&backoff.lock(), &key, now)
    }

    #[test]
    fn waits_double_after_the_free_failures() {
        let backoff = Backoff::<u32>::new(2, 10);
        let t0 = Instant::now();
        fail(&backoff, 1, t0);
        fail(&backoff, 1, t0);
        assert_eq!(wait(&backoff, 1, t0), None, "two failures are free");
        fail(&backoff, 1, t0);
        assert_eq!(wait(&backoff, 1, t0), Some(FIRST_WAIT));
        fail(&backoff, 1, t0);
        assert_eq!(wait(&backoff, 1, t0), Some(FIRST_WAIT * 2));
        backoff.give_back(&1);
        assert_eq!(wait(&backoff, 1, t0), Some(FIRST_WAIT), "one failure given back");
        for _ in 0..100 {
            fail(&backoff, 1, t0);
        }
        assert_eq!(wait(&backoff, 1, t0), Some(MAX_WAIT));
        assert_eq!(wait(&backoff, 1, t0 + MAX_WAIT), None);
        backoff.forget(&1);
        assert_eq!(wait(&backoff, 1, t0), None);
    }

    #[test]
    fn a_flood_of_new_keys_stays_bounded_and_keeps_the_key_under_attack() {
        let backoff = Backoff::<u32>::new(1, 100);
        let t0 = Instant::now();
        for _ in 0..10 {
            fail(&backoff, 0, t0);
        }
        for key in 1..10_000 {
            fail(&backoff, key, t0);
        }
        assert_eq!(backoff.len(), 100);
        assert!(wait(&backoff, 0, t0).is_some(), "the account under attack still waits");
    }

    #[test]
    fn an_attempt_without_an_outcome_gives_its_count_back() {
        let throttle = Throttle::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            drop(throttle.begin("alice", address).unwrap());
        }
        assert_eq!(throttle.accounts.len() + throttle.addresses.len(), 0);
        for _ in 0..ACCOUNT_FREE {
            throttle.begin("alice", address).unwrap().failed();
        }
        throttle.begin("alice", address).unwrap().succeeded();
        assert_eq!(throttle.accounts.len(), 0, "the right password clears the account");
        assert_eq!(throttle.addresses.lock()[&address].count, ACCOUNT_FREE);
    }

    #[test]
    fn addresses_count_by_ipv6_network() {
        let key = |a: &str| network(a.parse().unwrap());
        assert_eq!(key("2001:db8:0:7::1"), key("2001:db8:0:7:ffff::beef"));
        assert_ne!(key("2001:db8:0:7::1"), key("2001:db8:0:8::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }
}
