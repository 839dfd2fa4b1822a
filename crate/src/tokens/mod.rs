//! The tokens the browser extension keeps: the checks a token passes before it is stored.
//!
//! | what | here |
//! |---|---|
//! | an everyday TOTP or HOTP token (RFC 6238, RFC 4226) | [`check_otp_token`], [`OtpToken`]; its new names, [`check_otp_names`] |
//! | an enrolled push token (`docs/protocol.md` §3, §6) | [`check_push_token`] |
//! | a site a token's codes may be filled into | [`is_web_origin`], [`MAX_SITES`] |
//!
//! They take the token as the extension holds it, a JavaScript object ([`Value`]), and keep
//! the error codes the extension's own checks had, so that stored tokens, export files and
//! the pages that report the errors see no difference.

mod origin;
mod otp;
mod push;

pub use origin::is_web_origin;
pub use otp::{OtpToken, check_otp_names, check_otp_token};
pub use push::{check_push_token, push_token_may_fill};

#[cfg(doc)]
use crate::value::Value;

/// The most sites one token's codes may be filled into.
pub const MAX_SITES: usize = 64;

/// The longest issuer or account name, in UTF-16 code units (JavaScript's `length`).
pub const MAX_LABEL_UNITS: usize = 256;

/// A whole number within `min..=max` (both at most 2^53 - 1, so that the number is exact).
fn whole(value: &crate::value::Value, min: f64, max: f64) -> Option<u64> {
    // Checked: whole and within `min..=max`, which are at most 2^53 - 1.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    value.as_integer().filter(|n| (min..=max).contains(n)).map(|n| n as u64)
}
