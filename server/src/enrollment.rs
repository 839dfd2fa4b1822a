//! Enrollment (docs/protocol.md §3): a pending token's activation link, and its redemption by
//! a device, which derives the token's keys.

use pushotp::Secret;
use pushotp::push::{
    ActivationLink, EnrollRequest, Enrolled, Nonce, NoticeKind, PinPolicy, TokenKeys, VERSION,
};

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::states::TokenState;
use crate::store::tokens::TokenRow;
use crate::{notices, store, tokens};

/// A pending token for `user_id` and its activation link (§3).
pub async fn new_enrollment(state: &AppState, user_id: i64, name: &str) -> anyhow::Result<String> {
    let (token, activation) = tokens::create(state, user_id, name).await?;
    let expires = u64::try_from(token.activation_expires_at.unwrap_or(0))?;
    let link = ActivationLink::new(&state.config.public_url, &token.id, activation, expires)?;
    Audit::of_token(AuditEvent::TokenCreated, &token).detail(name).record(&state.db).await?;
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
    // Everything is ready before the link is spent, and it is spent in one statement: of two
    // devices racing with the same link one wins, and a failure on the way leaves it unused.
    let redeemed =
        store::tokens::redeem(&state.db, &token.id, &sealed, &request.device_name, secs(now())?)
            .await?;
    if !redeemed {
        return Err(EnrollError::Refused);
    }
    Audit::of_token(AuditEvent::TokenEnrolled, &token)
        .detail(&request.device_name)
        .record(&state.db)
        .await?;
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
