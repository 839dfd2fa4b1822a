//! The PushOTP push protocol, version 2 (`docs/protocol.md`): every rule written once, for the
//! server (natively) and the browser extension (as WebAssembly).
//!
//! | protocol | here |
//! |---|---|
//! | §1 keys (RFC 5869 HKDF-SHA256) | [`TokenKeys`], [`activation_key`] |
//! | §2 canonical bytes, MACs (RFC 2104 HMAC-SHA256) | [`Canonical`] |
//! | §3 enrollment | [`ActivationLink`], [`EnrollRequest`], [`Enrolled`], [`PinPolicy`] |
//! | §3 confirming an enrollment | [`enroll_confirm_code`] |
//! | §4 push login request, number matching | [`PushRequest`], [`Place`], [`NumberMatch`], [`NumberEntry`] |
//! | §4 the end of a request | [`PushEnded`], [`EndReason`] |
//! | §4 notices about a token | [`TokenNotice`], [`NoticeKind`], [`verify_token_notice`] |
//! | §4 where the passcode goes | [`may_fill`] |
//! | §5 answer, its passcode (RFC 6287 OCRA) | [`Answer`], [`Decision`], [`OtpParams`] |
//! | §5 same-browser approvals | [`PageBinding`], [`binding_hash`], [`binding_matches`] |
//! | §6 PIN masking (RFC 9106 Argon2id) | [`MaskedKeys`], [`PinParams`] |
//! | §7 device channel | [`channel_auth_tag`], [`SignedAt`] (poll, removal), [`webpush_tag`] and their `verify_*` |
//! | §8 restore from an export | [`RestoreRequest`], [`Restored`], [`restored_keys`], [`restored_elsewhere_tag`] |
//!
//! Like the rest of the core it reads no clock and no random source: `now` (Unix seconds),
//! nonces, salts and the random generator are parameters. Messages are plain structs with
//! public fields and serde (camelCase JSON, binary fields as unpadded base64url, unknown
//! fields refused). Checks run in a fixed order: version, field rules, tag, then time, so a
//! time error is only ever reported for an authentic message.

mod answer;
mod binding;
mod canonical;
mod channel;
mod confirm;
mod ended;
mod enroll;
mod keys;
mod link;
mod login_code;
mod notice;
mod number;
mod origins;
mod passcode;
mod pin;
mod request;
mod restore;
mod wire;

pub use answer::{Answer, Decision};
pub use binding::{BINDING_LEN, PageBinding, binding_hash, binding_hash_input, binding_matches};
pub use canonical::Canonical;
pub use channel::{
    SignedAt, WebPushKeys, WebPushSubscription, channel_auth_input, channel_auth_tag, poll_input,
    poll_tag, remove_input, remove_tag, verify_channel_auth, verify_poll, verify_remove,
    verify_webpush, webpush_input, webpush_tag,
};
pub use confirm::{CONFIRM_CODE_DIGITS, enroll_confirm_code, enroll_confirm_input};
pub use ended::{EndReason, PushEnded};
pub use enroll::{EnrollRequest, Enrolled, MAX_LOGIN_ORIGINS, MAX_TRIES_LIMIT, PinPolicy};
pub use keys::{MAC_KEY_LEN, TokenKeys, activation_key};
pub use link::{ActivationLink, MAX_LINK_LEN};
pub use login_code::{login_code_input, login_code_tag, verify_login_code};
pub use notice::{NoticeKind, TokenNotice, verify_token_notice};
pub use number::NumberMatch;
pub use origins::may_fill;
pub use passcode::OtpParams;
pub(crate) use pin::pad as pin_pad;
pub use pin::{MAX_PIN_LEN, MaskedKeys, PinParams};
pub use request::{NumberEntry, Place, PushRequest};
pub use restore::{
    RestoreRequest, Restored, restore_input, restored_elsewhere_input, restored_elsewhere_tag,
    restored_keys, verify_restored, verify_restored_elsewhere,
};
pub(crate) use wire::{b64, b64_opt, b64_vec, check_text, check_token_id};

