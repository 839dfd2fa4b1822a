//! OCRA: the OATH challenge-response algorithm (RFC 6287).
//!
//! A suite string such as `OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1` (§6) fixes which inputs enter
//! the HMAC and how. [`OcraSuite::compute`] lays them out as the data input of §5.1, byte for
//! byte as the reference implementation of Appendix A does, so that responses agree with the
//! test vectors of Appendix C and with other implementations.

use core::{fmt, str::FromStr};

use sha1::Digest as _;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, format_code};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest suite string accepted, in bytes. The longest valid suite,
/// `OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S512-T59M`, has 46; anything much longer is hostile
/// or garbage and is refused before it is looked at.
pub const MAX_OCRA_SUITE_LEN: usize = 64;

/// Q always takes 128 bytes of the data input (RFC 6287 §5.1), whatever the challenge length.
const QUESTION_BYTES: usize = 128;
/// The challenge length `xx` of `QFxx` ranges over 04..64 (RFC 6287 §6.3, Table 2); a
/// challenge shorter than 4 characters is refused by the same bound.
const MIN_QUESTION_LEN: u8 = 4;
const MAX_QUESTION_LEN: u8 = 64;
/// A truncation `t` is 0 (none) or 4 to 10 digits (RFC 6287 §5.1, `HOTP-H-t`).
const MIN_TRUNCATION: u8 = 4;
const MAX_TRUNCATION: u8 = 10;
/// §6.3 names 064, 128, 256 and 512 as the typical session lengths and lets the parties agree
/// on others; 512 bytes is the largest typical one and the bound here.
const MAX_SESSION_LEN: u16 = 512;

/// The format `F` of the challenge question in `QFxx` (RFC 6287 §6.3, Table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionFormat {
    /// `A`: ASCII letters and digits; Q holds their bytes.
    Alphanumeric,
    /// `N`: decimal digits; Q holds the hexadecimal digits of the number.
    Numeric,
    /// `H`: hexadecimal digits (either case); Q holds them as they are, two to a byte.
    Hex,
}

impl QuestionFormat {
    fn letter(self) -> char {
        match self {
            Self::Alphanumeric => 'A',
            Self::Numeric => 'N',
            Self::Hex => 'H',
        }
    }

    fn accepts(self, byte: u8) -> bool {
        match self {
            Self::Alphanumeric => byte.is_ascii_alphanumeric(),
            Self::Numeric => byte.is_ascii_digit(),
            Self::Hex => byte.is_ascii_hexdigit(),
        }
    }
}

/// The time-step size `G` of a `TG` data input (RFC 6287 §6.3, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeStep {
    /// `nS`: 1 to 59 seconds.
    Seconds(u8),
    /// `nM`: 1 to 59 minutes; `T1M` is the RFC's default.
    Minutes(u8),
    /// `nH`: 0 to 48 hours. Table 3 allows 0, a step of no length; see [`TimeStep::steps`].
    Hours(u8),
}

impl TimeStep {
    /// The length of one step in seconds (0 for `T0H`).
    #[must_use]
    pub fn seconds(self) -> u64 {
        match self {
            Self::Seconds(n) => u64::from(n),
            Self::Minutes(n) => u64::from(n) * 60,
            Self::Hours(n) => u64::from(n) * 3600,
        }
    }

    /// The value T of RFC 6287 §5.1 at `unix_seconds`: the number of whole steps since the Unix
    /// epoch. `None` for a zero-length step (`T0H`), where no count of steps exists.
    #[must_use]
    pub fn steps(self, unix_seconds: u64) -> Option<u64> {
        unix_seconds.checked_div(self.seconds())
    }
}

impl fmt::Display for TimeStep {
    /// The `G` of the suite string: `30S`, `1M`, `24H`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seconds(n) => write!(f, "{n}S"),
            Self::Minutes(n) => write!(f, "{n}M"),
            Self::Hours(n) => write!(f, "{n}H"),
        }
    }
}

/// A parsed OCRA suite (RFC 6287 §6): `OCRA-1:HOTP-H-t:DataInput`.
///
/// Parsing is strict: version 1 only, upper case, two-digit question lengths, three-digit
/// session lengths, no leading zeros elsewhere, and the data inputs in the order
/// `[C-]QFxx[-PH][-Snnn][-TG]`, each at most once. Because the suite string is itself hashed
/// into every response (§5.1), only its one canonical spelling is accepted, and
/// [`Display`](fmt::Display) writes back exactly the string that was parsed.
///
/// ```
/// use pushotp::{OcraInput, OcraSuite, Secret};
/// let suite: OcraSuite = "OCRA-1:HOTP-SHA1-6:QN08".parse()?;
/// let key = Secret::from_bytes(b"12345678901234567890".to_vec())?;
/// // RFC 6287 Appendix C.1, first one-way vector.
/// let input = OcraInput::new().question("00000000");
/// assert_eq!(suite.compute(&key, &input)?, "237653");
/// # Ok::<(), pushotp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OcraSuite {
    algorithm: Algorithm,
    digits: u8,
    counter: bool,
    question_format: QuestionFormat,
    question_len: u8,
    pin_hash: Option<Algorithm>,
    session_len: Option<u16>,
    time_step: Option<TimeStep>,
}

impl OcraSuite {
    /// `OCRA-1:HOTP-<algorithm>-<digits>:QH<len>` (RFC 6287 §6): a one-way suite whose only
    /// data input is a hexadecimal challenge of up to `len` digits, built without the parser
    /// (the push protocol's approval passcode, which the service worker computes, uses it).
    pub(crate) fn hex_question(algorithm: Algorithm, digits: u8, len: u8) -> Self {
        Self {
            algorithm,
            digits,
            counter: false,
            question_format: QuestionFormat::Hex,
            question_len: len,
            pin_hash: None,
            session_len: None,
            time_step: None,
        }
    }

