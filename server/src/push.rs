//! The push login lifecycle (docs/protocol.md §4, §5): a login starts pushes to each active
//! token of its person, a device answers one of them, and whatever is not answered in time
//! expires (by its own timer, or by the sweeper after a restart).
//!
//! Each step returns a typed result; the HTTP routes only turn it into a reply. Every state
//! change that races (the answer's claim, the login's outcome, a passcode's use) is one
//! statement in [`crate::store`].

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::push::{
    Answer, Decision, EndReason, Nonce, NoticeKind, NumberEntry, NumberMatch, PageBinding, Place,
    PushRequest, VERSION,
};

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::config::NumberMatching;
use crate::device_auth::{self, DeviceAuthError};
use crate::states::{LoginState, Reason, RequestState, TokenState};
use crate::store::logins::Login;
use crate::store::reports::Report;
use crate::store::requests::{NewPush, NewRequest, PushStored, RequestRow};
use crate::store::tokens::TokenRow;
use crate::{delivery, ended, notices, signin, store, tokens};

/// Why a push login did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The login is already approved (or its session opened).
    #[error("the sign-in is already approved")]
    AlreadyApproved,
    /// The person has no active token, and at least one locked one.
    #[error("every authenticator of the person is locked")]
    Locked,
    /// The person has no active token.
    #[error("no authenticator is enrolled")]
    NoAuthenticator,
    /// The person got as many pushes as one request lifetime allows (no push bombing).
    #[error("too many pushes")]
    TooMany,
    /// A request of the person was denied or reported a moment ago.
    #[error("a request was just denied")]
    CoolingDown,
    /// The login was denied, reported or locked: it is over for good, and the person starts
    /// again with the password.
    #[error("the sign-in is over")]
    Over,
    /// The request could not be signed (a field breaks the protocol's rules).
    #[error(transparent)]
    Protocol(#[from] pushotp::Error),
    /// Storage or the server key failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Sends a push login request to each active token of the login's person (§4) and returns the
/// number the login page shows, if number matching is on.
pub async fn start(state: &AppState, login: &Login) -> Result<Option<u8>, StartError> {
    if matches!(login.state, LoginState::Approved | LoginState::Done) {
        return Err(StartError::AlreadyApproved);
    }
    // Denied, reported or locked: over for good, whatever the cooldown; the person starts
    // again with the password.
    if !LoginState::OPEN.contains(&login.state) {
        return Err(StartError::Over);
    }
    let all = store::tokens::list(&state.db, Some(login.user_id)).await?;
    let active: Vec<&TokenRow> = all.iter().filter(|t| t.state == TokenState::Active).collect();
    if active.is_empty() {
        return Err(if all.iter().any(|t| t.state == TokenState::Locked) {
            StartError::Locked
        } else {
            StartError::NoAuthenticator
        });
    }
    let now = now();
    let now_i = secs(now)?;

    let matching = state.config.number_matching.then(|| NumberMatch::generate(&mut rand::rng()));
    let right_number = matching.as_ref().map(|m| i64::from(m.right()));
    // Typed: the request offers no numbers and asks for the page's to be typed; the answer is
    // checked against the right number either way.
    let typed = matching.is_some() && state.config.number_entry == NumberMatching::Type;
    let choices = matching.as_ref().map(NumberMatch::choices).filter(|_| !typed);
    let number_entry = typed.then_some(NumberEntry::Type);
    let place = login.client_ip.parse().ok().and_then(|ip| state.geo.place(ip)).map(|p| Place {
        city: p.city,
        country: p.country,
        lat_e6: p.lat_e6,
        lon_e6: p.lon_e6,
    });
    let expires = now + state.config.request_ttl;
    // The page load the push is started from: each request commits to its binding (§5,
    // "Same-browser approvals"), so that an approval can prove that page was open on the
    // login's origin in the browser that approved. A sign-in whose page was never loaded (a
    // script that signs in) gets one no page carries: its requests still say that this server
    // binds its pages, so a device knows their number is on no page of its own.
    let binding = match &login.binding {
        Some(binding) => binding.clone(),
        None => signin::new_binding(state, login).await?,
    };
    let binding =
        Base64UrlUnpadded::decode_vec(&binding).ok().and_then(|b| PageBinding::try_from(b).ok());
    let mut signed = Vec::with_capacity(active.len());
    for token in active {
        let keys = tokens::open_keys(state, token)?;
        let mut id: Nonce = [0; 16];
        let mut nonce: Nonce = [0; 16];
        rand::fill(&mut id);
        rand::fill(&mut nonce);
        let mut request = PushRequest {
            v: VERSION,
            id,
            token_id: token.id.clone(),
            app: login.app.clone(),
            origin: login.origin.clone(),
            client_ip: login.client_ip.clone(),
            place: place.clone(),
            created_at: now,
            expires_at: expires,
            choices,
            number_entry,
            binding_hash: binding
                .map(|b| pushotp::push::binding_hash(&b, &id, &token.id))
                .transpose()?,
            nonce,
            tag: [0; 32],
        };
        request.sign(&keys.request)?;
        let body = serde_json::to_string(&request).map_err(anyhow::Error::from)?;
        signed.push((token, b64(&id), body));
    }
    let expires_i = secs(expires)?;
    let requests: Vec<NewRequest<'_>> = signed
        .iter()
        .map(|(token, id, body)| NewRequest {
            id,
            token_id: &token.id,
            login_id: &login.id,
            body,
            right_number,
            created_at: now_i,
            expires_at: expires_i,
        })
        .collect();

    // No push bombing: at most `max_pending_per_user` pushes per person within one request
    // lifetime, whatever became of them (a push that replaced an earlier one counts too) unless
    // the person approved their sign-in, and a pause after each refusal, which holds a new
    // sign-in of the person back too. Checked and stored for one person at a time, so that
    // pushes racing from many sign-ins cannot all pass the check.
    let cooldown = secs(state.config.deny_cooldown)?;
    let push = NewPush {
        user_id: login.user_id,
        login_id: &login.id,
        number: right_number,
        // A new push replaces the login's earlier ones (a login that never pushed has none).
        replaces: login.state != LoginState::PasswordOk,
        since: now_i - secs(state.config.request_ttl)?,
        requests: &requests,
    };
    let stored = store::requests::insert_push(&state.db, &push, |history| {
        if history.pushes >= state.config.max_pending_per_user {
            Err(("pending", StartError::TooMany))
        } else if history.last_refusal.is_some_and(|last| last + cooldown > now_i) {
            Err(("cooldown", StartError::CoolingDown))
        } else {
            Ok(())
        }
    })
    .await?;
    let replaced = match stored {
        PushStored::Stored(replaced) => replaced,
        PushStored::Refused((why, refusal)) => {
            return Err(rate_limited(state, login, why, refusal).await);
        }
        // Approved, denied or locked since the login was read.
        PushStored::NotOpen => {
            let now_state = store::logins::get(&state.db, &login.id, now_i).await?;
            return Err(match now_state.map(|l| l.state) {
                Some(LoginState::Approved | LoginState::Done) => StartError::AlreadyApproved,
                _ => StartError::Over,
            });
        }
    };
    ended::tell_ended(state, &replaced, EndReason::Replaced).await;

    for (token, request_id, body) in signed {
        let message = push_message(&body);
        let delivered = state.hub.publish_push(&token.id, &message).await;
        if token.webpush {
            delivery::spawn_webpush(state.clone(), token.id.clone(), message, request_id.clone());
        }
        Audit::of_token(AuditEvent::PushSent, token)
            .ip(&login.client_ip)
            .detail(format!("sockets={delivered}"))
            .record(&state.db)
            .await?;
        spawn_expiry(state.clone(), request_id, login.id.clone(), state.config.request_ttl);
    }
    Ok(matching.map(|m| m.right()))
}

/// Records a refused push (audit) and returns the refusal.
async fn rate_limited(
    state: &AppState,
    login: &Login,
    why: &str,
    refusal: StartError,
) -> StartError {
    let audit = Audit::of_user(AuditEvent::PushRateLimited, &login.username)
        .ip(&login.client_ip)
        .detail(why)
        .record(&state.db)
        .await;
    match audit {
        Ok(()) => refusal,
        Err(err) => StartError::Internal(err),
    }
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A push request as the device channel and Web Push carry it (§7).
pub fn push_message(request_json: &str) -> String {
    format!(r#"{{"type":"push","request":{request_json}}}"#)
}

/// The pending, unexpired requests of `token_id`, as sent.
pub async fn pending_of(state: &AppState, token_id: &str) -> anyhow::Result<Vec<String>> {
    store::requests::pending_bodies(&state.db, token_id, secs(now())?).await
}

/// An answer's outcome, as the device shows it (§5). Its `Debug` leaves the sign-in code out.
#[derive(Clone, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// Approved: the login is signed in. `login_code` is the sign-in code the device may fill
    /// into the login page (§5, "What the login page gets").
    Approved {
        /// Random digits of the server's, valid once for this login, and its `loginCodeTag`
        /// under the token's `K_req`, so that the device fills only a code its server issued
        /// for this request.
        login_code: Option<(String, pushotp::push::Tag)>,
    },
    /// Denied.
    Denied,
    /// Denied and reported as fraud.
    Reported,
    /// Refused; with the tries left before the token locks where a try was counted.
    Rejected {
        /// Why.
        reason: Reason,
        /// Failed tries left, where the answer counted as one (0 once locked).
        tries_left: Option<i64>,
    },
    /// A wrong PIN, counted as a failed try; the request is still pending, so that the person
    /// can type the PIN again.
    WrongPin {
        /// Failed tries left before the token locks (at least 1).
        tries_left: i64,
    },
}

// By hand, so that a debug print of an outcome (in a log line or a failed assertion) never
// shows the sign-in code, which opens the login's session.
impl std::fmt::Debug for AnswerOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Approved { login_code } => f
                .debug_struct("Approved")
                .field("login_code", &login_code.as_ref().map(|_| "<redacted>"))
                .finish(),
            Self::Denied => f.write_str("Denied"),
            Self::Reported => f.write_str("Reported"),
            Self::Rejected { reason, tries_left } => f
                .debug_struct("Rejected")
                .field("reason", reason)
                .field("tries_left", tries_left)
                .finish(),
            Self::WrongPin { tries_left } => {
                f.debug_struct("WrongPin").field("tries_left", tries_left).finish()
            }
        }
    }
}

