//! Enrollment (docs/protocol.md §3): a pending token's activation link, its redemption by a
//! device, which derives the token's keys, and, for a link made on a signed-in session's "Add a
//! push authenticator" page, that session's confirmation of the comparison code.
//!
//! A token of such a link is unconfirmed once redeemed: no request is made for it (so its polls
//! get none and its answers find none), and it is no authenticator to sign in with, until the
//! session that made the link confirms that the code its page shows is the one the person's
//! device shows ([`confirm`]).
//! Someone who saw the QR code first and redeemed the link gets a token with another code, which
//! the person refuses ([`reject`]) or leaves to expire ([`sweep`]).

use pushotp::Secret;
use pushotp::push::{
    ActivationLink, EnrollRequest, Enrolled, Nonce, NoticeKind, PinPolicy, TokenKeys, VERSION,
    enroll_confirm_code,
};

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::states::TokenState;
use crate::store::tokens::TokenRow;
use crate::{notices, store, tokens};

/// How long a link made on a signed-in session's "Add a push authenticator" page works, in
/// seconds (or the server's `activation_ttl`, if that is shorter). The person scans it from the
/// page at once; each minute more is a minute in which someone who saw the page (over the
/// shoulder, on a shared screen, in a screenshot) can redeem it first, and in which a redeemed
/// token waits for its confirmation.
pub const SELF_SERVICE_LINK_TTL: u64 = 10 * 60;

/// How long, at least, a token redeemed from such a link waits for its confirmation, in
/// seconds: the rest of the link's lifetime, but no less than this, so that a link scanned in
/// its last seconds leaves the person time to compare the codes.
pub const CONFIRM_AT_LEAST: u64 = 5 * 60;

/// A pending token for `user_id` and its activation link (§3), made by an administrator
/// (`token enroll`, `serve --demo`): active as soon as a device redeems it, since no session
/// exists to confirm it. The link works for the server's `activation_ttl`.
pub async fn new_enrollment(state: &AppState, user_id: i64, name: &str) -> anyhow::Result<String> {
    new_link(state, user_id, name, state.config.activation_ttl, None).await
}

/// A pending token for `user_id` made on the "Add a push authenticator" page of the session
/// stored as `session` (its `ids::stored_id`), and its activation link, which works for
/// [`SELF_SERVICE_LINK_TTL`]. Once redeemed the token waits for that session's [`confirm`].
pub async fn new_self_service_enrollment(
    state: &AppState,
    session: &str,
    user_id: i64,
    name: &str,
) -> anyhow::Result<String> {
    let ttl = SELF_SERVICE_LINK_TTL.min(state.config.activation_ttl);
    new_link(state, user_id, name, ttl, Some(session)).await
}

async fn new_link(
    state: &AppState,
    user_id: i64,
    name: &str,
    ttl: u64,
    session: Option<&str>,
) -> anyhow::Result<String> {
    let (token, activation) = tokens::create(state, user_id, name, ttl, session).await?;
    let expires = u64::try_from(token.activation_expires_at.unwrap_or(0))?;
    let link = ActivationLink::new(&state.config.public_url, &token.id, activation, expires)?;
    let made_by = if session.is_some() { "by its person" } else { "by an administrator" };
    Audit::of_token(AuditEvent::TokenCreated, &token)
        .detail(format!("{name} ({made_by})"))
        .record(&state.db)
        .await?;
    Ok(link.to_string())
}