    /// The hash function under HMAC (`H` of `HOTP-H-t`, RFC 6287 §5.1).
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The truncation length `t`: 4 to 10 digits, or 0 for the untruncated HMAC (§5.1).
    #[must_use]
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// Whether the data input has a counter `C` (§6.3).
    #[must_use]
    pub fn uses_counter(&self) -> bool {
        self.counter
    }

    /// The format `F` of the challenge question (§6.3, Table 2).
    #[must_use]
    pub fn question_format(&self) -> QuestionFormat {
        self.question_format
    }

    /// The longest challenge `xx`, 4 to 64 characters (§6.3, Table 2).
    #[must_use]
    pub fn question_len(&self) -> u8 {
        self.question_len
    }

    /// The hash of the PIN or password `P`, if the suite uses one (§6.3).
    #[must_use]
    pub fn pin_hash(&self) -> Option<Algorithm> {
        self.pin_hash
    }

    /// The length `nnn` in bytes of the session information `S`, if the suite uses it (§6.3).
    #[must_use]
    pub fn session_len(&self) -> Option<u16> {
        self.session_len
    }

    /// The time-step size `G` of the timestamp `T`, if the suite uses one (§6.3).
    #[must_use]
    pub fn time_step(&self) -> Option<TimeStep> {
        self.time_step
    }

    /// Hashes a PIN or password with the suite's `PH` function, giving the value `P` of
    /// RFC 6287 §5.1 to pass to [`OcraInput::pin_hash`]. The PIN is hashed as its UTF-8 bytes.
    ///
    /// Fails with [`Error::InvalidOcraInput`]`("P")` if the suite has no `P`.
    pub fn hash_pin(&self, pin: &str) -> Result<Vec<u8>> {
        let hash = self.pin_hash.ok_or(Error::InvalidOcraInput("P"))?;
        Ok(match hash {
            Algorithm::Sha1 => sha1::Sha1::digest(pin.as_bytes()).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(pin.as_bytes()).to_vec(),
            Algorithm::Sha512 => sha2::Sha512::digest(pin.as_bytes()).to_vec(),
        })
    }

    /// The OCRA response `CryptoFunction(K, DataInput)` of RFC 6287 §5.1.
    ///
    /// The response is `t` decimal digits, zero-padded; a suite with `t = 0` (no truncation)
    /// answers with the whole HMAC in lower-case hexadecimal instead.
    ///
    /// Every input the suite names must be given, or this fails with
    /// [`Error::MissingOcraInput`] naming it (`"C"`, `"Q"`, `"P"`, `"S"` or `"T"`). An input the
    /// suite does not name is refused with [`Error::InvalidOcraInput`] rather than ignored:
    /// a caller who passes a counter or a PIN expects it to protect the response, and silently
    /// leaving it out would hide a mismatch between the suite and the caller's intent. Inputs
    /// that do not fit the suite (a challenge of the wrong format or length, a PIN hash of the
    /// wrong length, session information longer than `nnn`) also give
    /// [`Error::InvalidOcraInput`].
    pub fn compute(&self, key: &Secret, input: &OcraInput) -> Result<String> {
        let message = self.data_input(input)?;
        Ok(if self.digits == 0 {
            base16ct::lower::encode_string(&self.algorithm.hmac(key.expose(), &message))
        } else {
            format_code(self.algorithm.truncated_hmac(key.expose(), &message), self.digits)
        })
    }

    /// Computes the response for `input` and compares it with `response` in constant time,
    /// so that a verifier leaks nothing about how much of a guess was right.
    ///
    /// Errors are those of [`compute`](Self::compute); a response of the wrong length or
    /// content is `Ok(false)`.
    pub fn verify(&self, key: &Secret, input: &OcraInput, response: &str) -> Result<bool> {
        let expected = self.compute(key, input)?;
        Ok(expected.as_bytes().ct_eq(response.as_bytes()).into())
    }

    /// `OCRASuite | 00 | C | Q | P | S | T` (RFC 6287 §5.1), with the paddings of Appendix A.
    fn data_input(&self, input: &OcraInput) -> Result<Zeroizing<Vec<u8>>> {
        self.reject_unused(input)?;
        let suite = self.to_string();
        let mut message = Zeroizing::new(Vec::with_capacity(
            suite.len() + 1 + 8 + QUESTION_BYTES + 64 + usize::from(MAX_SESSION_LEN) + 8,
        ));
        message.extend_from_slice(suite.as_bytes());
        message.push(0);
        if self.counter {
            let counter = input.counter.ok_or(Error::MissingOcraInput("C"))?;
            message.extend_from_slice(&counter.to_be_bytes());
        }
        let question = input.question.as_ref().ok_or(Error::MissingOcraInput("Q"))?;
        message.extend_from_slice(&self.encode_question(question)?);
        if let Some(hash) = self.pin_hash {
            let pin_hash = input.pin_hash.as_ref().ok_or(Error::MissingOcraInput("P"))?;
            // Appendix A would left-pad a short hash with zeros, but a hash of the wrong
            // length is never a hash made with PH: it is the wrong input.
            if pin_hash.len() != hash.output_len() {
                return Err(Error::InvalidOcraInput("P"));
            }
            message.extend_from_slice(pin_hash);
        }
        if let Some(len) = self.session_len {
            let session = input.session.as_ref().ok_or(Error::MissingOcraInput("S"))?;
            let padding =
                usize::from(len).checked_sub(session.len()).ok_or(Error::InvalidOcraInput("S"))?;
            // Appendix A left-pads the session information with zeros to nnn bytes (it
            // prepends "0" digits to the hex string), so the zeros come first.
            let padded = message.len() + padding;
            message.resize(padded, 0);
            message.extend_from_slice(session);
        }
        if self.time_step.is_some() {
            let timestamp = input.timestamp.ok_or(Error::MissingOcraInput("T"))?;
            message.extend_from_slice(&timestamp.to_be_bytes());
        }
        Ok(message)
    }

