//! TOTP: time-based one-time passwords (RFC 6238).

use core::fmt;

use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::{Hotp, KeyedHotp, MAX_WINDOW, check_code, check_digits, first_match};
use crate::secret::Secret;

/// The default time step X of RFC 6238 §4.1, in seconds.
pub const DEFAULT_PERIOD: u64 = 30;
/// The longest time step the core accepts: one day.
pub const MAX_PERIOD: u64 = 86_400;

/// How many time steps before and after the current one a verifier accepts
/// (RFC 6238 §5.2 recommends at most one step of network delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Steps in the past that still count (clock behind, or a slow person).
    pub behind: u64,
    /// Steps in the future that still count (clock ahead).
    pub ahead: u64,
}

impl Window {
    /// One step either side: the RFC 6238 §5.2 recommendation.
    pub const ONE_STEP: Self = Self { behind: 1, ahead: 1 };
}

/// Parameters of a TOTP generator (RFC 6238 §4): hash, digits, period X and start time T0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totp {
    hotp: Hotp,
    period: u64,
    t0: u64,
}

impl Default for Totp {
    /// HMAC-SHA-1, 6 digits, 30 s steps from the Unix epoch.
    fn default() -> Self {
        Self { hotp: Hotp::default(), period: DEFAULT_PERIOD, t0: 0 }
    }
}

impl Totp {
    /// A TOTP generator. `digits` must be 6 to 10, `period` 1 s to one day; `t0` is the Unix
    /// time at which step 0 begins.
    pub fn new(algorithm: Algorithm, digits: u8, period: u64, t0: u64) -> Result<Self> {
        check_digits(digits)?;
        if period == 0 || period > MAX_PERIOD {
            return Err(Error::InvalidPeriod { max: MAX_PERIOD });
        }
        Ok(Self { hotp: Hotp::new(algorithm, digits)?, period, t0 })
    }

    /// The hash function.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.hotp.algorithm()
    }

    /// The number of digits of each code.
    #[must_use]
    pub fn digits(&self) -> u8 {
        self.hotp.digits()
    }

    /// The time step X in seconds.
    #[must_use]
    pub fn period(&self) -> u64 {
        self.period
    }

    /// `T = floor((unix_secs - T0) / X)` (RFC 6238 §4.2).
    pub fn step(&self, unix_secs: u64) -> Result<u64> {
        let since = unix_secs.checked_sub(self.t0).ok_or(Error::TimeBeforeEpoch)?;
        Ok(since / self.period)
    }

    /// Seconds until the code shown at `unix_secs` changes.
    pub fn seconds_left(&self, unix_secs: u64) -> Result<u64> {
        let since = unix_secs.checked_sub(self.t0).ok_or(Error::TimeBeforeEpoch)?;
        Ok(self.period - since % self.period)
    }

    /// The code for time step `step`.
    #[must_use]
    pub fn generate_at_step(&self, secret: &Secret, step: u64) -> String {
        self.hotp.generate(secret, step)
    }

    /// `TOTP = HOTP(K, T)` (RFC 6238 §4.2) for the Unix time `unix_secs`.
    ///
    /// ```
    /// use pushotp::{Secret, Totp};
    /// let key = Secret::from_bytes(b"12345678901234567890".to_vec())?;
    /// let totp = Totp::new(pushotp::Algorithm::Sha1, 8, 30, 0)?;
    /// // RFC 6238 Appendix B, T = 59 s.
    /// assert_eq!(totp.generate(&key, 59)?, "94287082");
    /// # Ok::<(), pushotp::Error>(())
    /// ```
    pub fn generate(&self, secret: &Secret, unix_secs: u64) -> Result<String> {
        Ok(self.generate_at_step(secret, self.step(unix_secs)?))
    }

    /// Checks `code` against the steps around `unix_secs` allowed by `window` and returns the
    /// step that matched. Store it and refuse codes of that step or earlier afterwards
    /// (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP").
    pub fn verify(
        &self,
        secret: &Secret,
        code: &str,
        unix_secs: u64,
        window: Window,
    ) -> Result<Option<u64>> {
        // Checked before the key is prepared: a malformed request costs no hashing.
        check_window(code, window)?;
        self.step(unix_secs)?;
        self.keyed(secret).verify(code, unix_secs, window)
    }

    /// This generator with `secret` prepared for many codes: the HMAC key schedule
    /// (RFC 2104 §2) is computed once here instead of once per code. See [`KeyedTotp`].
    #[must_use]
    pub fn keyed(&self, secret: &Secret) -> KeyedTotp {
        KeyedTotp { totp: *self, hotp: self.hotp.keyed(secret) }
    }
}

