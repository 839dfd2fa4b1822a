//! Sign-ins to the demo app: the password step, typed passcodes, a login's outcome (told to its
//! page), and the session an approved login becomes, once.

use std::net::IpAddr;
use std::time::Duration;

use pushotp::push::{EndReason, NoticeKind};

use crate::app_state::AppState;
use crate::audit::{Audit, AuditEvent};
use crate::clock::{now, secs};
use crate::hub::LoginEvent;
use crate::ids::{random_id, stored_id};
use crate::states::{LoginState, Reason, TokenState};
use crate::store::logins::{Completion, Login, NewLogin};
pub use crate::store::sessions::Session;
use crate::{ended, notices, store, throttle, users};

/// A sign-in must get its second factor within this many seconds.
pub const LOGIN_TTL: u64 = 600;
/// A session lasts this many seconds.
pub const SESSION_TTL: u64 = 8 * 3600;
/// A session may add an authenticator for this many seconds after its second factor; later
/// the person signs in again, so that a session taken over cannot mint a second factor.
pub const STEP_UP_SECS: u64 = 300;

/// Why a sign-in step was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The login ended (done, denied or locked); a new one must start.
    #[error("the sign-in is over")]
    Over,
    /// The login is not approved, so there is nothing to complete.
    #[error("the sign-in is not approved")]
    NotApproved,
    /// Another request already turned the approval into a session.
    #[error("the sign-in was already completed")]
    AlreadyCompleted,
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why the password step did not check the password.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too many wrong passwords for this account or from this address: wait this long.
    #[error("too many failed sign-ins")]
    Throttled(Duration),
    /// Every password check slot is taken and the queue is full.
    #[error("too many password checks at once")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The password step: a new login (its id for the browser's cookie; the database keeps only
/// its hash, which is the [`Login::id`] everything else uses) if the password is right, `None`
/// if not. Both are audited. `address` is the client's (for the backoff per address);
/// `client_ip` is the address as stored and shown.
pub async fn check_password(
    state: &AppState,
    username: &str,
    password: &str,
    address: IpAddr,
    client_ip: &str,
) -> Result<Option<String>, PasswordError> {
    // Refused before the password is looked at, so that a throttled guess learns nothing.
    let attempt = state.throttle.begin(username, address).map_err(PasswordError::Throttled)?;
    let checked = users::check_password(&state.db, &state.password_slots, username, password)
        .await
        .map_err(|err| match err {
            users::CheckError::Busy => PasswordError::Busy,
            users::CheckError::Internal(err) => PasswordError::Internal(err),
        })?;
    let Some(user) = checked else {
        attempt.failed();
        Audit::of_user(AuditEvent::PasswordFailed, username)
            .ip(client_ip)
            .record(&state.db)
            .await?;
        return Ok(None);
    };
    attempt.succeeded();
    let id = random_id("lgn_", 18);
    let created = now();
    let login = NewLogin {
        id: &stored_id(&id),
        user_id: user.id,
        app: &state.config.app_name,
        origin: state.config.login_origins.first().unwrap_or(&state.config.public_url),
        client_ip,
        created_at: secs(created)?,
        expires_at: secs(created + LOGIN_TTL)?,
    };
    store::logins::insert(&state.db, &login).await?;
    Audit::of_user(AuditEvent::PasswordOk, &user.username).ip(client_ip).record(&state.db).await?;
    Ok(Some(id))
}

/// The login whose browser holds `cookie`, unless it is unknown or has expired.
pub async fn current(state: &AppState, cookie: &str) -> anyhow::Result<Option<Login>> {
    store::logins::get(&state.db, &login_id(cookie), secs(now())?).await
}

/// The login whose [`Login::id`] is `id`, as it is now, unless it has expired.
pub async fn current_by_id(state: &AppState, id: &str) -> anyhow::Result<Option<Login>> {
    store::logins::get(&state.db, id, secs(now())?).await
}

/// The [`Login::id`] of the login whose browser holds `cookie` (its hash).
pub fn login_id(cookie: &str) -> String {
    stored_id(cookie)
}