    fn reject_unused(&self, input: &OcraInput) -> Result<()> {
        if !self.counter && input.counter.is_some() {
            return Err(Error::InvalidOcraInput("C"));
        }
        if self.pin_hash.is_none() && input.pin_hash.is_some() {
            return Err(Error::InvalidOcraInput("P"));
        }
        if self.session_len.is_none() && input.session.is_some() {
            return Err(Error::InvalidOcraInput("S"));
        }
        if self.time_step.is_none() && input.timestamp.is_some() {
            return Err(Error::InvalidOcraInput("T"));
        }
        Ok(())
    }

    /// The 128-byte Q. Each challenge is checked against the suite's format and length; the
    /// two challenges of a mutual computation are then encoded as one string, as Appendix B
    /// does when it concatenates them before conversion.
    fn encode_question(&self, question: &Question) -> Result<[u8; QUESTION_BYTES]> {
        let (first, second) = match question {
            Question::One(q) => (q.as_str(), ""),
            Question::Mutual(a, b) => {
                self.check_challenge(b)?;
                (a.as_str(), b.as_str())
            }
        };
        self.check_challenge(first)?;
        let text = first.bytes().chain(second.bytes());
        let mut q = [0u8; QUESTION_BYTES];
        match self.question_format {
            QuestionFormat::Alphanumeric => {
                for (slot, byte) in q.iter_mut().zip(text) {
                    *slot = byte;
                }
            }
            QuestionFormat::Hex => {
                for (i, byte) in text.enumerate() {
                    let nibble = hex_value(byte).ok_or(Error::InvalidOcraInput("Q"))?;
                    put_nibble(&mut q, i, nibble)?;
                }
            }
            QuestionFormat::Numeric => {
                let (nibbles, len) = decimal_to_hex(text)?;
                // Appendix B: `new BigInteger(q, 10).toString(16)`, without leading zeros,
                // then right-padded with "0" digits, so the number starts at the first nibble
                // even when it has an odd number of hex digits.
                for (i, nibble) in nibbles.iter().take(len).rev().enumerate() {
                    put_nibble(&mut q, i, *nibble)?;
                }
            }
        }
        Ok(q)
    }

    fn check_challenge(&self, challenge: &str) -> Result<()> {
        // Length first, so that nothing long is ever scanned.
        let len = challenge.len();
        if len < usize::from(MIN_QUESTION_LEN) || len > usize::from(self.question_len) {
            return Err(Error::InvalidOcraInput("Q"));
        }
        if challenge.bytes().all(|b| self.question_format.accepts(b)) {
            Ok(())
        } else {
            Err(Error::InvalidOcraInput("Q"))
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Sets nibble `index` of `q`, counting from the high nibble of the first byte.
fn put_nibble(q: &mut [u8], index: usize, nibble: u8) -> Result<()> {
    let byte = q.get_mut(index / 2).ok_or(Error::InvalidOcraInput("Q"))?;
    if index.is_multiple_of(2) {
        *byte |= nibble << 4;
    } else {
        *byte |= nibble & 0x0f;
    }
    Ok(())
}

/// The hexadecimal digits of a decimal number, least significant first, without leading
/// zeros (none at all for zero). Multiply-and-add over nibbles: a 128-digit number (two
/// 64-digit challenges) needs 107 of them, so 256 always suffice.
fn decimal_to_hex(digits: impl Iterator<Item = u8>) -> Result<([u8; 2 * QUESTION_BYTES], usize)> {
    let mut nibbles = [0u8; 2 * QUESTION_BYTES];
    let mut len = 0;
    for digit in digits {
        // Callers have checked the digits; a stray byte is still refused, not mis-encoded.
        let mut carry = match digit {
            b'0'..=b'9' => digit - b'0',
            _ => return Err(Error::InvalidOcraInput("Q")),
        };
        // Each step stays below 15 * 10 + 10 = 160, so u8 arithmetic cannot overflow.
        for nibble in nibbles.iter_mut().take(len) {
            let value = *nibble * 10 + carry;
            *nibble = value & 0x0f;
            carry = value >> 4;
        }
        while carry > 0 {
            let slot = nibbles.get_mut(len).ok_or(Error::InvalidOcraInput("Q"))?;
            *slot = carry & 0x0f;
            carry >>= 4;
            len += 1;
        }
    }
    Ok((nibbles, len))
}

impl fmt::Display for OcraSuite {
    /// The canonical suite string, identical to the one parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OCRA-1:HOTP-{}-{}:", self.algorithm.name(), self.digits)?;
        if self.counter {
            f.write_str("C-")?;
        }
        write!(f, "Q{}{:02}", self.question_format.letter(), self.question_len)?;
        if let Some(hash) = self.pin_hash {
            write!(f, "-P{}", hash.name())?;
        }
        if let Some(len) = self.session_len {
            write!(f, "-S{len:03}")?;
        }
        if let Some(step) = self.time_step {
            write!(f, "-T{step}")?;
        }
        Ok(())
    }
}

impl FromStr for OcraSuite {
    type Err = Error;

    /// Parses `OCRA-1:HOTP-H-t:DataInput` (RFC 6287 §6). Fails with
    /// [`Error::TooLong`] beyond [`MAX_OCRA_SUITE_LEN`] bytes, [`Error::InvalidDigits`] for a
    /// truncation other than 0 or 4 to 10, and [`Error::InvalidOcraSuite`] for anything else
    /// that is not a canonical suite string.
    fn from_str(s: &str) -> Result<Self> {
        if s.len() > MAX_OCRA_SUITE_LEN {
            return Err(Error::TooLong { max: MAX_OCRA_SUITE_LEN });
        }
        let mut parts = s.split(':');
        let (Some(version), Some(crypto), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::InvalidOcraSuite("expected OCRA-1:CryptoFunction:DataInput"));
        };
        if version != "OCRA-1" {
            return Err(Error::InvalidOcraSuite("only version OCRA-1 exists"));
        }
        let (algorithm, digits) = parse_crypto_function(crypto)?;

        let mut tokens = data.split('-').peekable();
        let counter = tokens.next_if_eq(&"C").is_some();
        let (question_format, question_len) = parse_question(tokens.next().unwrap_or(""))?;
        let mut suite = Self {
            algorithm,
            digits,
            counter,
            question_format,
            question_len,
            pin_hash: None,
            session_len: None,
            time_step: None,
        };
        // §6.3 fixes the order C, Q, P, S, T; `stage` is how far along it the parser is.
        let mut stage = 0;
        for token in tokens {
            let rest = token.get(1..).unwrap_or("");
            match token.bytes().next() {
                Some(b'P') if stage < 1 => {
                    let hash = hash_name(rest)
                        .ok_or(Error::InvalidOcraSuite("P takes SHA1, SHA256 or SHA512"))?;
                    suite.pin_hash = Some(hash);
                    stage = 1;
                }
                Some(b'S') if stage < 2 => {
                    suite.session_len = Some(parse_session(rest)?);
                    stage = 2;
                }
                Some(b'T') if stage < 3 => {
                    suite.time_step = Some(parse_time_step(rest)?);
                    stage = 3;
                }
                Some(b'P' | b'S' | b'T') => {
                    return Err(Error::InvalidOcraSuite(
                        "P, S and T come at most once each, in that order",
                    ));
                }
                Some(b'C') => return Err(Error::InvalidOcraSuite("C must come first")),
                Some(b'Q') => return Err(Error::InvalidOcraSuite("only one question QFxx")),
                _ => return Err(Error::InvalidOcraSuite("unknown data input")),
            }
        }
        Ok(suite)
    }
}

/// `HOTP-H-t`: the only crypto function of version 1 (RFC 6287 §5.1).
fn parse_crypto_function(text: &str) -> Result<(Algorithm, u8)> {
    let mut parts = text.split('-');
    let (Some("HOTP"), Some(hash), Some(truncation), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::InvalidOcraSuite("the crypto function must be HOTP-H-t"));
    };
    let algorithm = hash_name(hash)
        .ok_or(Error::InvalidOcraSuite("the hash must be SHA1, SHA256 or SHA512"))?;
    let digits = plain_number(truncation, 2)
        .ok_or(Error::InvalidOcraSuite("the truncation must be a number"))?;
    match u8::try_from(digits) {
        Ok(digits) if digits == 0 || (MIN_TRUNCATION..=MAX_TRUNCATION).contains(&digits) => {
            Ok((algorithm, digits))
        }
        _ => Err(Error::InvalidDigits { min: MIN_TRUNCATION, max: MAX_TRUNCATION }),
    }
}