/// Why an answer was refused before it was processed.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No such request, or not one of the answering token's.
    #[error("unknown request")]
    UnknownRequest,
    /// The token is unknown or the device tag is wrong: nothing changed, nothing counted.
    #[error(transparent)]
    Device(#[from] DeviceAuthError),
    /// The request was answered before.
    #[error("already answered")]
    AlreadyAnswered,
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Checks and records a device's answer (§5).
pub async fn answer(state: &AppState, answer: Answer) -> Result<AnswerOutcome, AnswerError> {
    // An answer takes several writes (claim, outcome, tries, login). Run them apart from the
    // connection, so that a client that hangs up midway cannot leave a request half answered
    // or a failed try uncounted.
    tokio::spawn(process_answer(state.clone(), answer))
        .await
        .map_err(|err| AnswerError::Internal(anyhow::anyhow!("answer task: {err}")))?
}

async fn process_answer(state: AppState, answer: Answer) -> Result<AnswerOutcome, AnswerError> {
    let request_id = b64(&answer.request_id);
    let Some(request) = store::requests::get(&state.db, &request_id).await? else {
        return Err(AnswerError::UnknownRequest);
    };
    if request.token_id != answer.token_id {
        return Err(AnswerError::UnknownRequest);
    }
    // Anyone can send garbage: a bad device tag changes nothing and counts nothing.
    let device = device_auth::authenticate(&state, &answer).await?;
    let token = &device.token;
    let rejected = |reason, tries_left| Ok(AnswerOutcome::Rejected { reason, tries_left });
    // Claim the request: one answer at a time, whatever races, and none older than a wrong
    // PIN already counted on it.
    let device_time = i64::try_from(answer.answered_at).map_err(anyhow::Error::from)?;
    if !store::requests::claim(&state.db, &request_id, secs(now())?, device_time).await? {
        match request.state {
            RequestState::Expired => return rejected(Reason::Expired, None),
            RequestState::Cancelled => return rejected(Reason::Cancelled, None),
            _ => {}
        }
        Audit::of_token(AuditEvent::AnswerReplayed, token)
            .detail(&request_id)
            .record(&state.db)
            .await?;
        return Err(AnswerError::AlreadyAnswered);
    }
    let settle = |new_state| store::requests::settle(&state.db, &request_id, new_state);
    let login_id = &request.login_id;
    if request.expires_at <= secs(now())? {
        settle(RequestState::Expired).await?;
        signin::finish(&state, login_id, LoginState::Expired, None).await?;
        return rejected(Reason::Expired, None);
    }
    if token.state == TokenState::Locked && answer.decision == Decision::Approve {
        settle(RequestState::Rejected).await?;
        signin::finish(&state, login_id, LoginState::Locked, None).await?;
        return rejected(Reason::Locked, Some(0));
    }
    match answer.decision {
        Decision::Deny => {
            settle(RequestState::Denied).await?;
            Audit::of_token(AuditEvent::PushDenied, token)
                .detail(&request_id)
                .record(&state.db)
                .await?;
            signin::finish(&state, login_id, LoginState::Denied, None).await?;
            Ok(AnswerOutcome::Denied)
        }
        Decision::Report => {
            settle(RequestState::Reported).await?;
            report(&state, token, &request_id, &request).await?;
            signin::finish(&state, login_id, LoginState::Denied, Some(Reason::Reported)).await?;
            Ok(AnswerOutcome::Reported)
        }
        Decision::Approve => {
            // Bound: the answer carries the binding of the login page the push was started
            // from, read in the approving browser from a document of the login's origin (§5,
            // "Same-browser approvals"). The tags, checked below, cover it.
            let sent: Option<PushRequest> = serde_json::from_str(&request.body).ok();
            let bound = sent.as_ref().is_some_and(|sent| answer.is_bound(sent));
            // A bound approval may leave the number out: the page is in front of the person.
            let number_ok = request.right_number.is_none()
                || request.right_number == answer.number.map(i64::from)
                || (bound && answer.number.is_none());
            // The answer tag under K_ans first (§5 step 5): a wrong one is what a wrong PIN
            // gives. A right one proves the PIN right, so a passcode that then fails is no
            // guess at the PIN: it ends the request as `bad_passcode` and counts nothing.
            let tag_ok = answer.verify_answer_tag(&device.keys.answer).is_ok();
            let passcode_ok = tag_ok
                && answer.passcode.as_deref().is_some_and(|code| {
                    tokens::otp_params(token).is_ok_and(|otp| {
                        otp.verify_passcode(&device.keys.otp, &answer.request_id, code)
                    })
                });
            // A wrong number comes first, whatever the PIN: it ends the request, so that a
            // person who guesses at a number they cannot see (a push they did not start) gets
            // no second guess.
            let failure = if !number_ok {
                Some(Reason::WrongNumber)
            } else if !tag_ok {
                Some(if token.pin_required { Reason::WrongPin } else { Reason::BadAnswer })
            } else if !passcode_ok {
                settle(RequestState::Rejected).await?;
                Audit::of_token(AuditEvent::PushRejected, token)
                    .detail(Reason::BadPasscode.as_str())
                    .record(&state.db)
                    .await?;
                let reason = Some(Reason::BadPasscode);
                signin::finish(&state, login_id, LoginState::Rejected, reason).await?;
                return rejected(Reason::BadPasscode, None);
            } else {
                None
            };
            if let Some(reason) = failure {
                // Counted (and the token locked at its limit) in one statement, while this
                // answer holds the claim.
                let counted = tokens::fail_try(&state, token).await?;
                Audit::of_token(AuditEvent::PushRejected, token)
                    .detail(reason.as_str())
                    .record(&state.db)
                    .await?;
                let Some((left, locked_now)) = counted else {
                    // The token was locked or revoked after this answer read it: nothing was
                    // counted, and the answer ends as the token now stands.
                    return end_for_token(&state, &request_id, login_id, &token.id, Some(reason))
                        .await;
                };
                // Every device of the person hears of it, this one too: a copy of its keys
                // elsewhere may be the one guessing.
                notices::tell_person(&state, token.user_id, NoticeKind::FailedApprovals, None)
                    .await;
                if locked_now {
                    settle(RequestState::Rejected).await?;
                    Audit::of_token(AuditEvent::TokenLocked, token)
                        .detail("too many failed tries")
                        .record(&state.db)
                        .await?;
                    signin::finish(&state, login_id, LoginState::Locked, Some(reason)).await?;
                    return rejected(Reason::Locked, Some(0));
                }
                if reason == Reason::WrongPin {
                    // The login keeps waiting: the person types the PIN again on the same
                    // request, whose passcode depends on nothing but the request and the keys.
                    if ended::hand_back(&state, &request_id, device_time).await? {
                        // Its sign-in or token was cancelled while the PIN was checked.
                        return rejected(Reason::Cancelled, None);
                    }
                    if request.expires_at <= secs(now())? {
                        // Its expiry fell while it was claimed, and skipped it.
                        expire(&state, &request_id, login_id).await?;
                    }
                    return Ok(AnswerOutcome::WrongPin { tries_left: left });
                }
                settle(RequestState::Rejected).await?;
                signin::finish(&state, login_id, LoginState::Rejected, Some(reason)).await?;
                return rejected(reason, Some(left));
            }
            // Unbound, where only bound approvals sign in: no failed try (the PIN was right),
            // but the request and its sign-in end, and the login page says to approve from
            // the browser it is open in.
            if state.config.require_same_browser && !bound {
                settle(RequestState::Rejected).await?;
                Audit::of_token(AuditEvent::PushRejected, token)
                    .detail(format!("{request_id} {}", Reason::Unbound.as_str()))
                    .record(&state.db)
                    .await?;
                signin::finish(&state, login_id, LoginState::Rejected, Some(Reason::Unbound))
                    .await?;
                return rejected(Reason::Unbound, None);
            }
            // Only while the token is active: a failure of another request may have just
            // locked it. A right answer forgives no failed try (they decay with time).
            if !tokens::still_active(&state, token).await? {
                settle(RequestState::Rejected).await?;
                signin::finish(&state, login_id, LoginState::Locked, None).await?;
                return rejected(Reason::Locked, Some(0));
            }
            // The token may have been removed, revoked or restored elsewhere, or the login
            // ended (denied or reported on another device, or expired), while this answer held
            // the request: then it approves nothing.
            let approved = store::requests::approve(&state.db, &request_id).await?;
            if !approved && locked(&state, &token.id).await? {
                // An administrator (or a report) locked the token after its passcode was taken.
                return end_for_token(&state, &request_id, login_id, &token.id, None).await;
            }
            let approved =
                approved && signin::finish(&state, login_id, LoginState::Approved, None).await?;
            if !approved {
                settle(RequestState::Cancelled).await?;
                Audit::of_token(AuditEvent::PushTooLate, token)
                    .detail(&request_id)
                    .record(&state.db)
                    .await?;
                return rejected(Reason::Cancelled, None);
            }
            // Audited as bound or unbound, so that an administrator sees which sign-ins were
            // approved from another device (or through a relay on another origin).
            Audit::of_token(AuditEvent::PushApproved, token)
                .detail(format!("{request_id} {}", if bound { "bound" } else { "unbound" }))
                .record(&state.db)
                .await?;
            // What the device may fill into the login page: a fresh code of the server's, not
            // this answer's passcode, which depends on the PIN (docs/protocol.md §5).
            let login_code = match signin::issue_login_code(&state, login_id, token.digits).await? {
                Some(code) => {
                    let tag = pushotp::push::login_code_tag(
                        &device.keys.request,
                        &answer.request_id,
                        &token.id,
                        &code,
                    )
                    .map_err(anyhow::Error::from)?;
                    Some((code, tag))
                }
                None => None,
            };
            Ok(AnswerOutcome::Approved { login_code })
        }
    }
}

/// Whether a token is locked now (read again, after a statement that required it active did
/// nothing).
async fn locked(state: &AppState, token_id: &str) -> anyhow::Result<bool> {
    let token = store::tokens::get(&state.db, token_id).await?;
    Ok(token.is_some_and(|t| t.state == TokenState::Locked))
}

/// Ends a claimed request whose token stopped being active while its answer was checked: a
/// locked token's request is refused as locked, and its login ends locked; a revoked one's is
/// cancelled, as its revocation cancelled the token's other requests.
async fn end_for_token(
    state: &AppState,
    request_id: &str,
    login_id: &str,
    token_id: &str,
    reason: Option<Reason>,
) -> Result<AnswerOutcome, AnswerError> {
    if locked(state, token_id).await? {
        store::requests::settle(&state.db, request_id, RequestState::Rejected).await?;
        signin::finish(state, login_id, LoginState::Locked, reason).await?;
        return Ok(AnswerOutcome::Rejected { reason: Reason::Locked, tries_left: Some(0) });
    }
    store::requests::settle(&state.db, request_id, RequestState::Cancelled).await?;
    Ok(AnswerOutcome::Rejected { reason: Reason::Cancelled, tries_left: None })
}

/// Records a fraud report of a request, and locks the token if the server is set to.
async fn report(
    state: &AppState,
    token: &TokenRow,
    request_id: &str,
    stored: &RequestRow,
) -> anyhow::Result<()> {
    let request: PushRequest = serde_json::from_str(&stored.body)?;
    let place = request.place.as_ref().map(|p| {
        format!(
            "{}, {} ({:.4}, {:.4})",
            p.city,
            p.country,
            p.lat_e6 as f64 / 1e6,
            p.lon_e6 as f64 / 1e6
        )
    });
    let report = Report {
        token_id: token.id.clone(),
        username: token.username.clone(),
        request_id: request_id.to_owned(),
        app: request.app.clone(),
        origin: request.origin.clone(),
        client_ip: request.client_ip.clone(),
        place,
        created_at: secs(now())?,
    };
    store::reports::insert(&state.db, &report).await?;
    Audit::of_token(AuditEvent::PushReported, token)
        .ip(&request.client_ip)
        .detail(request_id)
        .record(&state.db)
        .await?;
    // Recorded only by the report that locked it: a token locked already stays as it is.
    if state.config.lock_on_report && tokens::lock(state, &token.id).await? {
        Audit::of_token(AuditEvent::TokenLocked, token)
            .detail("reported")
            .record(&state.db)
            .await?;
    }
    Ok(())
}

/// Marks a request expired when its time is up and tells the login page, unless it was
/// answered first.
fn spawn_expiry(state: AppState, request_id: String, login_id: String, ttl: u64) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(ttl)).await;
        if let Err(err) = expire(&state, &request_id, &login_id).await {
            tracing::warn!(error = %err, "expiring a push request");
        }
    });
}

