//! The one error type of the core.

/// Everything that can go wrong in the core. Each variant has a stable machine-readable
/// [`code`](Error::code) that the WebAssembly binding passes to JavaScript as `error.code`
/// and that the server uses in its JSON errors; match on it, never on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret with no bytes; RFC 4226 §4 R6 asks for at least 128 bits.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is not base32 (RFC 4648 §6), even after removing spaces and padding.
    #[error("the secret is not valid base32")]
    InvalidBase32,
    /// An input is larger than the core accepts.
    #[error("the input is longer than {max} bytes")]
    TooLong {
        /// The largest accepted length in bytes.
        max: usize,
    },
    /// A code length outside what the algorithm allows (RFC 4226 §5.3: at least 6).
    #[error("digits must be between {min} and {max}")]
    InvalidDigits {
        /// Smallest allowed number of digits.
        min: u8,
        /// Largest allowed number of digits.
        max: u8,
    },
    /// A TOTP time step of zero or of more than a day (RFC 6238 §4.1, X).
    #[error("the period must be between 1 and {max} seconds")]
    InvalidPeriod {
        /// The largest accepted period in seconds.
        max: u64,
    },
    /// The time is earlier than the TOTP epoch T0 (RFC 6238 §4.2).
    #[error("the time is before the TOTP start time T0")]
    TimeBeforeEpoch,
    /// A verification window or look-ahead larger than the core allows.
    #[error("the verification window is larger than {max} steps")]
    WindowTooLarge {
        /// The largest accepted window.
        max: u64,
    },
    /// A code to verify that is not all ASCII digits.
    #[error("a one-time code must be made of digits only")]
    MalformedCode,
    /// A URI with another scheme than the one expected.
    #[error("expected a URI starting with {expected}")]
    WrongScheme {
        /// The scheme that was expected, with its `://`.
        expected: &'static str,
    },
    /// An `otpauth://` type other than `totp` or `hotp`.
    #[error("unknown token type: expected totp or hotp")]
    UnknownTokenType,
    /// An algorithm other than SHA1, SHA256 or SHA512.
    #[error("unsupported algorithm: expected SHA1, SHA256 or SHA512")]
    UnknownAlgorithm,
    /// An `otpauth://` URI without a `secret` parameter.
    #[error("the URI has no secret")]
    MissingSecret,
    /// An HOTP `otpauth://` URI without its required `counter` parameter (Key URI format).
    #[error("an HOTP URI must carry a counter")]
    MissingCounter,
    /// A parameter that is present but malformed.
    #[error("the parameter {name} is invalid")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// A URI that cannot be split into its parts.
    #[error("the URI is malformed: {0}")]
    MalformedUri(&'static str),
    /// An OCRA suite string that does not follow RFC 6287 §6.
    #[error("invalid OCRA suite: {0}")]
    InvalidOcraSuite(&'static str),
    /// An input the OCRA suite asks for was not given (RFC 6287 §5.1).
    #[error("the OCRA suite needs the input {0}")]
    MissingOcraInput(&'static str),
    /// An OCRA input that does not fit the suite (RFC 6287 §6.3).
    #[error("the OCRA input {0} does not fit the suite")]
    InvalidOcraInput(&'static str),
    /// A Google Authenticator export link that cannot be decoded.
    #[error("invalid migration link: {0}")]
    InvalidMigration(&'static str),
    /// A required parameter of a link is missing (protocol §3, the activation link).
    #[error("the parameter {name} is missing")]
    MissingParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// A protocol message or link of a version this core does not speak (protocol §2: only
    /// version 2; privacyIDEA enrollment links: version 1).
    #[error("unsupported protocol version: PushOTP messages are version 2")]
    UnsupportedVersion,
    /// A protocol message whose fields break a rule of the protocol (a length, a range, a
    /// field that must or must not be there); the text names the rule.
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),
    /// An authentication tag or enrollment proof that does not verify (protocol §2: HMAC-SHA256,
    /// compared in constant time). Says nothing about which input was wrong.
    #[error("the authentication tag does not verify")]
    BadTag,
    /// A request, link or timestamped message whose validity has ended (protocol §3, §4, §7).
    #[error("the message has expired")]
    Expired,
    /// A message stamped further in the future than the clock-skew tolerance allows
    /// (protocol §4, §7).
    #[error("the message is not valid yet")]
    NotYetValid,
    /// A server address of plain `http://` to another computer (protocol §3): on the way,
    /// anyone could read or change what enrolls the token. `http://` is for servers on this
    /// computer only.
    #[error("the server {name} must use https:// (http:// only to this computer)")]
    InsecureServer {
        /// The parameter that holds the address.
        name: &'static str,
    },
    /// A PIN that is empty or longer than 64 bytes (protocol §6).
    #[error("the PIN must be 1 to 64 bytes")]
    InvalidPin,
    /// A privacyIDEA token whose server asks for an unlock before each answer was given no
    /// PIN, or one that is not 4 to 64 digits.
    #[error("this token needs a PIN of 4 to 64 digits")]
    PinRequired,
    /// A push token to store that lacks what the device needs to use it (a key, its server);
    /// the text names the rule.
    #[error("the token is incomplete: {0}")]
    InvalidToken(&'static str),
    /// An image to read QR codes from whose width, height and pixel buffer do not fit together,
    /// or that is larger than the core accepts; the text says which. Only with the `qr`
    /// feature, so that builds without QR reading carry neither its message nor its code.
    #[cfg(feature = "qr")]
    #[error("invalid image: {0}")]
    InvalidImage(&'static str),
}

impl Error {
    /// A stable, machine-readable name for the error, such as `"invalid_base32"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptySecret => "empty_secret",
            Self::InvalidBase32 => "invalid_base32",
            Self::TooLong { .. } => "too_long",
            Self::InvalidDigits { .. } => "invalid_digits",
            Self::InvalidPeriod { .. } => "invalid_period",
            Self::TimeBeforeEpoch => "time_before_epoch",
            Self::WindowTooLarge { .. } => "window_too_large",
            Self::MalformedCode => "malformed_code",
            Self::WrongScheme { .. } => "wrong_scheme",
            Self::UnknownTokenType => "unknown_token_type",
            Self::UnknownAlgorithm => "unknown_algorithm",
            Self::MissingSecret => "missing_secret",
            Self::MissingCounter => "missing_counter",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::MalformedUri(_) => "malformed_uri",
            Self::InvalidOcraSuite(_) => "invalid_ocra_suite",
            Self::MissingOcraInput(_) => "missing_ocra_input",
            Self::InvalidOcraInput(_) => "invalid_ocra_input",
            Self::InvalidMigration(_) => "invalid_migration",
            Self::MissingParameter { .. } => "missing_parameter",
            Self::UnsupportedVersion => "unsupported_version",
            Self::InvalidMessage(_) => "invalid_message",
            Self::BadTag => "bad_tag",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::InsecureServer { .. } => "insecure_server",
            Self::InvalidPin => "invalid_pin",
            Self::PinRequired => "pin_required",
            Self::InvalidToken(_) => "invalid_token",
            #[cfg(feature = "qr")]
            Self::InvalidImage(_) => "invalid_image",
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