/// The hash names of §5.1 and §6.3, in their one spelling (not [`Algorithm::from_str`], which
/// is lenient for URIs, since the suite string must stay byte-identical).
fn hash_name(text: &str) -> Option<Algorithm> {
    match text {
        "SHA1" => Some(Algorithm::Sha1),
        "SHA256" => Some(Algorithm::Sha256),
        "SHA512" => Some(Algorithm::Sha512),
        _ => None,
    }
}

/// `QFxx` (§6.3, Table 2): the mandatory challenge.
fn parse_question(token: &str) -> Result<(QuestionFormat, u8)> {
    let mut bytes = token.bytes();
    if bytes.next() != Some(b'Q') {
        return Err(Error::InvalidOcraSuite("the data input needs a question QFxx"));
    }
    let format = match bytes.next() {
        Some(b'A') => QuestionFormat::Alphanumeric,
        Some(b'N') => QuestionFormat::Numeric,
        Some(b'H') => QuestionFormat::Hex,
        _ => return Err(Error::InvalidOcraSuite("the question format must be A, N or H")),
    };
    let len = fixed_number(token.get(2..).unwrap_or(""), 2)
        .ok_or(Error::InvalidOcraSuite("the question length must be two digits"))?;
    match u8::try_from(len) {
        Ok(len) if (MIN_QUESTION_LEN..=MAX_QUESTION_LEN).contains(&len) => Ok((format, len)),
        _ => Err(Error::InvalidOcraSuite("the question length must be 04 to 64")),
    }
}

/// The `nnn` of `Snnn` (§6.3): three digits, 001 to 512.
fn parse_session(text: &str) -> Result<u16> {
    match fixed_number(text, 3) {
        Some(len) if (1..=MAX_SESSION_LEN).contains(&len) => Ok(len),
        Some(_) => Err(Error::InvalidOcraSuite("the session length must be 001 to 512")),
        None => Err(Error::InvalidOcraSuite("the session length must be three digits")),
    }
}

/// The `G` of `TG` (§6.3, Table 3): 1-59S, 1-59M or 0-48H.
fn parse_time_step(text: &str) -> Result<TimeStep> {
    const BAD: Error = Error::InvalidOcraSuite("the time step must be 1-59S, 1-59M or 0-48H");
    let number = text.len().checked_sub(1).and_then(|end| text.get(..end)).ok_or(BAD)?;
    let n = plain_number(number, 2).and_then(|n| u8::try_from(n).ok()).ok_or(BAD)?;
    match text.bytes().last() {
        Some(b'S') if (1..=59).contains(&n) => Ok(TimeStep::Seconds(n)),
        Some(b'M') if (1..=59).contains(&n) => Ok(TimeStep::Minutes(n)),
        Some(b'H') if n <= 48 => Ok(TimeStep::Hours(n)),
        _ => Err(BAD),
    }
}