/// Moves a login to an outcome and tells its page.
///
/// Only a login still open ([`LoginState::OPEN`]) moves: once it is approved, denied or locked
/// it stays so, and a late approval of another copy of its request changes nothing. Returns
/// whether the login moved; only then is the page told.
pub async fn finish(
    state: &AppState,
    login_id: &str,
    new_state: LoginState,
    reason: Option<Reason>,
) -> anyhow::Result<bool> {
    if !store::logins::finish(&state.db, login_id, new_state, reason, secs(now())?).await? {
        return Ok(false);
    }
    // Whatever the outcome, the login's other requests (on the person's other devices) can no
    // longer be answered, and those devices are told.
    let why =
        if new_state == LoginState::Expired { EndReason::Expired } else { EndReason::Answered };
    ended::end_pending_of_login(state, login_id, why).await?;
    state
        .hub
        .login_event(LoginEvent { login_id: login_id.to_owned(), state: new_state, reason })
        .await;
    Ok(true)
}

/// What a typed passcode did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasscodeOutcome {
    /// The code is the sign-in code of this approved login: open its session.
    Approved,
    /// The passcode is wrong; it counted as one of the person's wrong passcodes in a row.
    Wrong,
    /// It cannot be a code (not 6 to 10 ASCII digits): nothing was compared or counted.
    Malformed,
    /// Earlier wrong passcodes make typed passcodes wait this long: this one was not counted
    /// against the person (at an approved login it was compared with the login's sign-in code,
    /// and counted against the login's tries).
    Wait(Duration),
}

/// Wrong typed passcodes of a person before typed passcodes have to wait
/// ([`throttle::wait_after`]: 1 s, doubling with each further one, up to
/// [`PASSCODE_MAX_WAIT`]): room for typos, and nothing like what guessing a code needs. They
/// never lock a token, so that someone who knows the password cannot lock the person out.
pub const PASSCODE_FREE: u32 = 5;

/// The longest wait of typed passcodes: a day. Longer than the password step's, since a thief
/// of a copied PIN token who knows the password tests PIN guesses here (one per wait); the
/// person still signs in by push meanwhile.
pub const PASSCODE_MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Wrong typed passcodes lapse after this long without another one: longer than the longest
/// wait, so that a guesser who paces the guesses never gets the free ones back, and one who
/// pauses gets them back only after a month.
const PASSCODE_LAPSE: u64 = 30 * 24 * 3600;

/// Issues the sign-in code of an approved login (docs/protocol.md §5, "What the login page
/// gets"): `digits` random decimal digits from the server's random source, of which the login
/// keeps only a MAC under the server key ([`login_code_mac`]), once. Nothing of it depends on the PIN or on any key of the token, so
/// the page that gets it learns nothing it could test a PIN against. `None` if the login
/// already has one or is no longer approved (it was completed meanwhile).
pub async fn issue_login_code(
    state: &AppState,
    login_id: &str,
    digits: u8,
) -> anyhow::Result<Option<String>> {
    // Uniform digits: each is a byte below 250 taken modulo 10, the others drawn again.
    let mut code = String::with_capacity(usize::from(digits));
    while code.len() < usize::from(digits) {
        let mut byte = [0u8; 1];
        rand::fill(&mut byte);
        if byte[0] < 250 {
            code.push(char::from(b'0' + byte[0] % 10));
        }
    }
    let kept =
        store::logins::set_login_code(&state.db, login_id, &login_code_mac(state, login_id, &code))
            .await?;
    Ok(kept.then_some(code))
}

/// A fresh binding for a load of `login`'s page (docs/protocol.md §5, "Same-browser
/// approvals"): 16 random bytes, unpadded base64url, kept as the login's newest, so that the
/// pushes started from that page commit to it. An earlier load's binding binds none of them.
pub async fn new_binding(state: &AppState, login: &Login) -> anyhow::Result<String> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut binding: pushotp::push::PageBinding = [0; pushotp::push::BINDING_LEN];
    rand::fill(&mut binding);
    let binding = Base64UrlUnpadded::encode_string(&binding);
    store::logins::set_binding(&state.db, &login.id, &binding).await?;
    Ok(binding)
}

/// What the login `login_id` keeps of its sign-in code `code`: a MAC under a key derived from
/// the server key ([`ServerKey::mac`](crate::ServerKey::mac)), bound to the login, unpadded
/// base64url. A code has a million values or so: a plain hash would give it away to a reader
/// of the database, who holds no server key.
fn login_code_mac(state: &AppState, login_id: &str, code: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    // The login's id is a fixed-length base64url hash, so the separator keeps the two apart.
    let data = [login_id.as_bytes(), b"\0", code.as_bytes()].concat();
    Base64UrlUnpadded::encode_string(&state.key.mac("login-code", &data))
}

