//! HOTP: HMAC-based one-time passwords (RFC 4226).

use core::fmt;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::algorithm::{Algorithm, KeyedMac, format_code, reduce};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Fewest digits in a code: RFC 4226 §5.3 requires at least 6.
pub const MIN_DIGITS: u8 = 6;
/// Most digits in a code: the truncated value has 31 bits, so 10 digits hold all of it.
pub const MAX_DIGITS: u8 = 10;
/// The largest look-ahead or drift window the core searches, in counters or time steps.
/// Larger windows make guessing easier (RFC 4226 §7.4 recommends a small one).
pub const MAX_WINDOW: u64 = 100;

/// Parameters of an HOTP generator (RFC 4226 §5): hash and number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hotp {
    algorithm: Algorithm,
    digits: u8,
}

impl Default for Hotp {
    /// HMAC-SHA-1 with 6 digits, the RFC 4226 defaults.
    fn default() -> Self {
        Self { algorithm: Algorithm::Sha1, digits: 6 }
    }
}

impl Hotp {
    /// An HOTP generator; `digits` must be 6 to 10.
    pub fn new(algorithm: Algorithm, digits: u8) -> Result<Self> {
        check_digits(digits)?;
        Ok(Self { algorithm, digits })
    }

    /// The hash function.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits of each code.
    #[must_use]
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// `HOTP(K, C)` (RFC 4226 §5.3): the code for `counter`, zero-padded to `digits`.
    ///
    /// ```
    /// use pushotp::{Hotp, Secret};
    /// let key = Secret::from_bytes(b"12345678901234567890".to_vec())?;
    /// // RFC 4226 Appendix D, counts 0 and 1.
    /// assert_eq!(Hotp::default().generate(&key, 0), "755224");
    /// assert_eq!(Hotp::default().generate(&key, 1), "287082");
    /// # Ok::<(), pushotp::Error>(())
    /// ```
    #[must_use]
    pub fn generate(&self, secret: &Secret, counter: u64) -> String {
        let value = self.algorithm.truncated_hmac(secret.expose(), &counter.to_be_bytes());
        format_code(value, self.digits)
    }

    /// This generator with `secret` prepared for many codes: the HMAC key schedule
    /// (RFC 2104 §2) is computed once here instead of once per code. See [`KeyedHotp`].
    #[must_use]
    pub fn keyed(&self, secret: &Secret) -> KeyedHotp {
        KeyedHotp { hotp: *self, mac: KeyedMac::new(self.algorithm, secret.expose()) }
    }

    /// Checks `code` against counters `counter ..= counter + look_ahead` (RFC 4226 §7.4
    /// resynchronization) and returns the counter that matched, so the caller can move its
    /// counter past it and refuse the same code again.
    ///
    /// Every candidate is computed and compared in constant time, whether or not an earlier
    /// one matched. A code that is not all digits is an error; one of the wrong length simply
    /// does not match.
    pub fn verify(
        &self,
        secret: &Secret,
        code: &str,
        counter: u64,
        look_ahead: u64,
    ) -> Result<Option<u64>> {
        // Checked before the key is prepared: a malformed code costs no hashing.
        check_verify(code, look_ahead)?;
        self.keyed(secret).verify(code, counter, look_ahead)
    }
}

/// An HOTP generator with its key prepared: what a verifier or an authenticator keeps for a
/// token that makes more than one code (a look-ahead window, a list of codes refreshed every
/// period, a server checking many logins).
///
/// It holds the HMAC state after the key (RFC 2104 §2), so each code costs two hash
/// compressions (SHA-1, SHA-256) instead of four, and gives the same codes as
/// [`Hotp::generate`]. That state is as good as the secret: it is wiped when dropped, `Debug`
/// shows only the parameters, and [`verify`](Self::verify) compares in constant time like
/// [`Hotp::verify`].
///
/// ```
/// use pushotp::{Hotp, Secret};
/// let key = Secret::from_bytes(b"12345678901234567890".to_vec())?;
/// let keyed = Hotp::default().keyed(&key);
/// // RFC 4226 Appendix D, counts 0 and 9.
/// assert_eq!(keyed.generate(0), "755224");
/// assert_eq!(keyed.generate(9), "520489");
/// assert_eq!(keyed.verify("520489", 5, 10)?, Some(9));
/// # Ok::<(), pushotp::Error>(())
/// ```
#[derive(Clone)]
pub struct KeyedHotp {
    hotp: Hotp,
    mac: KeyedMac,
}