/// Why an enrollment was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// Unknown token, expired or redeemed link, wrong proof: one answer for all (§3).
    #[error("the activation link is not valid")]
    Refused,
    /// The answer could not be made (a field breaks the protocol's rules).
    #[error(transparent)]
    Protocol(#[from] pushotp::Error),
    /// Storage or the server key failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Redeems an activation link: checks the device's proof, derives and stores the token's
/// keys, and returns the server's signed answer (§3).
pub async fn enroll(state: &AppState, request: &EnrollRequest) -> Result<Enrolled, EnrollError> {
    let Some(token) = store::tokens::get(&state.db, &request.token_id).await? else {
        return Err(EnrollError::Refused);
    };
    let at_now = secs(now())?;
    let expired = token.activation_expires_at.is_none_or(|at| at <= at_now);
    if token.state != TokenState::Pending || expired {
        return Err(refuse(state, &token, "not pending or expired").await);
    }
    let Some(sealed) = store::tokens::activation_sealed(&state.db, &token.id).await? else {
        return Err(EnrollError::Refused);
    };
    let activation = Secret::from_bytes(
        state.key.open(&format!("tokens/{}/activation", token.id), &sealed)?.to_vec(),
    )?;
    if request.verify(&activation).is_err() {
        return Err(refuse(state, &token, "bad proof").await);
    }
    let mut server_nonce: Nonce = [0; 16];
    rand::fill(&mut server_nonce);
    let otp = tokens::otp_params(&token)?;
    let max_tries = u32::try_from(token.max_tries).map_err(anyhow::Error::from)?;
    let mut enrolled = Enrolled {
        v: VERSION,
        token_id: token.id.clone(),
        token_name: token.name.clone(),
        user: token.username.clone(),
        issuer: state.config.org_name.clone(),
        server_nonce,
        otp,
        pin: PinPolicy { required: token.pin_required, max_tries },
        // Sent only when there are some: a device from before the field refuses an answer
        // that carries it.
        login_origins: (!state.config.login_origins.is_empty())
            .then(|| state.config.login_origins.clone()),
        tag: [0; 32],
    };
    enrolled.sign(&activation, request)?;
    let keys =
        TokenKeys::derive(&activation, &request.device_nonce, &server_nonce, token.algorithm);
    let sealed = tokens::seal_keys(state, &token.id, &keys)?;
    let code = enroll_confirm_code(&activation, &token.id, &request.device_nonce, &server_nonce);
    // Everything is ready before the link is spent, and it is spent in one statement: of two
    // devices racing with the same link one wins, and a failure on the way leaves it unused.
    let redeemed = store::tokens::redeem(
        &state.db,
        &token.id,
        &sealed,
        &request.device_name,
        secs(now())?,
        &code,
        secs(CONFIRM_AT_LEAST)?,
    )
    .await?;
    let Some(now_state) = redeemed else {
        return Err(EnrollError::Refused);
    };
    let waits =
        if now_state == TokenState::Unconfirmed { ", waiting for confirmation" } else { "" };
    Audit::of_token(AuditEvent::TokenEnrolled, &token)
        .detail(format!("{:?}{waits}", request.device_name))
        .record(&state.db)
        .await?;
    // At redemption, not at confirmation: if someone else redeemed the link, the person's
    // devices say so at once.
    tell_other_tokens(state, &token, &request.device_name).await?;
    Ok(enrolled)
}

/// Records, for each of the person's other tokens that can sign in (active or locked), that a
/// new authenticator was added, and tells their devices (protocol §4, "Notices about a
/// token"), so that a person who did not add it learns at once.
async fn tell_other_tokens(
    state: &AppState,
    token: &TokenRow,
    device_name: &str,
) -> anyhow::Result<()> {
    let detail = format!("{} on {device_name:?}", token.id);
    for other in store::tokens::list(&state.db, Some(token.user_id)).await? {
        if other.id != token.id && matches!(other.state, TokenState::Active | TokenState::Locked) {
            Audit::of_token(AuditEvent::TokenAddedElsewhere, &other)
                .detail(detail.as_str())
                .record(&state.db)
                .await?;
        }
    }
    notices::tell_person(state, token.user_id, NoticeKind::AuthenticatorAdded, Some(&token.id))
        .await;
    Ok(())
}

/// Records a refused enrollment (audit) and returns the refusal.
async fn refuse(state: &AppState, token: &TokenRow, why: &'static str) -> EnrollError {
    match Audit::of_token(AuditEvent::EnrollRefused, token).detail(why).record(&state.db).await {
        Ok(()) => EnrollError::Refused,
        Err(err) => EnrollError::Internal(err),
    }
}

/// What the page that made a link learns about its token ([`status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// No device redeemed the link yet, and it still works.
    Waiting,
    /// A device redeemed it: the page shows the comparison code and the device's name.
    Unconfirmed {
        /// The six digits the person's device should show.
        code: String,
        /// The name the device gave.
        device_name: String,
    },
    /// Confirmed: the token is the person's authenticator.
    Active,
    /// The link expired unused.
    Expired,
    /// A device redeemed the link, but nobody confirmed it in time; the sweeper removes it.
    NotConfirmed,
    /// Removed: the codes did not match, nobody confirmed in time, or it was removed later.
    Removed,
}

