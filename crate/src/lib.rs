#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), warn(clippy::print_stdout))]

mod algorithm;
mod error;
mod hotp;
mod migration;
mod ocra;
pub mod privacyidea;
pub mod push;
#[cfg(feature = "qr")]
mod qr;
mod secret;
mod text;
pub mod tokens;
mod totp;
mod uri;
pub mod value;
pub mod vault;

#[cfg(feature = "wasm")]
pub mod wasm;

pub use algorithm::Algorithm;
pub use error::{Error, Result};
pub use hotp::{Hotp, KeyedHotp, MAX_DIGITS, MAX_WINDOW, MIN_DIGITS};
pub use migration::{MAX_MIGRATION_LEN, MigrationBatch, export_migration, import_migration};
pub use ocra::{MAX_OCRA_SUITE_LEN, OcraInput, OcraSuite, QuestionFormat, TimeStep};
#[cfg(feature = "qr")]
pub use qr::{MAX_IMAGE_SIDE, decode_qr, decode_qr_luma};
pub use secret::{MAX_SECRET_LEN, Secret};
pub use text::{is_secure_server, reads_as_is};
pub use totp::{DEFAULT_PERIOD, KeyedTotp, MAX_PERIOD, Totp, Window};
pub use uri::{MAX_URI_LEN, TokenKind, TokenUri};