/// A TOTP generator with its key prepared (see [`KeyedHotp`]): two hash compressions per
/// SHA-1 or SHA-256 code instead of four, the same codes as [`Totp::generate`], wiped on drop,
/// no key in `Debug`, verification in constant time.
///
/// ```
/// use pushotp::{Algorithm, Secret, Totp, Window};
/// let key = Secret::from_bytes(b"12345678901234567890".to_vec())?;
/// let keyed = Totp::new(Algorithm::Sha1, 8, 30, 0)?.keyed(&key);
/// // RFC 6238 Appendix B, T = 59 s and T = 1111111109 s.
/// assert_eq!(keyed.generate(59)?, "94287082");
/// assert_eq!(keyed.generate(1_111_111_109)?, "07081804");
/// assert_eq!(keyed.verify("94287082", 75, Window::ONE_STEP)?, Some(1));
/// # Ok::<(), pushotp::Error>(())
/// ```
#[derive(Clone)]
pub struct KeyedTotp {
    totp: Totp,
    hotp: KeyedHotp,
}

impl KeyedTotp {
    /// The generator's parameters.
    #[must_use]
    pub fn totp(&self) -> Totp {
        self.totp
    }

    /// The code for time step `step`.
    #[must_use]
    pub fn generate_at_step(&self, step: u64) -> String {
        self.hotp.generate(step)
    }

    /// `TOTP = HOTP(K, T)` (RFC 6238 §4.2) for the Unix time `unix_secs`.
    pub fn generate(&self, unix_secs: u64) -> Result<String> {
        Ok(self.generate_at_step(self.totp.step(unix_secs)?))
    }

    /// The code at `unix_secs` as a number, without its leading zeros (see
    /// [`KeyedHotp::generate_number`]).
    pub fn generate_number(&self, unix_secs: u64) -> Result<u32> {
        Ok(self.hotp.generate_number(self.totp.step(unix_secs)?))
    }

    /// [`Totp::verify`] with the prepared key: checks `code` against the steps around
    /// `unix_secs` allowed by `window`, each computed and compared in constant time, and
    /// returns the step that matched (RFC 6238 §5.2).
    pub fn verify(&self, code: &str, unix_secs: u64, window: Window) -> Result<Option<u64>> {
        check_window(code, window)?;
        let now = self.totp.step(unix_secs)?;
        let first = now.saturating_sub(window.behind);
        let last = now.saturating_add(window.ahead);
        Ok(first_match(code, first..=last, |step| self.generate_at_step(step)))
    }
}

impl fmt::Debug for KeyedTotp {
    /// The parameters only: the keyed state is as secret as the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedTotp").field("totp", &self.totp).finish_non_exhaustive()
    }
}