/// Why a confirmation or a refusal was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// No such token, or its link was made by another session (even one of the same person):
    /// one answer for both, so a session learns nothing about tokens that are not its own.
    #[error("no enrollment of this session has this token")]
    NotYours,
    /// The token does not wait for confirmation (not redeemed yet, already confirmed or
    /// removed), or its link expired.
    #[error("this token does not wait for confirmation")]
    NotWaiting,
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The enrollment of `token_id` as the page of the session stored as `session` sees it; only
/// for a link that session made.
pub async fn status(
    state: &AppState,
    session: &str,
    token_id: &str,
) -> Result<LinkStatus, ConfirmError> {
    let enrollment = own_enrollment(state, session, token_id).await?;
    let at_now = secs(now())?;
    Ok(match enrollment.state {
        TokenState::Pending if enrollment.expires_at.is_some_and(|at| at > at_now) => {
            LinkStatus::Waiting
        }
        TokenState::Pending => LinkStatus::Expired,
        TokenState::Unconfirmed if enrollment.expires_at.is_some_and(|at| at > at_now) => {
            LinkStatus::Unconfirmed {
                code: enrollment.confirm_code.unwrap_or_default(),
                device_name: enrollment.device_name.unwrap_or_default(),
            }
        }
        // Too late to confirm; the sweeper removes it.
        TokenState::Unconfirmed => LinkStatus::NotConfirmed,
        TokenState::Active | TokenState::Locked => LinkStatus::Active,
        TokenState::Revoked => LinkStatus::Removed,
    })
}

async fn own_enrollment(
    state: &AppState,
    session: &str,
    token_id: &str,
) -> Result<store::tokens::Enrollment, ConfirmError> {
    match store::tokens::enrollment(&state.db, token_id).await? {
        Some(enrollment) if enrollment.session.as_deref() == Some(session) => Ok(enrollment),
        _ => Err(ConfirmError::NotYours),
    }
}

/// "Confirm" on the page of the session stored as `session`: its unconfirmed token
/// `token_id` becomes active, if its confirmation has not ended. Audited.
pub async fn confirm(state: &AppState, session: &str, token_id: &str) -> Result<(), ConfirmError> {
    own_enrollment(state, session, token_id).await?;
    if !store::tokens::confirm(&state.db, token_id, session, secs(now())?).await? {
        return Err(ConfirmError::NotWaiting);
    }
    if let Some(token) = store::tokens::get(&state.db, token_id).await? {
        Audit::of_token(AuditEvent::TokenConfirmed, &token)
            .detail("comparison codes matched")
            .record(&state.db)
            .await?;
    }
    Ok(())
}

/// "It does not match" on the page of the session stored as `session`: its unconfirmed token
/// `token_id`, redeemed by a device that is not the person's, is removed. Audited.
pub async fn reject(state: &AppState, session: &str, token_id: &str) -> Result<(), ConfirmError> {
    own_enrollment(state, session, token_id).await?;
    let Some(token) = store::tokens::get(&state.db, token_id).await? else {
        return Err(ConfirmError::NotYours);
    };
    let why = store::tokens::Drop::Rejected(session);
    if !store::tokens::drop_unconfirmed(&state.db, token_id, why).await? {
        return Err(ConfirmError::NotWaiting);
    }
    let device = token.device_name.as_deref().unwrap_or_default();
    Audit::of_token(AuditEvent::EnrollmentRejected, &token)
        .detail(format!("comparison codes did not match; redeemed on {device:?}"))
        .record(&state.db)
        .await?;
    Ok(())
}

/// Removes the unconfirmed tokens whose confirmation ended (nobody confirmed them in time), each
/// audited. The push sweeper ([`crate::push::spawn_sweeper`]) calls it every 30 s.
pub async fn sweep(state: &AppState) -> anyhow::Result<()> {
    let at_now = secs(now())?;
    for token_id in store::tokens::unconfirmed_expired(&state.db, at_now).await? {
        let Some(token) = store::tokens::get(&state.db, &token_id).await? else { continue };
        // Confirmed or removed meanwhile: nothing to do.
        let why = store::tokens::Drop::Expired(at_now);
        if store::tokens::drop_unconfirmed(&state.db, &token_id, why).await? {
            Audit::of_token(AuditEvent::EnrollmentExpired, &token)
                .detail("not confirmed within its link's lifetime")
                .record(&state.db)
                .await?;
        }
    }
    Ok(())
}