/// What comparing a typed code with the sign-in code of `login` found.
enum LoginCode {
    /// It is the code: the approval is the second factor.
    Right,
    /// It is not, or the login has no code to compare with; `spent` when it used the last try,
    /// and the login is over.
    Wrong {
        /// The login's code was cleared now ([`store::logins::spend_login_code`]).
        spent: bool,
    },
    /// No try was left to take: other codes took the login's tries (its session opened, or
    /// wrong ones ended it), or it is no longer approved. Nothing was compared.
    Spent,
}

/// Compares `code` with the sign-in code of the approved `login` (as MACs, in constant time),
/// after counting the try in one conditional statement, so that no more than
/// [`store::logins::LOGIN_CODE_TRIES`] codes are ever compared, however many are sent at once.
async fn check_login_code(
    state: &AppState,
    login: &Login,
    code: &str,
) -> anyhow::Result<LoginCode> {
    use subtle::ConstantTimeEq;
    let Some((kept, tries)) = store::logins::take_login_code_try(&state.db, &login.id).await?
    else {
        // Still approved with tries left, and none taken: it has no code (none was issued), so
        // this is a plain wrong code. Otherwise other codes took the tries meanwhile.
        let current = current_by_id(state, &login.id).await?;
        let no_code = current.is_some_and(|login| {
            login.state == LoginState::Approved
                && login.code_tries < store::logins::LOGIN_CODE_TRIES
        });
        return Ok(if no_code { LoginCode::Wrong { spent: false } } else { LoginCode::Spent });
    };
    if bool::from(kept.as_bytes().ct_eq(login_code_mac(state, &login.id, code).as_bytes())) {
        return Ok(LoginCode::Right);
    }
    let spent = tries >= store::logins::LOGIN_CODE_TRIES
        && store::logins::spend_login_code(&state.db, &login.id).await?;
    Ok(LoginCode::Wrong { spent })
}

/// A code typed (or filled in by the authenticator) at the login page. The only code it takes
/// is the sign-in code an approval of this same login gave its device (docs/protocol.md §5,
/// "What the login page gets"): then the session opens, once, even while wrong passcodes make
/// the person's typed passcodes wait, since that code proves the approval. Any other code, a
/// push token's own passcodes included, is wrong: a push token's keys alone, say unmasked from
/// a copied profile, open no session without a push the person sees. At an approved login each
/// code counts against the login's [`store::logins::LOGIN_CODE_TRIES`] before it is compared,
/// waiting or not, and the last wrong one ends the login; every wrong code counts against the
/// person's typed passcodes too, unless they wait.
pub async fn typed_passcode(
    state: &AppState,
    login: &Login,
    passcode: &str,
) -> Result<PasscodeOutcome, SignInError> {
    let code = passcode.trim();
    // Denied, reported or locked, its session opened, or its sign-in code used up: over for
    // good, whatever the cooldown.
    if login.is_over() {
        return Err(SignInError::Over);
    }
    // No code has another shape (protocol §5): a slip of the keyboard takes none of the login's
    // tries and counts nothing against the person.
    if !(6..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(PasscodeOutcome::Malformed);
    }
    let mut spent = false;
    if login.state == LoginState::Approved {
        match check_login_code(state, login, code).await? {
            LoginCode::Right => {
                // Its approval is the second factor: the code only completes it, so wrong codes
                // typed before make it wait no more than the page's own completion would; they
                // lapse.
                store::users::reset_passcode_failures(&state.db, login.user_id).await?;
                Audit::of_user(AuditEvent::PasscodeOk, &login.username)
                    .ip(&login.client_ip)
                    .record(&state.db)
                    .await?;
                return Ok(PasscodeOutcome::Approved);
            }
            LoginCode::Spent => return Err(SignInError::Over),
            LoginCode::Wrong { spent: now } => spent = now,
        }
    }
    let failures = match count_passcode(state, login.user_id).await? {
        Ok(failures) => failures,
        Err(_) if spent => return Err(SignInError::Over),
        Err(wait) => return Ok(PasscodeOutcome::Wait(wait)),
    };
    Audit::of_user(AuditEvent::PasscodeFailed, &login.username)
        .ip(&login.client_ip)
        .record(&state.db)
        .await?;
    let wait = throttle::wait_after(failures, PASSCODE_FREE, PASSCODE_MAX_WAIT);
    if !wait.is_zero() {
        Audit::of_user(AuditEvent::PasscodeBackoff, &login.username)
            .ip(&login.client_ip)
            .detail(format!(
                "{failures} wrong passcodes in a row; passcodes wait {} s",
                wait.as_secs()
            ))
            .record(&state.db)
            .await?;
        // Whoever types these knows the password: the person's devices say so, and that the
        // person can still approve by push.
        notices::tell_person(state, login.user_id, NoticeKind::WrongPasscodes, None).await;
    }
    if spent {
        return Err(SignInError::Over);
    }
    Ok(PasscodeOutcome::Wrong)
}