/// Exactly `width` ASCII digits (leading zeros required, as in `QN08` and `S064`).
fn fixed_number(text: &str, width: usize) -> Option<u16> {
    if text.len() != width {
        return None;
    }
    digits_value(text)
}

/// 1 to `max_width` ASCII digits without a leading zero, except `0` itself, so that every
/// value has one spelling.
fn plain_number(text: &str, max_width: usize) -> Option<u16> {
    if text.is_empty() || text.len() > max_width || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    digits_value(text)
}

fn digits_value(text: &str) -> Option<u16> {
    text.bytes().try_fold(0u16, |acc, b| {
        let digit = b.is_ascii_digit().then(|| u16::from(b - b'0'))?;
        acc.checked_mul(10)?.checked_add(digit)
    })
}

/// The challenge question(s) of one computation.
#[derive(Clone, PartialEq, Eq)]
enum Question {
    One(String),
    Mutual(String, String),
}

/// The inputs of one OCRA computation (RFC 6287 §5.1): counter `C`, challenge `Q`, PIN hash
/// `P`, session information `S` and timestamp `T`. Give exactly those the suite names.
///
/// The time is never read from a clock here: the caller passes the number of time steps, e.g.
/// from [`TimeStep::steps`]. The PIN hash is wiped from memory when the input is dropped and
/// is never printed by `Debug`.
#[derive(Clone, Default)]
pub struct OcraInput {
    counter: Option<u64>,
    question: Option<Question>,
    pin_hash: Option<Zeroizing<Vec<u8>>>,
    session: Option<Vec<u8>>,
    timestamp: Option<u64>,
}

impl OcraInput {
    /// No inputs yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter `C`, for suites with `C` (§5.1: 8 bytes, big-endian).
    #[must_use]
    pub fn counter(mut self, counter: u64) -> Self {
        self.counter = Some(counter);
        self
    }

    /// The challenge question `Q` of a one-way challenge-response or a signature
    /// (RFC 6287 §7.1, §7.2): 4 to `xx` characters of the suite's format.
    #[must_use]
    pub fn question(mut self, question: impl Into<String>) -> Self {
        self.question = Some(Question::One(question.into()));
        self
    }

    /// The two challenges of a mutual challenge-response (RFC 6287 §7.3), each 4 to `xx`
    /// characters; Q is their concatenation. The server's response uses
    /// `(client challenge, server challenge)`, the client's `(server challenge, client
    /// challenge)`.
    #[must_use]
    pub fn mutual_question(mut self, first: impl Into<String>, second: impl Into<String>) -> Self {
        self.question = Some(Question::Mutual(first.into(), second.into()));
        self
    }

    /// The hashed PIN or password `P`, exactly as long as the suite's `PH` output; see
    /// [`OcraSuite::hash_pin`].
    #[must_use]
    pub fn pin_hash(mut self, hash: impl Into<Vec<u8>>) -> Self {
        self.pin_hash = Some(Zeroizing::new(hash.into()));
        self
    }

