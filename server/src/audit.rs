//! The audit log: every decision and security event as one [`Audit`] value, written (and traced)
//! in one place.

use std::borrow::Cow;

use crate::clock::{now, secs};
use crate::db::Db;
use crate::store;
use crate::store::tokens::TokenRow;

/// What happened. Stored as the word [`as_str`](Self::as_str) gives (`audit.event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// An administrator or the person made a token and its activation link.
    TokenCreated,
    /// An activation link was refused (expired, redeemed, wrong proof).
    EnrollRefused,
    /// A device redeemed an activation link.
    TokenEnrolled,
    /// The session that made a token's link confirmed that the token is the person's (the
    /// comparison codes matched).
    TokenConfirmed,
    /// The session that made a token's link said the comparison codes did not match: the
    /// token was removed.
    EnrollmentRejected,
    /// A token nobody confirmed within its link's lifetime was removed.
    EnrollmentExpired,
    /// A push login request was sent to a token.
    PushSent,
    /// A push was refused by the per-person limits (no push bombing).
    PushRateLimited,
    /// A device registered its Web Push subscription.
    WebpushRegistered,
    /// A device removed its token.
    TokenRemoved,
    /// An answer came for a request already answered.
    AnswerReplayed,
    /// The person denied a request.
    PushDenied,
    /// The person reported a request as fraud.
    PushReported,
    /// A token locked (failed answers, a report, or an administrator).
    TokenLocked,
    /// An approval was wrong (number, PIN, passcode).
    PushRejected,
    /// An approval came after its login had ended.
    PushTooLate,
    /// The person approved a request.
    PushApproved,
    /// A wrong username or password.
    PasswordFailed,
    /// A right username and password.
    PasswordOk,
    /// A typed passcode was right.
    PasscodeOk,
    /// A typed passcode was wrong.
    PasscodeFailed,
    /// Wrong typed passcodes in a row made typed passcodes wait (the detail says how long).
    PasscodeBackoff,
    /// A session was opened.
    SignedIn,
    /// An administrator unlocked a token.
    TokenUnlocked,
    /// A device restored a token from an export; older copies are refused from now on.
    TokenRestored,
    /// Another token of the same person was enrolled (recorded for each of their other tokens).
    TokenAddedElsewhere,
    /// A session's second factor was too old for what it asked (adding an authenticator).
    StepUpRequired,
}

impl AuditEvent {
    /// The word stored in the audit log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenCreated => "token_created",
            Self::EnrollRefused => "enroll_refused",
            Self::TokenEnrolled => "token_enrolled",
            Self::TokenConfirmed => "token_confirmed",
            Self::EnrollmentRejected => "enrollment_rejected",
            Self::EnrollmentExpired => "enrollment_expired",
            Self::PushSent => "push_sent",
            Self::PushRateLimited => "push_rate_limited",
            Self::WebpushRegistered => "webpush_registered",
            Self::TokenRemoved => "token_removed",
            Self::AnswerReplayed => "answer_replayed",
            Self::PushDenied => "push_denied",
            Self::PushReported => "push_reported",
            Self::TokenLocked => "token_locked",
            Self::PushRejected => "push_rejected",
            Self::PushTooLate => "push_too_late",
            Self::PushApproved => "push_approved",
            Self::PasswordFailed => "password_failed",
            Self::PasswordOk => "password_ok",
            Self::PasscodeOk => "passcode_ok",
            Self::PasscodeFailed => "passcode_failed",
            Self::PasscodeBackoff => "passcode_backoff",
            Self::SignedIn => "signed_in",
            Self::TokenUnlocked => "token_unlocked",
            Self::TokenRestored => "token_restored",
            Self::TokenAddedElsewhere => "token_added_elsewhere",
            Self::StepUpRequired => "step_up_required",
        }
    }
}

/// One audit record: the event, whom and which token it concerns, where from, and a detail
/// that is never a secret.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    /// What happened.
    pub event: AuditEvent,
    /// Whose sign-in or token.
    pub username: Option<&'a str>,
    /// Which token.
    pub token_id: Option<&'a str>,
    /// The browser's address, where there is one.
    pub client_ip: Option<&'a str>,
    /// A short explanation or a request id; empty when there is nothing to add.
    pub detail: Cow<'a, str>,
}

impl<'a> Audit<'a> {
    /// An event about a person.
    pub fn of_user(event: AuditEvent, username: &'a str) -> Self {
        Self { event, username: Some(username), token_id: None, client_ip: None, detail: "".into() }
    }

    /// An event about a token (and so its owner).
    pub fn of_token(event: AuditEvent, token: &'a TokenRow) -> Self {
        Self { token_id: Some(&token.id), ..Self::of_user(event, &token.username) }
    }

    /// The same event, about this token of the same person.
    pub fn token(self, token_id: &'a str) -> Self {
        Self { token_id: Some(token_id), ..self }
    }

    /// The same event, from this browser address.
    pub fn ip(self, client_ip: &'a str) -> Self {
        Self { client_ip: Some(client_ip), ..self }
    }

    /// The same event, with this detail.
    pub fn detail(self, detail: impl Into<Cow<'a, str>>) -> Self {
        Self { detail: detail.into(), ..self }
    }

    /// Writes the record and traces it, each field cut to [`MAX_FIELD`] characters: much of
    /// it was typed by whoever knocked (a user name, a token id), and the log must not become
    /// their storage.
    pub async fn record(&self, db: &Db) -> anyhow::Result<()> {
        let event = self.event.as_str();
        let [username, token_id, client_ip] =
            [self.username, self.token_id, self.client_ip].map(|field| field.map(capped));
        let (username, token_id, client_ip) =
            (username.as_deref(), token_id.as_deref(), client_ip.as_deref());
        let detail = &*capped(&self.detail);
        let at = secs(now())?;
        store::audit::insert(db, at, event, username, token_id, client_ip, detail).await?;
        tracing::info!(event, username, token_id, client_ip, detail, "audit");
        Ok(())
    }
}

/// The longest audit field, in characters.
pub const MAX_FIELD: usize = 256;

/// `text` cut to [`MAX_FIELD`] characters, the last of them an ellipsis when it was cut.
fn capped(text: &str) -> Cow<'_, str> {
    if text.chars().nth(MAX_FIELD).is_none() {
        return Cow::Borrowed(text);
    }
    let end = text.char_indices().nth(MAX_FIELD - 1).map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}…", text.get(..end).unwrap_or_default()))
}