impl KeyedHotp {
    /// The generator's parameters (hash and digits).
    #[must_use]
    pub fn hotp(&self) -> Hotp {
        self.hotp
    }

    /// `HOTP(K, C)` (RFC 4226 §5.3) for `counter`, zero-padded to the generator's digits.
    #[must_use]
    pub fn generate(&self, counter: u64) -> String {
        format_code(self.truncated(counter), self.hotp.digits)
    }

    /// `HOTP(K, C)` as a number, `Snum mod 10^Digit` (RFC 4226 §5.3): the code without its
    /// leading zeros, for callers that pad it themselves (the WebAssembly batch of codes).
    #[must_use]
    pub fn generate_number(&self, counter: u64) -> u32 {
        reduce(self.truncated(counter), self.hotp.digits)
    }

    /// [`Hotp::verify`] with the prepared key: checks `code` against counters
    /// `counter ..= counter + look_ahead` (RFC 4226 §7.4), every candidate computed and compared
    /// in constant time, and returns the counter that matched.
    pub fn verify(&self, code: &str, counter: u64, look_ahead: u64) -> Result<Option<u64>> {
        check_verify(code, look_ahead)?;
        Ok(first_match(code, (0..=look_ahead).filter_map(|i| counter.checked_add(i)), |c| {
            self.generate(c)
        }))
    }

    fn truncated(&self, counter: u64) -> u32 {
        self.mac.truncated(&counter.to_be_bytes())
    }
}

impl fmt::Debug for KeyedHotp {
    /// The parameters only: the keyed state is as secret as the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedHotp").field("hotp", &self.hotp).finish_non_exhaustive()
    }
}

/// The checks of every verification before any hashing: the code's characters and the window.
pub(crate) fn check_verify(code: &str, window: u64) -> Result<()> {
    check_code(code)?;
    if window > MAX_WINDOW {
        return Err(Error::WindowTooLarge { max: MAX_WINDOW });
    }
    Ok(())
}

pub(crate) fn check_digits(digits: u8) -> Result<()> {
    if (MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        Ok(())
    } else {
        Err(Error::InvalidDigits { min: MIN_DIGITS, max: MAX_DIGITS })
    }
}

pub(crate) fn check_code(code: &str) -> Result<()> {
    if code.is_empty() || code.len() > usize::from(MAX_DIGITS) * 4 {
        return Err(Error::MalformedCode);
    }
    if code.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err(Error::MalformedCode) }
}

