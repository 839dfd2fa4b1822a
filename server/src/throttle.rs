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
    /// For the account, a check counts as a failure from the moment it starts until its outcome
    /// is known: guesses sent all at once are admitted one after the other, so no more of them
    /// reach the password than the free failures allow. The address counts finished failures
    /// only, so that many people behind one address signing in at once are not refused; a burst
    /// from one address can therefore get the running and queued checks past its free ones
    /// before it waits (docs/threat-model.md, "Known limits").
    pub fn begin(&self, account: &str, address: IpAddr) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let address = network(address);
        // Both tables are locked (always in this order), so that a check refused by one is not
        // started in the other.
        let mut accounts = self.accounts.lock();
        let addresses = self.addresses.lock();
        let wait = self
            .accounts
            .wait(&accounts, account, now)
            .max(self.addresses.wait(&addresses, &address, now));
        if let Some(wait) = wait {
            return Err(wait);
        }
        self.accounts.start(&mut accounts, account.to_owned(), now);
        Ok(Attempt { throttle: self, account: account.to_owned(), address, done: false })
    }
}

/// A password check under way, which holds back the account's next checks until it says how it
/// went. Dropped without an outcome (the check could not run: no slot, a storage error), it
/// counts nothing.
#[derive(Debug)]
#[must_use = "an attempt counts nothing unless it says how it went"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    account: String,
    address: IpAddr,
    done: bool,
}

impl Attempt<'_> {
    /// A wrong password: a failure for the account and for the address.
    pub fn failed(mut self) {
        self.done = true;
        let now = Instant::now();
        self.throttle.accounts.finish(&self.account, Outcome::Failed, now);
        self.throttle.addresses.failed(&mut self.throttle.addresses.lock(), self.address, now);
    }

    /// The right password: the account's failures are forgotten. The address keeps its
    /// failures (an attacker's own account cannot clear the address it guesses from), and its
    /// wait is not moved.
    pub fn succeeded(mut self) {
        self.done = true;
        self.throttle.accounts.finish(&self.account, Outcome::Succeeded, Instant::now());
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle.accounts.finish(&self.account, Outcome::NotRun, Instant::now());
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

/// How a started check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Failed,
    Succeeded,
    NotRun,
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
    /// Finished failures.
    count: u32,
    /// When the last of them was.
    last: Instant,
    /// Checks started and not yet finished, each counted as a failure at `started`.
    running: u32,
    /// When the newest of them started.
    started: Instant,
}

impl Failures {
    fn new(now: Instant) -> Self {
        Self { count: 0, last: now, running: 0, started: now }
    }

    /// The finished failures that still count: none once the last is [`MAX_WAIT`] old.
    fn counting(self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.last) >= MAX_WAIT { 0 } else { self.count }
    }

    /// When the key may try again: the wait its finished failures earned after the last of
    /// them, or, while checks run, the wait they would earn as failures from the newest start.
    fn until(self, free: u32, now: Instant) -> Instant {
        let count = self.counting(now);
        let settled = self.last + wait_after(count, free, MAX_WAIT);
        if self.running == 0 {
            return settled;
        }
        settled.max(self.started + wait_after(count.saturating_add(self.running), free, MAX_WAIT))
    }
}

