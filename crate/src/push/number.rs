//! Number matching (protocol §4): the login page shows a number, the device offers three, and
//! only a person who sees both screens picks the right one.

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use super::wire::check_number;
use super::{NUMBER_CHOICES, NUMBER_MAX, NUMBER_MIN};
use crate::error::{Error, Result};

/// How many numbers the range 10..=99 holds.
const SPAN: u32 = (NUMBER_MAX - NUMBER_MIN + 1) as u32;

/// The server's number matching for one request (protocol §4): the right number, shown on the
/// login page and kept by the server, and the three choices sent to the device, in random
/// order. The request never says which choice is right.
///
/// Stored by the server with the pending request; JSON `{"right":37,"choices":[82,37,15]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NumberWire", into = "NumberWire")]
pub struct NumberMatch {
    right: u8,
    choices: [u8; NUMBER_CHOICES],
}

impl NumberMatch {
    /// Draws the right number uniformly from 10..=99, two distinct decoys uniformly from the
    /// rest, and the right number's place uniformly among the three. Every draw is unbiased
    /// (rejection sampling), so no number or position is more likely than another.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let right = below(rng, SPAN);
        // A decoy drawn from the numbers left, then shifted past the ones taken.
        let first = skip(below(rng, SPAN - 1), &[right]);
        let second = skip(below(rng, SPAN - 2), &[right.min(first), right.max(first)]);
        let [right, first, second] = [right, first, second].map(|i| {
            // At most SPAN - 1 = 89 plus 10: always a two-digit u8.
            NUMBER_MIN.saturating_add(u8::try_from(i).unwrap_or(u8::MAX))
        });
        let choices = match below(rng, 3) {
            0 => [right, first, second],
            1 => [first, right, second],
            _ => [first, second, right],
        };
        Self { right, choices }
    }

    /// The number the login page shows.
    #[must_use]
    pub fn right(&self) -> u8 {
        self.right
    }

    /// The numbers for the request's `choices`, in the order the device shows them.
    #[must_use]
    pub fn choices(&self) -> [u8; NUMBER_CHOICES] {
        self.choices
    }

    /// The server's check of protocol §5 step 5: whether the answer picked the right number.
    #[must_use]
    pub fn is_right(&self, picked: Option<u8>) -> bool {
        picked == Some(self.right)
    }
}

/// A uniform integer in `0..n` for `0 < n <= 2^32`: values at or above the largest multiple of
/// `n` below 2^32 are drawn again, since keeping them would favour the small results.
fn below<R: CryptoRng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    let n = u64::from(n.max(1));
    let limit = (1u64 << 32) / n * n;
    loop {
        let x = u64::from(rng.next_u32());
        if x < limit {
            // x % n < n <= u32::MAX.
            return u32::try_from(x % n).unwrap_or_default();
        }
    }
}