    /// The session information `S`, at most `nnn` bytes. Shorter information is padded with
    /// leading zero bytes to `nnn`, as the reference implementation of Appendix A does.
    #[must_use]
    pub fn session(mut self, session: impl Into<Vec<u8>>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// The timestamp `T`: the number of time steps of the suite's `G` since the Unix epoch
    /// (§5.1: 8 bytes, big-endian).
    #[must_use]
    pub fn timestamp(mut self, steps: u64) -> Self {
        self.timestamp = Some(steps);
        self
    }
}

impl fmt::Debug for OcraInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let question: Option<(&str, Option<&str>)> = self.question.as_ref().map(|q| match q {
            Question::One(q) => (q.as_str(), None),
            Question::Mutual(a, b) => (a.as_str(), Some(b.as_str())),
        });
        f.debug_struct("OcraInput")
            .field("counter", &self.counter)
            .field("question", &question)
            .field("pin_hash", &self.pin_hash.as_ref().map(|_| ".."))
            .field("session_len", &self.session.as_ref().map(Vec::len))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key20() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    fn suite(text: &str) -> OcraSuite {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn suites_round_trip() {
        for text in [
            "OCRA-1:HOTP-SHA1-6:QN08",
            "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
            "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
            "OCRA-1:HOTP-SHA512-8:C-QN08",
            "OCRA-1:HOTP-SHA512-8:QN08-T1M",
            "OCRA-1:HOTP-SHA256-8:QA08",
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            "OCRA-1:HOTP-SHA1-6:QH40-S064",
            "OCRA-1:HOTP-SHA1-4:QH04-S128",
            "OCRA-1:HOTP-SHA1-10:QA64-S256",
            "OCRA-1:HOTP-SHA256-0:QN64-S512",
            "OCRA-1:HOTP-SHA1-7:QN04-S001",
            "OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S512-T59M",
            "OCRA-1:HOTP-SHA256-6:C-QH16-PSHA256-T30S",
            "OCRA-1:HOTP-SHA1-6:QN08-T1S",
            "OCRA-1:HOTP-SHA1-6:QN08-T0H",
            "OCRA-1:HOTP-SHA1-6:QN08-T48H",
            "OCRA-1:HOTP-SHA1-6:C-QN08-S064-T24H",
            "OCRA-1:HOTP-SHA1-6:QN08-PSHA1-T5M",
        ] {
            assert_eq!(suite(text).to_string(), text);
        }
    }

    #[test]
    fn suite_parts_are_typed() {
        let s = suite("OCRA-1:HOTP-SHA512-10:C-QA64-PSHA256-S128-T24H");
        assert_eq!(s.algorithm(), Algorithm::Sha512);
        assert_eq!(s.digits(), 10);
        assert!(s.uses_counter());
        assert_eq!(s.question_format(), QuestionFormat::Alphanumeric);
        assert_eq!(s.question_len(), 64);
        assert_eq!(s.pin_hash(), Some(Algorithm::Sha256));
        assert_eq!(s.session_len(), Some(128));
        assert_eq!(s.time_step(), Some(TimeStep::Hours(24)));
        let plain = suite("OCRA-1:HOTP-SHA1-6:QH40");
        assert!(!plain.uses_counter());
        assert_eq!(plain.question_format(), QuestionFormat::Hex);
        assert_eq!((plain.pin_hash(), plain.session_len(), plain.time_step()), (None, None, None));
    }

    #[test]
    fn malformed_suites_are_refused() {
        let bad_suite = |text: &str| {
            let result = text.parse::<OcraSuite>();
            assert!(matches!(result, Err(Error::InvalidOcraSuite(_))), "{text}: {result:?}");
        };
        for text in [
            "",
            ":",
            "::",
            "OCRA-1",
            "OCRA-1:HOTP-SHA1-6",
            "OCRA-1:HOTP-SHA1-6:QN08:",
            "OCRA-2:HOTP-SHA1-6:QN08",
            "OCRA-0:HOTP-SHA1-6:QN08",
            "ocra-1:hotp-sha1-6:qn08",
            "OCRA-1:HOTP-MD5-6:QN08",
            "OCRA-1:HOTP-SHA-1-6:QN08",
            "OCRA-1:HOTP-sha1-6:QN08",
            "OCRA-1:TOTP-SHA1-6:QN08",
            "OCRA-1:HOTP-SHA1:QN08",
            "OCRA-1:HOTP-SHA1-6-6:QN08",
            "OCRA-1:HOTP-SHA1-x:QN08",
            "OCRA-1:HOTP-SHA1-06:QN08",
            "OCRA-1:HOTP-SHA1-:QN08",
            "OCRA-1:HOTP-SHA1-6:",
            "OCRA-1:HOTP-SHA1-6:C",
            "OCRA-1:HOTP-SHA1-6:C-",
            "OCRA-1:HOTP-SHA1-6:PSHA1",
            "OCRA-1:HOTP-SHA1-6:T1M",
            "OCRA-1:HOTP-SHA1-6:QN03",
            "OCRA-1:HOTP-SHA1-6:QN65",
            "OCRA-1:HOTP-SHA1-6:QN00",
            "OCRA-1:HOTP-SHA1-6:QN99",
            "OCRA-1:HOTP-SHA1-6:QN8",
            "OCRA-1:HOTP-SHA1-6:QN008",
            "OCRA-1:HOTP-SHA1-6:QX08",
            "OCRA-1:HOTP-SHA1-6:Qn08",
            "OCRA-1:HOTP-SHA1-6:QNXX",
            "OCRA-1:HOTP-SHA1-6:Q",
            "OCRA-1:HOTP-SHA1-6:QN08-C",
            "OCRA-1:HOTP-SHA1-6:C-C-QN08",
            "OCRA-1:HOTP-SHA1-6:QN08-QN08",
            "OCRA-1:HOTP-SHA1-6:QN08-",
            "OCRA-1:HOTP-SHA1-6:QN08--T1M",
            "OCRA-1:HOTP-SHA1-6:QN08-X",
            "OCRA-1:HOTP-SHA1-6:QN08-P",
            "OCRA-1:HOTP-SHA1-6:QN08-PMD5",
            "OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1",
            "OCRA-1:HOTP-SHA1-6:QN08-S064-PSHA1",
            "OCRA-1:HOTP-SHA1-6:QN08-T1M-S064",
            "OCRA-1:HOTP-SHA1-6:QN08-T1M-T1M",
            "OCRA-1:HOTP-SHA1-6:QN08-S",
            "OCRA-1:HOTP-SHA1-6:QN08-S64",
            "OCRA-1:HOTP-SHA1-6:QN08-S000",
            "OCRA-1:HOTP-SHA1-6:QN08-S513",
            "OCRA-1:HOTP-SHA1-6:QN08-S999",
            "OCRA-1:HOTP-SHA1-6:QN08-SXXX",
            "OCRA-1:HOTP-SHA1-6:QN08-T",
            "OCRA-1:HOTP-SHA1-6:QN08-TM",
            "OCRA-1:HOTP-SHA1-6:QN08-T1",
            "OCRA-1:HOTP-SHA1-6:QN08-T0S",
            "OCRA-1:HOTP-SHA1-6:QN08-T60S",
            "OCRA-1:HOTP-SHA1-6:QN08-T0M",
            "OCRA-1:HOTP-SHA1-6:QN08-T60M",
            "OCRA-1:HOTP-SHA1-6:QN08-T49H",
            "OCRA-1:HOTP-SHA1-6:QN08-T01M",
            "OCRA-1:HOTP-SHA1-6:QN08-T100M",
            "OCRA-1:HOTP-SHA1-6:QN08-T1D",
            "OCRA-1:HOTP-SHA1-6:QN08-T1m",
            "OCRA-1:HOTP-SHA1-6:QN08-T-1M",
            " OCRA-1:HOTP-SHA1-6:QN08",
            "OCRA-1:HOTP-SHA1-6:QN08 ",
            "OCRA-1:HOTP-SHA1-6:QN08\0",
            "OCRA-1:HOTP-SHA1-6:QN08-TéM",
            "OCRA-1:HOTP-SHA1-6:QN08-é",
            "OCRA-1:HOTP-SHA1-6:QNé8",
            "OCRA‑1:HOTP-SHA1-6:QN08",
            "ＯCRA-1:HOTP-SHA1-6:QN08",
        ] {
            bad_suite(text);
        }
    }

    #[test]
    fn truncation_outside_0_and_4_to_10_is_invalid_digits() {
        for text in [
            "OCRA-1:HOTP-SHA1-1:QN08",
            "OCRA-1:HOTP-SHA1-3:QN08",
            "OCRA-1:HOTP-SHA1-11:QN08",
            "OCRA-1:HOTP-SHA1-99:QN08",
        ] {
            assert_eq!(
                text.parse::<OcraSuite>(),
                Err(Error::InvalidDigits { min: 4, max: 10 }),
                "{text}"
            );
        }
    }

    #[test]
    fn huge_suites_are_refused_before_parsing() {
        let huge = format!("OCRA-1:HOTP-SHA1-6:QN08{}", "-T1M".repeat(100_000));
        assert_eq!(huge.parse::<OcraSuite>(), Err(Error::TooLong { max: MAX_OCRA_SUITE_LEN }));
        let just_over = "é".repeat(MAX_OCRA_SUITE_LEN / 2 + 1);
        assert_eq!(just_over.parse::<OcraSuite>(), Err(Error::TooLong { max: MAX_OCRA_SUITE_LEN }));
    }

    #[test]
    fn numeric_questions_become_left_aligned_hex() {
        let s = suite("OCRA-1:HOTP-SHA1-6:QN64");
        let q = |text: &str| s.encode_question(&Question::One(text.into())).unwrap();
        // 12345678 = 0xBC614E.
        assert_eq!(q("12345678")[..4], [0xbc, 0x61, 0x4e, 0x00]);
        // 22222222 = 0x153158E: an odd number of hex digits starts at the first nibble.
        assert_eq!(q("22222222")[..5], [0x15, 0x31, 0x58, 0xe0, 0x00]);
        // Leading zeros are not digits of the number.
        assert_eq!(q("00012345678"), q("12345678"));
        assert_eq!(q("00000000"), [0u8; QUESTION_BYTES]);
        // 2^200, 61 decimal digits: a 1 and fifty zero nibbles.
        let two_200 = "1606938044258990275541962092341162602522202993782792835301376";
        let mut expected = [0u8; QUESTION_BYTES];
        expected[0] = 0x10;
        assert_eq!(q(two_200), expected);
        // 10^64 - 1, the largest challenge of QN64 (hex digits from Python's hex()).
        let hex = "184f03e93ff9f4daa797ed6e38ed64bf6a1f00ffffffffffffffff";
        let encoded = q(&"9".repeat(64));
        assert_eq!(base16ct::lower::encode_string(&encoded[..27]), hex);
        assert!(encoded[27..].iter().all(|b| *b == 0));
    }

    #[test]
    fn hex_and_alphanumeric_questions_are_right_padded() {
        let hex = suite("OCRA-1:HOTP-SHA1-6:QH64");
        let q = hex.encode_question(&Question::One("aBc12".into())).unwrap();
        assert_eq!(q[..4], [0xab, 0xc1, 0x20, 0x00]);
        let alpha = suite("OCRA-1:HOTP-SHA1-6:QA08");
        let mutual = Question::Mutual("CLI22220".into(), "SRV11110".into());
        let q = alpha.encode_question(&mutual).unwrap();
        assert_eq!(&q[..16], b"CLI22220SRV11110");
        assert!(q[16..].iter().all(|b| *b == 0));
    }

    #[test]
    fn session_information_is_left_padded_to_nnn() {
        let s = suite("OCRA-1:HOTP-SHA1-6:QN08-S064");
        let input = OcraInput::new().question("1234").session(b"abc".to_vec());
        let message = s.data_input(&input).unwrap();
        let session = &message[message.len() - 64..];
        assert!(session[..61].iter().all(|b| *b == 0));
        assert_eq!(&session[61..], b"abc");
        let full = OcraInput::new().question("1234").session(vec![7u8; 64]);
        assert!(s.compute(&key20(), &full).is_ok());
        let long = OcraInput::new().question("1234").session(vec![7u8; 65]);
        assert_eq!(s.compute(&key20(), &long), Err(Error::InvalidOcraInput("S")));
    }

    #[test]
    fn data_input_layout_follows_section_5_1() {
        let s = suite("OCRA-1:HOTP-SHA1-6:C-QN08-PSHA1-S064-T1M");
        let pin = s.hash_pin("1234").unwrap();
        let input = OcraInput::new()
            .counter(0x0102)
            .question("12345678")
            .pin_hash(pin.clone())
            .session(vec![0xaa; 64])
            .timestamp(0x132d0b6);
        let message = s.data_input(&input).unwrap();
        let name = s.to_string();
        let (head, rest) = message.split_at(name.len() + 1);
        assert_eq!(&head[..name.len()], name.as_bytes());
        assert_eq!(head[name.len()], 0);
        let (c, rest) = rest.split_at(8);
        assert_eq!(c, [0, 0, 0, 0, 0, 0, 1, 2]);
        let (q, rest) = rest.split_at(128);
        assert_eq!(q[..3], [0xbc, 0x61, 0x4e]);
        let (p, rest) = rest.split_at(20);
        assert_eq!(p, pin.as_slice());
        let (session, t) = rest.split_at(64);
        assert_eq!(session, [0xaa; 64]);
        assert_eq!(t, 0x132d0b6u64.to_be_bytes());
    }

    #[test]
    fn pin_hash_helper_uses_the_suites_hash() {
        // RFC 6287 Appendix C: SHA-1 of the PIN 1234.
        let s = suite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1");
        assert_eq!(
            base16ct::lower::encode_string(&s.hash_pin("1234").unwrap()),
            "7110eda4d09e062aa5e4a390b0a572ac0d2c0220"
        );
        assert_eq!(suite("OCRA-1:HOTP-SHA1-6:QN08-PSHA256").hash_pin("1").unwrap().len(), 32);
        assert_eq!(suite("OCRA-1:HOTP-SHA1-6:QN08-PSHA512").hash_pin("1").unwrap().len(), 64);
        assert_eq!(
            suite("OCRA-1:HOTP-SHA1-6:QN08").hash_pin("1234"),
            Err(Error::InvalidOcraInput("P"))
        );
    }

    #[test]
    fn missing_inputs_are_named() {
        let key = key20();
        let cases = [
            ("OCRA-1:HOTP-SHA1-6:C-QN08", OcraInput::new().question("1234"), "C"),
            ("OCRA-1:HOTP-SHA1-6:QN08", OcraInput::new(), "Q"),
            ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1", OcraInput::new().question("1234"), "P"),
            ("OCRA-1:HOTP-SHA1-6:QN08-S064", OcraInput::new().question("1234"), "S"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T1M", OcraInput::new().question("1234"), "T"),
        ];
        for (text, input, name) in cases {
            assert_eq!(suite(text).compute(&key, &input), Err(Error::MissingOcraInput(name)));
        }
    }

    #[test]
    fn inputs_the_suite_does_not_use_are_refused() {
        let key = key20();
        let s = suite("OCRA-1:HOTP-SHA1-6:QN08");
        let base = || OcraInput::new().question("1234");
        for (input, name) in [
            (base().counter(1), "C"),
            (base().pin_hash(vec![0; 20]), "P"),
            (base().session(b"s".to_vec()), "S"),
            (base().timestamp(1), "T"),
        ] {
            assert_eq!(s.compute(&key, &input), Err(Error::InvalidOcraInput(name)));
        }
    }

    #[test]
    fn malformed_inputs_are_refused() {
        let key = key20();
        let invalid_q = Err(Error::InvalidOcraInput("Q"));
        let numeric = suite("OCRA-1:HOTP-SHA1-6:QN08");
        for q in ["", "123", "123456789", "1234a", "12 34", "-1234", "+1234", "１２３４", "1234é"]
        {
            assert_eq!(numeric.compute(&key, &OcraInput::new().question(q)), invalid_q, "{q}");
        }
        let hex = suite("OCRA-1:HOTP-SHA1-6:QH08");
        for q in ["abc", "abcdefgh0", "0x1234", "abcg", "ab cd"] {
            assert_eq!(hex.compute(&key, &OcraInput::new().question(q)), invalid_q, "{q}");
        }
        let alpha = suite("OCRA-1:HOTP-SHA1-6:QA08");
        for q in ["abc", "abcdefgh0", "ab-cd", "ab cd", "abcé", "ab\0cd"] {
            assert_eq!(alpha.compute(&key, &OcraInput::new().question(q)), invalid_q, "{q}");
        }
        let huge = "9".repeat(1_000_000);
        assert_eq!(numeric.compute(&key, &OcraInput::new().question(huge)), invalid_q);
        let mutual = OcraInput::new().mutual_question("CLI22220", "SRV111101");
        assert_eq!(alpha.compute(&key, &mutual), invalid_q);
        let mutual = OcraInput::new().mutual_question("CLI", "SRV11110");
        assert_eq!(alpha.compute(&key, &mutual), invalid_q);

        let pinned = suite("OCRA-1:HOTP-SHA1-6:QN08-PSHA256");
        for len in [0, 20, 31, 33, 64] {
            let input = OcraInput::new().question("1234").pin_hash(vec![1; len]);
            assert_eq!(pinned.compute(&key, &input), Err(Error::InvalidOcraInput("P")), "{len}");
        }
    }

    #[test]
    fn no_truncation_gives_the_whole_hmac_in_hex() {
        let key = key20();
        let input = OcraInput::new().question("12345678");
        for (text, len) in [
            ("OCRA-1:HOTP-SHA1-0:QN08", 40),
            ("OCRA-1:HOTP-SHA256-0:QN08", 64),
            ("OCRA-1:HOTP-SHA512-0:QN08", 128),
        ] {
            let response = suite(text).compute(&key, &input).unwrap();
            assert_eq!(response.len(), len, "{text}");
            assert!(response.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
    }

    #[test]
    fn verify_accepts_only_the_response() {
        let s = suite("OCRA-1:HOTP-SHA1-6:QN08");
        let input = OcraInput::new().question("00000000");
        // RFC 6287 Appendix C.1.
        assert!(s.verify(&key20(), &input, "237653").unwrap());
        for wrong in ["237654", "23765", "2376530", "", "23765a"] {
            assert!(!s.verify(&key20(), &input, wrong).unwrap(), "{wrong}");
        }
        assert_eq!(
            s.verify(&key20(), &OcraInput::new(), "237653"),
            Err(Error::MissingOcraInput("Q"))
        );
    }

    #[test]
    fn time_steps_are_counted_from_the_epoch() {
        // RFC 6287 Appendix C: Mar 25 2008, 12:06:30 GMT is 0x132d0b6 minutes.
        assert_eq!(TimeStep::Minutes(1).steps(1_206_446_790), Some(0x132d0b6));
        assert_eq!(TimeStep::Seconds(30).steps(59), Some(1));
        assert_eq!(TimeStep::Hours(24).seconds(), 86_400);
        assert_eq!(TimeStep::Hours(0).steps(1_000), None);
        assert_eq!(TimeStep::Seconds(20).to_string(), "20S");
    }

    #[test]
    fn debug_hides_the_pin_hash() {
        let input = OcraInput::new().question("1234").pin_hash(vec![0xab; 20]);
        let shown = format!("{input:?}");
        assert!(shown.contains("1234"));
        assert!(!shown.contains("171") && !shown.contains("ab, ab"), "{shown}");
    }
}