/// The wait that `count` failures in a row earn when the first `free` of them are free: none
/// up to `free`, then [`FIRST_WAIT`] doubled per failure beyond, up to `longest`. The password
/// step ([`MAX_WAIT`]) and typed passcodes ([`crate::signin::typed_passcode`]) share it.
pub fn wait_after(count: u32, free: u32, longest: Duration) -> Duration {
    match count.checked_sub(free).filter(|n| *n > 0) {
        Some(beyond) => FIRST_WAIT.saturating_mul(1 << (beyond - 1).min(30)).min(longest),
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
        let until = keys.get(key)?.until(self.free, now);
        (until > now).then(|| until - now)
    }

    /// The entry of `key`, made room for if the table is full.
    fn entry<'k>(&self, keys: &'k mut Keys<K>, key: K, now: Instant) -> &'k mut Failures {
        if !keys.contains_key(&key) && keys.len() >= self.capacity {
            // Forget what is over first; if the table is still full, the key with the fewest
            // failures goes, so that a flood of one-off names cannot push out an account
            // under attack.
            keys.retain(|_, f| f.running > 0 || f.counting(now) > 0);
            if keys.len() >= self.capacity {
                let least = keys
                    .iter()
                    .min_by_key(|(_, f)| (f.counting(now), f.running, f.last))
                    .map(|(k, _)| k.clone());
                if let Some(least) = least {
                    keys.remove(&least);
                }
            }
        }
        keys.entry(key).or_insert_with(|| Failures::new(now))
    }

    /// A check of `key` starts.
    fn start(&self, keys: &mut Keys<K>, key: K, now: Instant) {
        let entry = self.entry(keys, key, now);
        entry.running = entry.running.saturating_add(1);
        entry.started = now;
    }

    /// A finished failure of `key`.
    fn failed(&self, keys: &mut Keys<K>, key: K, now: Instant) {
        let entry = self.entry(keys, key, now);
        entry.count = entry.counting(now).saturating_add(1);
        entry.last = now;
    }

    /// A check of `key` started with [`start`](Self::start) ends.
    fn finish<Q>(&self, key: &Q, outcome: Outcome, now: Instant)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut keys = self.lock();
        if let Some(entry) = keys.get_mut(key) {
            entry.running = entry.running.saturating_sub(1);
        }
        match outcome {
            Outcome::Failed => self.failed(&mut keys, key.to_owned(), now),
            Outcome::Succeeded => {
                if let Some(entry) = keys.get_mut(key) {
                    entry.count = 0;
                }
            }
            Outcome::NotRun => {}
        }
        if keys.get(key).is_some_and(|f| f.running == 0 && f.counting(now) == 0) {
            keys.remove(key);
        }
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
        for _ in 0..100 {
            fail(&backoff, 1, t0);
        }
        assert_eq!(wait(&backoff, 1, t0), Some(MAX_WAIT));
        assert_eq!(wait(&backoff, 1, t0 + MAX_WAIT), None);
        // A failure long after the last starts the count again.
        fail(&backoff, 1, t0 + MAX_WAIT);
        assert_eq!(wait(&backoff, 1, t0 + MAX_WAIT), None);
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
    fn running_checks_hold_back_the_account_and_leave_nothing_without_an_outcome() {
        let throttle = Throttle::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let running: Vec<_> =
            (0..=ACCOUNT_FREE).map(|_| throttle.begin("alice", address).unwrap()).collect();
        assert!(throttle.begin("alice", address).is_err(), "the free ones and one more run");
        assert!(throttle.begin("bob", address).is_ok(), "another account is not held back");
        drop(running);
        assert_eq!(throttle.accounts.len() + throttle.addresses.len(), 0, "nothing counted");
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

    #[test]
    fn a_right_password_does_not_restart_the_addresss_wait() {
        let throttle = Throttle::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now() - MAX_WAIT / 2;
        {
            let mut addresses = throttle.addresses.lock();
            for _ in 0..ADDRESS_FREE + 1 {
                throttle.addresses.failed(&mut addresses, network(address), t0);
            }
        }
        // The address's wait (1 s after t0) is long over: a right password goes through...
        throttle.begin("alice", address).unwrap().succeeded();
        // ...and does not make the others behind that address wait again.
        assert!(throttle.begin("bob", address).is_ok(), "a success restarted the wait");
    }

    #[test]
    fn many_right_passwords_at_once_from_one_address_all_run() {
        let throttle = Throttle::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let running: Vec<_> = (0..100)
            .map(|i| throttle.begin(&format!("person{i}"), address))
            .collect::<Result<_, _>>()
            .expect("no one behind the address is refused");
        running.into_iter().for_each(Attempt::succeeded);
    }
}