/// Expires a request if it is still pending; when it was its login's last pending one, the
/// login expires too.
async fn expire(state: &AppState, request_id: &str, login_id: &str) -> anyhow::Result<()> {
    // Nearly every request was answered long before its time is up: a read finds that out
    // beside the writer instead of queueing a write behind it.
    if !store::requests::is_pending(&state.db, request_id).await? {
        return Ok(());
    }
    if ended::expire(state, request_id).await?
        && store::requests::pending_of_login(&state.db, login_id).await? == 0
    {
        signin::finish(state, login_id, LoginState::Expired, None).await?;
    }
    Ok(())
}

/// Expires what the per-request timers missed: requests of a previous run of the server, or
/// made on another node that went away; and removes unconfirmed tokens whose time to confirm
/// ended ([`crate::enrollment::sweep`]). Runs every `every` until the server stops.
///
/// The two sweeps run each round whatever the other did: a failure of one (a request whose
/// expiry fails, say) must not keep unconfirmed tokens alive past their time, nor the reverse.
pub fn spawn_sweeper(state: AppState, every: Duration) {
    tokio::spawn(async move {
        loop {
            if let Err(err) = sweep(&state).await {
                tracing::warn!(error = %err, "expiring old push requests");
            }
            // Unconfirmed tokens end with their time to confirm (docs/protocol.md §3).
            if let Err(err) = crate::enrollment::sweep(&state).await {
                tracing::warn!(error = %err, "removing unconfirmed tokens");
            }
            tokio::time::sleep(every).await;
        }
    });
}

async fn sweep(state: &AppState) -> anyhow::Result<()> {
    for (request_id, login_id) in store::requests::overdue(&state.db, secs(now())?).await? {
        expire(state, &request_id, &login_id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AnswerOutcome;

    #[test]
    fn an_outcome_prints_without_its_sign_in_code() {
        let approved =
            AnswerOutcome::Approved { login_code: Some(("80421957".to_owned(), [0xab; 32])) };
        let printed = format!("{approved:?}");
        assert!(!printed.contains("80421957"), "{printed}");
        assert!(!printed.contains("171"), "the tag's bytes: {printed}");
        assert_eq!(printed, r#"Approved { login_code: Some("<redacted>") }"#);
        let none = AnswerOutcome::Approved { login_code: None };
        assert_eq!(format!("{none:?}"), "Approved { login_code: None }");
        let wrong = AnswerOutcome::WrongPin { tries_left: 2 };
        assert_eq!(format!("{wrong:?}"), "WrongPin { tries_left: 2 }");
    }
}