/// Counts a wrong typed passcode of `user_id` and returns the count, unless the person's
/// earlier wrong passcodes make it wait: then the wait, and nothing is counted. The count is one
/// conditional statement, so that passcodes sent at once make it wait no less than one after
/// another.
async fn count_passcode(state: &AppState, user_id: i64) -> anyhow::Result<Result<u32, Duration>> {
    // A try that loses the race to others a few times waits, rather than go unchecked.
    for _ in 0..3 {
        let at = secs(now())?;
        let seen = store::users::passcode_failures(&state.db, user_id).await?;
        let count = u32::try_from(seen.count).unwrap_or(u32::MAX);
        let wait = secs(throttle::wait_after(count, PASSCODE_FREE, PASSCODE_MAX_WAIT).as_secs())?;
        let left = seen.last.saturating_add(wait).saturating_sub(at);
        if left > 0 {
            return Ok(Err(Duration::from_secs(u64::try_from(left)?)));
        }
        let count = if at.saturating_sub(seen.last) >= secs(PASSCODE_LAPSE)? { 0 } else { count };
        let next =
            store::users::PasscodeFailures { count: i64::from(count.saturating_add(1)), last: at };
        if store::users::swap_passcode_failures(&state.db, user_id, seen, next).await? {
            return Ok(Ok(count.saturating_add(1)));
        }
    }
    Ok(Err(Duration::from_secs(1)))
}

/// After the page saw "approved": turns the approved login into a session (its id), once;
/// not a login whose sign-in code wrong codes used up.
pub async fn complete(state: &AppState, login: &Login) -> Result<String, SignInError> {
    if login.code_spent {
        return Err(SignInError::Over);
    }
    if login.state != LoginState::Approved {
        return Err(SignInError::NotApproved);
    }
    open_session(state, login, Completion::ByPage).await
}

/// Turns an approved login into a session and returns the session's id (for the browser's
/// cookie; the database keeps only its hash).
pub async fn open_session(
    state: &AppState,
    login: &Login,
    by: Completion,
) -> Result<String, SignInError> {
    // Only one session per approved login, even if two tabs race.
    if !store::logins::complete(&state.db, &login.id, by).await? {
        return Err(SignInError::AlreadyCompleted);
    }
    let id = random_id("ses_", 24);
    let created = now();
    // The session starts at its second factor: the approval, or now for a passcode just typed
    // (or a login read before its approval).
    let verified = match (login.state, login.completed_at) {
        (LoginState::Approved, Some(at)) => at,
        _ => secs(created)?,
    };
    store::sessions::insert(
        &state.db,
        &stored_id(&id),
        login.user_id,
        verified,
        secs(created + SESSION_TTL)?,
    )
    .await?;
    Audit::of_user(AuditEvent::SignedIn, &login.username)
        .ip(&login.client_ip)
        .record(&state.db)
        .await?;
    Ok(id)
}

/// The session whose browser holds `cookie`, while it lasts.
pub async fn session(state: &AppState, cookie: &str) -> anyhow::Result<Option<Session>> {
    store::sessions::get(&state.db, &stored_id(cookie), secs(now())?).await
}

/// Whether `session` may add an authenticator now: its second factor is at most
/// [`STEP_UP_SECS`] old, or the person has no token to give one with (no active or locked
/// token: the first enrollment). A refusal is audited; the person signs in again.
pub async fn may_add_authenticator(
    state: &AppState,
    session: &Session,
    client_ip: &str,
) -> anyhow::Result<bool> {
    if secs(now())?.saturating_sub(session.created_at) <= secs(STEP_UP_SECS)? {
        return Ok(true);
    }
    let tokens = store::tokens::list(&state.db, Some(session.user_id)).await?;
    if !tokens.iter().any(|t| matches!(t.state, TokenState::Active | TokenState::Locked)) {
        return Ok(true);
    }
    Audit::of_user(AuditEvent::StepUpRequired, &session.username)
        .ip(client_ip)
        .detail("adding an authenticator")
        .record(&state.db)
        .await?;
    Ok(false)
}

/// Ends the session whose browser holds `cookie`.
pub async fn sign_out(state: &AppState, cookie: &str) -> anyhow::Result<()> {
    store::sessions::delete(&state.db, &stored_id(cookie)).await
}
