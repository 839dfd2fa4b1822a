//! TOTP: time-based one-time passwords (RFC 6238).

use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::hotp::{Hotp, MAX_WINDOW, check_code, check_digits, first_match};
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
        check_code(code)?;
        if window.behind > MAX_WINDOW || window.ahead > MAX_WINDOW {
            return Err(Error::WindowTooLarge { max: MAX_WINDOW });
        }
        let now = self.step(unix_secs)?;
        let first = now.saturating_sub(window.behind);
        let last = now.saturating_add(window.ahead);
        Ok(first_match(code, first..=last, |step| self.generate_at_step(secret, step)))
    }
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