/// Maps `i` in `0..SPAN - taken.len()` to the `i`-th value of `0..SPAN` not in `taken`
/// (sorted, distinct).
fn skip(mut i: u32, taken: &[u32]) -> u32 {
    for t in taken {
        if i >= *t {
            i += 1;
        }
    }
    i
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberWire {
    right: u8,
    choices: [u8; NUMBER_CHOICES],
}

impl TryFrom<NumberWire> for NumberMatch {
    type Error = Error;

    fn try_from(wire: NumberWire) -> Result<Self> {
        for n in wire.choices {
            check_number(n)?;
        }
        let [a, b, c] = wire.choices;
        if a == b || b == c || a == c || !wire.choices.contains(&wire.right) {
            return Err(Error::InvalidMessage("choices must be distinct and hold the right one"));
        }
        Ok(Self { right: wire.right, choices: wire.choices })
    }
}

impl From<NumberMatch> for NumberWire {
    fn from(number: NumberMatch) -> Self {
        Self { right: number.right, choices: number.choices }
    }
}

#[cfg(test)]
mod tests {
    use core::convert::Infallible;

    use rand_core::{TryCryptoRng, TryRng};

    use super::*;

    /// A deterministic generator (SplitMix64) so that the statistics below are reproducible.
    /// Marked cryptographic for the test only.
    struct TestRng(u64);

    impl TryRng for TestRng {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> core::result::Result<u32, Infallible> {
            Ok((self.try_next_u64()? >> 32) as u32)
        }

        fn try_next_u64(&mut self) -> core::result::Result<u64, Infallible> {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(z ^ (z >> 31))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Infallible> {
            for chunk in dst.chunks_mut(8) {
                let bytes = self.try_next_u64()?.to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
            Ok(())
        }
    }

    impl TryCryptoRng for TestRng {}

    /// Returns fixed words, to drive the rejection loop.
    struct Script(Vec<u32>);

    impl TryRng for Script {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> core::result::Result<u32, Infallible> {
            Ok(self.0.remove(0))
        }

        fn try_next_u64(&mut self) -> core::result::Result<u64, Infallible> {
            Ok(u64::from(self.try_next_u32()?))
        }

        fn try_fill_bytes(&mut self, _: &mut [u8]) -> core::result::Result<(), Infallible> {
            unimplemented!()
        }
    }

    impl TryCryptoRng for Script {}

    #[test]
    fn choices_are_distinct_in_range_and_hold_the_right_one() {
        let mut rng = TestRng(1);
        let draws = 90_000;
        let mut right_counts = [0u32; 100];
        let mut shown_counts = [0u32; 100];
        let mut position_counts = [0u32; 3];
        for _ in 0..draws {
            let m = NumberMatch::generate(&mut rng);
            let [a, b, c] = m.choices();
            assert!(a != b && b != c && a != c, "{m:?}");
            for n in m.choices() {
                assert!((10..=99).contains(&n), "{m:?}");
                shown_counts[usize::from(n)] += 1;
            }
            let position = m.choices().iter().position(|n| *n == m.right()).unwrap();
            position_counts[position] += 1;
            right_counts[usize::from(m.right())] += 1;
            assert!(m.is_right(Some(m.right())));
            assert!(!m.is_right(None));
            for decoy in m.choices().into_iter().filter(|n| *n != m.right()) {
                assert!(!m.is_right(Some(decoy)));
            }
        }
        // Each number is right about 1000 times (binomial, sd ~31): allow 6 sd.
        for (n, count) in right_counts.iter().enumerate() {
            let expected = if (10..=99).contains(&n) { 1000 } else { 0 };
            assert!(count.abs_diff(expected) <= 190, "{n} right {count} times");
        }
        // Each number is among the choices about 3000 times, so decoys are uniform too.
        for count in &shown_counts[10..] {
            assert!(count.abs_diff(3000) <= 330, "shown {count} times");
        }
        // The right one is in each place about a third of the time.
        for count in position_counts {
            assert!(count.abs_diff(30_000) <= 900, "{position_counts:?}");
        }
    }

    #[test]
    fn rejection_sampling_draws_again_in_the_biased_zone() {
        // 2^32 - 2^32 % 90 = 4294967220: that word and above are drawn again.
        assert_eq!(below(&mut Script(vec![u32::MAX, 4_294_967_220, 91]), 90), 1);
        assert_eq!(below(&mut Script(vec![4_294_967_219]), 90), 89);
        // Right 10 (word 0), first decoy the 0th left (11), second the 0th left (12), position 2.
        let m = NumberMatch::generate(&mut Script(vec![0, 0, 0, 2]));
        assert_eq!((m.right(), m.choices()), (10, [11, 12, 10]));
        // Right 99, decoys the last ones left: 98 then 97.
        let m = NumberMatch::generate(&mut Script(vec![89, 88, 87, 0]));
        assert_eq!((m.right(), m.choices()), (99, [99, 98, 97]));
        // A first decoy above the right one skips it; the second skips both.
        let m = NumberMatch::generate(&mut Script(vec![5, 5, 5, 1]));
        assert_eq!((m.right(), m.choices()), (15, [16, 15, 17]));
    }

    #[test]
    fn json_round_trip_checks_the_values() {
        let m = NumberMatch::generate(&mut TestRng(7));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<NumberMatch>(&json).unwrap(), m);
        assert!(
            serde_json::from_str::<NumberMatch>(r#"{"right":37,"choices":[82,37,15]}"#).is_ok()
        );
        for bad in [
            r#"{"right":38,"choices":[82,37,15]}"#,
            r#"{"right":37,"choices":[37,37,15]}"#,
            r#"{"right":37,"choices":[37,100,15]}"#,
            r#"{"right":37,"choices":[37,15]}"#,
            r#"{"right":37,"choices":[82,37,15],"x":1}"#,
        ] {
            assert!(serde_json::from_str::<NumberMatch>(bad).is_err(), "{bad}");
        }
    }
}