/// The protocol version this core speaks: the `v` of every message.
pub const VERSION: u32 = 2;
/// The first frame of every MAC input (protocol §2): the label of version 1, whose key schedule
/// and framing version 2 keeps, so that keys enrolled under version 1 stay valid.
pub const PROTOCOL_LABEL: &[u8] = b"pushotp/1";
/// The length of nonces and request ids, in bytes.
pub const NONCE_LEN: usize = 16;
/// The length of every tag and proof: one HMAC-SHA256 output.
pub const TAG_LEN: usize = 32;
/// The length of the activation secret `A` (protocol §1).
pub const ACTIVATION_SECRET_LEN: usize = 20;
/// The length of the Argon2id salt of a PIN (protocol §6).
pub const PIN_SALT_LEN: usize = 16;
/// The longest text field (names, app, origin, IP, place), in bytes of UTF-8.
pub const MAX_TEXT_LEN: usize = 256;
/// The longest token id; ids are 1 to 64 of `A-Z a-z 0-9 _ -`.
pub const MAX_TOKEN_ID_LEN: usize = 64;
/// How far a request's `createdAt` may be ahead of the device's clock (protocol §4).
pub const CLOCK_SKEW: u64 = 30;
/// How far a channel message's `at` may be from the server's clock (protocol §7).
pub const CLOCK_WINDOW: u64 = 60;
/// How many numbers a number-matching request offers (protocol §4).
pub const NUMBER_CHOICES: usize = 3;
/// The smallest number-matching number.
pub const NUMBER_MIN: u8 = 10;
/// The largest number-matching number.
pub const NUMBER_MAX: u8 = 99;

/// A 16-byte nonce or request id.
pub type Nonce = [u8; NONCE_LEN];
/// A 32-byte HMAC-SHA256 tag.
pub type Tag = [u8; TAG_LEN];
/// A 16-byte Argon2id salt.
pub type PinSalt = [u8; PIN_SALT_LEN];

/// The purpose labels (protocol §2), the second frame of each MAC input.
pub mod purpose {
    /// The device's enrollment proof under `K_act` (§3).
    pub const ENROLL: &str = "enroll";
    /// The server's enrollment answer under `K_act` (§3).
    pub const ENROLLED: &str = "enrolled";
    /// The comparison code of an enrollment under `K_act` (§3).
    pub const ENROLL_CONFIRM: &str = "enroll-confirm";
    /// A push login request under `K_req` (§4).
    pub const PUSH_REQUEST: &str = "push-request";
    /// The notice that a push login request ended, under `K_req` (§4).
    pub const PUSH_ENDED: &str = "push-ended";
    /// A notice about a token (wrong passcodes, an authenticator added), under `K_req` (§4).
    pub const TOKEN_NOTICE: &str = "token-notice";
    /// An answer's device tag under `K_chan` (§5).
    pub const ANSWER_DEVICE: &str = "answer-device";
    /// An approval's answer tag under `K_ans` (§5).
    pub const ANSWER: &str = "answer";
    /// The sign-in code in the reply to an approval, under `K_req` (§5).
    pub const LOGIN_CODE: &str = "login-code";
    /// A request's commitment to the binding of its login page, under the binding (§5).
    pub const PAGE_BINDING: &str = "page-binding";
    /// A WebSocket log-in under `K_chan` (§7).
    pub const CHANNEL_AUTH: &str = "channel-auth";
    /// A poll under `K_chan` (§7).
    pub const POLL: &str = "poll";
    /// A Web Push registration under `K_chan` (§7).
    pub const WEBPUSH: &str = "webpush";
    /// A removal under `K_chan` (§7).
    pub const REMOVE: &str = "remove";
    /// A device's restore of an imported token under its `K_chan` (§8).
    pub const RESTORE: &str = "restore";
    /// The server's answer to a restore under the new `K_chan'` (§8).
    pub const RESTORED: &str = "restored";
    /// The server's refusal of a copy whose keys a restore retired, under the old `K_req` (§8).
    pub const RESTORED_ELSEWHERE: &str = "restored-elsewhere";
}