fn check_window(code: &str, window: Window) -> Result<()> {
    check_code(code)?;
    if window.behind > MAX_WINDOW || window.ahead > MAX_WINDOW {
        return Err(Error::WindowTooLarge { max: MAX_WINDOW });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn verify_reports_the_step_inside_the_window() {
        let totp = Totp::new(Algorithm::Sha1, 8, 30, 0).unwrap();
        // RFC 6238 Appendix B: 94287082 is step 1 (T = 59 s).
        assert_eq!(totp.verify(&key(), "94287082", 59, Window::default()).unwrap(), Some(1));
        assert_eq!(totp.verify(&key(), "94287082", 89, Window::ONE_STEP).unwrap(), Some(1));
        assert_eq!(totp.verify(&key(), "94287082", 89, Window::default()).unwrap(), None);
        assert_eq!(totp.verify(&key(), "94287082", 0, Window::ONE_STEP).unwrap(), Some(1));
        assert_eq!(totp.verify(&key(), "94287082", 120, Window::ONE_STEP).unwrap(), None);
    }

    /// RFC 6238 Appendix B: each hash with its own seed, 8 digits.
    #[test]
    fn keyed_gives_the_codes_of_the_plain_path_on_appendix_b() {
        let seeds = [
            (Algorithm::Sha1, &b"12345678901234567890"[..]),
            (Algorithm::Sha256, b"12345678901234567890123456789012"),
            (
                Algorithm::Sha512,
                b"1234567890123456789012345678901234567890123456789012345678901234",
            ),
        ];
        let table: [(u64, [&str; 3]); 6] = [
            (59, ["94287082", "46119246", "90693936"]),
            (1_111_111_109, ["07081804", "68084774", "25091201"]),
            (1_111_111_111, ["14050471", "67062674", "99943326"]),
            (1_234_567_890, ["89005924", "91819424", "93441116"]),
            (2_000_000_000, ["69279037", "90698825", "38618901"]),
            (20_000_000_000, ["65353130", "77737706", "47863826"]),
        ];
        for (i, (algorithm, seed)) in seeds.into_iter().enumerate() {
            let secret = Secret::from_bytes(seed.to_vec()).unwrap();
            let totp = Totp::new(algorithm, 8, 30, 0).unwrap();
            let keyed = totp.keyed(&secret);
            for (time, codes) in table {
                assert_eq!(totp.generate(&secret, time).unwrap(), codes[i], "{algorithm} {time}");
                assert_eq!(keyed.generate(time).unwrap(), codes[i], "{algorithm} {time}");
                assert_eq!(keyed.generate_number(time).unwrap(), codes[i].parse::<u32>().unwrap());
                assert_eq!(
                    keyed.verify(codes[i], time + 30, Window::ONE_STEP),
                    totp.verify(&secret, codes[i], time + 30, Window::ONE_STEP)
                );
            }
            assert_eq!(keyed.totp(), totp);
        }
    }

    #[test]
    fn keyed_errors_and_debug() {
        let keyed = Totp::new(Algorithm::Sha1, 6, 60, 1000).unwrap().keyed(&key());
        assert_eq!(keyed.generate(999), Err(Error::TimeBeforeEpoch));
        assert_eq!(keyed.generate_number(999), Err(Error::TimeBeforeEpoch));
        assert_eq!(keyed.verify("123456", 999, Window::ONE_STEP), Err(Error::TimeBeforeEpoch));
        assert_eq!(keyed.verify("12345a", 2000, Window::ONE_STEP), Err(Error::MalformedCode));
        let wide = Window { behind: MAX_WINDOW + 1, ahead: 0 };
        assert_eq!(
            keyed.verify("123456", 2000, wide),
            Err(Error::WindowTooLarge { max: MAX_WINDOW })
        );
        let shown = format!("{keyed:?}");
        assert!(
            shown.starts_with("KeyedTotp { totp: Totp {") && shown.ends_with(".. }"),
            "{shown}"
        );
        assert!(!shown.contains("123"), "{shown}");
    }

    #[test]
    fn t0_and_period_shift_the_step() {
        let totp = Totp::new(Algorithm::Sha1, 6, 60, 1000).unwrap();
        assert_eq!(totp.step(1000).unwrap(), 0);
        assert_eq!(totp.step(1119).unwrap(), 1);
        assert_eq!(totp.seconds_left(1119).unwrap(), 1);
        assert_eq!(totp.step(999), Err(Error::TimeBeforeEpoch));
        assert_eq!(totp.generate(&key(), 999), Err(Error::TimeBeforeEpoch));
    }

    #[test]
    fn period_bounds() {
        assert!(matches!(Totp::new(Algorithm::Sha1, 6, 0, 0), Err(Error::InvalidPeriod { .. })));
        assert!(matches!(
            Totp::new(Algorithm::Sha1, 6, MAX_PERIOD + 1, 0),
            Err(Error::InvalidPeriod { .. })
        ));
        assert!(Totp::new(Algorithm::Sha1, 6, MAX_PERIOD, 0).is_ok());
    }
}