/// Compares `code` with the code of every candidate without stopping early, and returns the
/// first candidate that matched.
pub(crate) fn first_match(
    code: &str,
    candidates: impl Iterator<Item = u64>,
    generate: impl Fn(u64) -> String,
) -> Option<u64> {
    let mut found = 0u64;
    let mut any = Choice::from(0);
    for candidate in candidates {
        let expected = generate(candidate);
        // Lengths are public (the digit count); contents are compared in constant time.
        let equal = expected.as_bytes().ct_eq(code.as_bytes()) & !any;
        found = u64::conditional_select(&found, &candidate, equal);
        any |= equal;
    }
    bool::from(any).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn verify_returns_the_matching_counter_within_look_ahead() {
        let hotp = Hotp::default();
        // RFC 4226 Appendix D: count 3 is 969429.
        assert_eq!(hotp.verify(&key(), "969429", 0, 5).unwrap(), Some(3));
        assert_eq!(hotp.verify(&key(), "969429", 0, 2).unwrap(), None);
        assert_eq!(hotp.verify(&key(), "969429", 4, 5).unwrap(), None);
        assert_eq!(hotp.verify(&key(), "96942", 0, 5).unwrap(), None);
    }

    #[test]
    fn verify_rejects_malformed_input() {
        let hotp = Hotp::default();
        assert_eq!(hotp.verify(&key(), "", 0, 1), Err(Error::MalformedCode));
        assert_eq!(hotp.verify(&key(), "96 429", 0, 1), Err(Error::MalformedCode));
        assert_eq!(hotp.verify(&key(), "９６９４２９", 0, 1), Err(Error::MalformedCode));
        assert_eq!(
            hotp.verify(&key(), "969429", 0, MAX_WINDOW + 1),
            Err(Error::WindowTooLarge { max: MAX_WINDOW })
        );
    }

    #[test]
    fn verify_near_counter_end_does_not_overflow() {
        assert_eq!(Hotp::default().verify(&key(), "123456", u64::MAX, 3).unwrap(), None);
    }

    /// RFC 4226 Appendix D, counts 0 to 9.
    const APPENDIX_D: [&str; 10] = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];

    #[test]
    fn keyed_gives_the_codes_of_the_plain_path() {
        let hotp = Hotp::default();
        let keyed = hotp.keyed(&key());
        for (counter, want) in (0u64..).zip(APPENDIX_D) {
            assert_eq!(hotp.generate(&key(), counter), want);
            assert_eq!(keyed.generate(counter), want);
            assert_eq!(keyed.generate_number(counter), want.parse::<u32>().unwrap());
        }
        // Every hash and digit count, at counters far apart, and the same state reused.
        for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            for digits in MIN_DIGITS..=MAX_DIGITS {
                let hotp = Hotp::new(algorithm, digits).unwrap();
                let keyed = hotp.keyed(&key());
                for counter in [0, 1, 0x7fff_ffff, u64::MAX] {
                    let code = hotp.generate(&key(), counter);
                    assert_eq!(keyed.generate(counter), code);
                    assert_eq!(keyed.generate_number(counter), code.parse::<u32>().unwrap());
                }
                assert_eq!(keyed.hotp(), hotp);
            }
        }
    }

    #[test]
    fn keyed_verify_matches_the_plain_path() {
        let hotp = Hotp::default();
        let keyed = hotp.keyed(&key());
        for (code, counter, look_ahead) in
            [("969429", 0, 5), ("969429", 0, 2), ("969429", 4, 5), ("96942", 0, 5)]
        {
            assert_eq!(
                keyed.verify(code, counter, look_ahead),
                hotp.verify(&key(), code, counter, look_ahead)
            );
        }
        assert_eq!(keyed.verify("969429", 0, 5), Ok(Some(3)));
        assert_eq!(keyed.verify("9694x9", 0, 5), Err(Error::MalformedCode));
        assert_eq!(
            keyed.verify("969429", 0, MAX_WINDOW + 1),
            Err(Error::WindowTooLarge { max: MAX_WINDOW })
        );
    }

    #[test]
    fn keyed_debug_shows_no_key() {
        let shown = format!("{:?}", Hotp::default().keyed(&key()));
        assert_eq!(shown, "KeyedHotp { hotp: Hotp { algorithm: Sha1, digits: 6 }, .. }");
    }

    #[test]
    fn digits_outside_6_to_10_are_refused() {
        for digits in [0, 5, 11, 255] {
            assert!(matches!(Hotp::new(Algorithm::Sha1, digits), Err(Error::InvalidDigits { .. })));
        }
        assert_eq!(Hotp::new(Algorithm::Sha1, 8).unwrap().generate(&key(), 0), "84755224");
    }
}
