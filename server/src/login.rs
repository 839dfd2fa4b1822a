//! The browser-facing routes: the demo protected app (username and password), the
//! organization's login page that offers "Use my mobile to autosend a password" or a typed
//! passcode, the event stream the page waits on, and signed-in sessions. The steps themselves
//! are [`signin`]'s and [`push`]'s; these routes parse, call them, and render.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use crate::app_state::AppState;
use crate::error::{AppError, AppResult};
use crate::ids::stored_id;
use crate::push::{self, StartError};
use crate::signin::{self, LOGIN_TTL, PasscodeOutcome, PasswordError, SESSION_TTL, SignInError};
use crate::states::{LoginState, Reason};
use crate::store::logins::{Completion, Login};
use crate::{enrollment, geo, headers, users};

const LOGIN_COOKIE: &str = "pushotp_login";
const SESSION_COOKIE: &str = "pushotp_session";

/// The browser-facing routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(app_page))
        .route("/app/login", get(app_login_page).post(app_login))
        .route("/app/logout", post(app_logout))
        .route("/app/enroll", post(app_enroll))
        .route("/app/enroll/status", get(enroll_status))
        .route("/app/enroll/confirm", post(enroll_confirm))
        .route("/app/enroll/reject", post(enroll_reject))
        .route("/auth", get(auth_page))
        .route("/auth/push", post(start_push))
        .route("/auth/events", get(events))
        .route("/auth/passcode", post(passcode))
        .route("/auth/complete", post(complete))
        .route("/assets/style.css", get(|| asset("text/css", include_str!("../assets/style.css"))))
        .route(
            "/assets/auth.js",
            get(|| asset("text/javascript", include_str!("../assets/auth.js"))),
        )
        .route(
            "/assets/enroll.js",
            get(|| asset("text/javascript", include_str!("../assets/enroll.js"))),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")];
    (Extension(headers::Static), headers, body).into_response()
}

/// Fills `{{NAME}}` placeholders with HTML-escaped values.
fn page(template: &str, values: &[(&str, &str)]) -> Html<String> {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), &escape(value));
    }
    Html(out)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: u64,
) -> (header::HeaderName, HeaderValue) {
    let secure = if state.config.public_url.starts_with("https:") { "; Secure" } else { "" };
    let value =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    (header::SET_COOKIE, HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")))
}

/// The signed-in session, from the session cookie.
async fn session(state: &AppState, headers: &HeaderMap) -> AppResult<Option<signin::Session>> {
    let Some(session) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    Ok(signin::session(state, &session).await?)
}

async fn app_page(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some(session) = session(&state, &headers).await? else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    Ok(page(
        include_str!("../assets/app.html"),
        &[("APP", &state.config.app_name), ("USER", &session.username)],
    )
    .into_response())
}

/// Self-service enrollment: a signed-in person gets a new push token's activation link and its
/// QR code, which the extension can scan from the page. Only with a fresh second factor
/// ([`signin::may_add_authenticator`]); otherwise the login page asks to sign in again.
async fn app_enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let Some(session) = session(&state, &headers).await? else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    let ip = geo::client_ip(peer, &headers, state.config.trusted_proxy);
    let ip = geo::shown_ip(ip, state.config.demo_client_ip).to_string();
    if !signin::may_add_authenticator(&state, &session, &ip).await? {
        let html = page(
            include_str!("../assets/app-login.html"),
            &[
                ("APP", &state.config.app_name),
                (
                    "ERROR",
                    "Adding an authenticator needs a recent second factor: sign in again, then add it.",
                ),
            ],
        );
        return Ok((StatusCode::FORBIDDEN, html).into_response());
    }
    let Some(cookie) = cookie(&headers, SESSION_COOKIE) else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    let link = enrollment::new_self_service_enrollment(
        &state,
        &stored_id(&cookie),
        session.user_id,
        &state.config.app_name,
    )
    .await?;
    let parsed: pushotp::push::ActivationLink = link.parse().map_err(anyhow::Error::from)?;
    let qr = qrcode::QrCode::new(link.as_bytes()).map_err(anyhow::Error::from)?;
    let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).build();
    let minutes = enrollment::SELF_SERVICE_LINK_TTL.min(state.config.activation_ttl) / 60;
    let html = page(
        include_str!("../assets/enroll.html"),
        &[
            ("ORG", &state.config.org_name),
            ("APP", &state.config.app_name),
            ("MINUTES", &minutes.to_string()),
            ("LINK", &link),
            ("TOKEN", parsed.token_id()),
        ],
    );
    // The SVG is generated here, not taken from input; the other values were escaped above.
    Ok(Html(html.0.replace("{{QR}}", &svg)).into_response())
}

/// The token an enrollment page asks about.
#[derive(Deserialize)]
struct EnrollToken {
    token: String,
}

impl From<enrollment::ConfirmError> for AppError {
    fn from(err: enrollment::ConfirmError) -> Self {
        match err {
            enrollment::ConfirmError::NotYours => {
                Self::NotFound("no enrollment of this session has this token")
            }
            enrollment::ConfirmError::NotWaiting => {
                Self::Conflict("this token does not wait for confirmation (expired or decided)")
            }
            enrollment::ConfirmError::Internal(err) => Self::Internal(err),
        }
    }
}

/// The stored id of the signed-in session of `headers`: the enrollment page's calls are only
/// for the session that made its link.
async fn enrolling_session(state: &AppState, headers: &HeaderMap) -> AppResult<String> {
    match (session(state, headers).await?, cookie(headers, SESSION_COOKIE)) {
        (Some(_), Some(cookie)) => Ok(stored_id(&cookie)),
        _ => Err(AppError::Unauthorized("sign in first")),
    }
}

/// What the enrollment page learns about its link (docs/protocol.md §3): `waiting`,
/// `unconfirmed` with the comparison `code` and the `device` name, `active`, `expired` (unused),
/// `not_confirmed` (redeemed, not confirmed in time) or `removed`.
async fn enroll_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<EnrollToken>,
) -> AppResult<Response> {
    let session = enrolling_session(&state, &headers).await?;
    let body = match enrollment::status(&state, &session, &query.token).await? {
        enrollment::LinkStatus::Waiting => json!({ "state": "waiting" }),
        enrollment::LinkStatus::Unconfirmed { code, device_name } => {
            json!({ "state": "unconfirmed", "code": code, "device": device_name })
        }
        enrollment::LinkStatus::Active => json!({ "state": "active" }),
        enrollment::LinkStatus::Expired => json!({ "state": "expired" }),
        enrollment::LinkStatus::NotConfirmed => json!({ "state": "not_confirmed" }),
        enrollment::LinkStatus::Removed => json!({ "state": "removed" }),
    };
    Ok(Json(body).into_response())
}

/// "Confirm" on the enrollment page: the codes matched; the token becomes active.
async fn enroll_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrollToken>,
) -> AppResult<Response> {
    let session = enrolling_session(&state, &headers).await?;
    enrollment::confirm(&state, &session, &form.token).await?;
    Ok(Json(json!({ "state": "active" })).into_response())
}

/// "It does not match" on the enrollment page: someone else redeemed the link; the token is
/// removed.
async fn enroll_reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrollToken>,
) -> AppResult<Response> {
    let session = enrolling_session(&state, &headers).await?;
    enrollment::reject(&state, &session, &form.token).await?;
    Ok(Json(json!({ "state": "removed" })).into_response())
}

async fn app_login_page(State(state): State<AppState>) -> Html<String> {
    page(
        include_str!("../assets/app-login.html"),
        &[("APP", &state.config.app_name), ("ERROR", "")],
    )
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn app_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> AppResult<Response> {
    // No name this long exists: refused before any check, and never stored.
    if form.username.len() > users::MAX_USERNAME {
        let message = format!("A username is at most {} characters.", users::MAX_USERNAME);
        return Ok(login_error(&state, StatusCode::BAD_REQUEST, &message, None));
    }
    let address = geo::client_ip(peer, &headers, state.config.trusted_proxy);
    let ip = geo::shown_ip(address, state.config.demo_client_ip).to_string();
    let checked =
        signin::check_password(&state, &form.username, &form.password, address, &ip).await;
    let id = match checked {
        Ok(Some(id)) => id,
        Ok(None) => {
            let message = "Wrong username or password.";
            return Ok(login_error(&state, StatusCode::UNAUTHORIZED, message, None));
        }
        Err(PasswordError::Throttled(wait)) => {
            // Whole seconds, rounded up, so that a retry at that time is not refused again.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let message = format!(
                "Too many failed sign-ins. Try again in {seconds} s ({}).",
                minutes(seconds)
            );
            return Ok(login_error(&state, StatusCode::TOO_MANY_REQUESTS, &message, Some(seconds)));
        }
        Err(PasswordError::Busy) => {
            let message = "The server is busy. Try again in a moment.";
            return Ok(login_error(&state, StatusCode::SERVICE_UNAVAILABLE, message, Some(1)));
        }
        Err(PasswordError::Internal(err)) => return Err(err.into()),
    };
    Ok(([set_cookie(&state, LOGIN_COOKIE, &id, LOGIN_TTL)], Redirect::to("/auth")).into_response())
}

/// "about N minutes" or "under a minute", to go with a wait in seconds.
fn minutes(seconds: u64) -> String {
    match seconds.div_ceil(60) {
        0 | 1 => "under a minute".into(),
        n if n < 120 => format!("about {n} minutes"),
        n => format!("about {} hours", n.div_ceil(60)),
    }
}

/// The sign-in page again with `message`, and `Retry-After` (RFC 9110 §10.2.3) when the person
/// has to wait.
fn login_error(
    state: &AppState,
    status: StatusCode,
    message: &str,
    retry_after: Option<u64>,
) -> Response {
    let html = page(
        include_str!("../assets/app-login.html"),
        &[("APP", &state.config.app_name), ("ERROR", message)],
    );
    let mut response = (status, html).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

async fn app_logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        signin::sign_out(&state, &session).await?;
    }
    Ok(([set_cookie(&state, SESSION_COOKIE, "", 0)], Redirect::to("/app/login")).into_response())
}

/// The sign-in in progress, from the browser's login cookie.
async fn current_login(state: &AppState, headers: &HeaderMap) -> AppResult<Login> {
    let id = cookie(headers, LOGIN_COOKIE)
        .ok_or(AppError::Unauthorized("sign in with your password first"))?;
    signin::current(state, &id)
        .await?
        .ok_or(AppError::Unauthorized("this sign-in has expired; start again"))
}

async fn auth_page(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Ok(login) = current_login(&state, &headers).await else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    if login.is_over() {
        return Ok(sign_in_over(&state, &login, StatusCode::OK));
    }
    Ok(auth_html(&state, &login, "").await?.into_response())
}

/// The login page of an open sign-in, saying `error` if not empty. Each load carries a fresh
/// binding (docs/protocol.md §5, "Same-browser approvals") in a `meta` element, which only a
/// script of the page's own origin reads; the pushes started from it commit to that binding.
async fn auth_html(state: &AppState, login: &Login, error: &str) -> AppResult<Html<String>> {
    let binding = signin::new_binding(state, login).await?;
    Ok(page(
        include_str!("../assets/auth.html"),
        &[
            ("ORG", &state.config.org_name),
            ("APP", &login.app),
            ("USER", &login.username),
            ("ERROR", error),
            ("BINDING", &binding),
        ],
    ))
}

/// A sign-in that was denied, reported or locked (or already used) takes nothing more.
const SIGN_IN_OVER: &str = "this sign-in has ended; sign in again with your password";

impl From<StartError> for AppError {
    fn from(err: StartError) -> Self {
        match err {
            StartError::AlreadyApproved => Self::Conflict("this sign-in is already approved"),
            StartError::Locked => {
                Self::Conflict("your authenticator is locked; contact your administrator")
            }
            StartError::NoAuthenticator => {
                Self::bad("no_authenticator", "no authenticator is enrolled for this account")
            }
            StartError::TooMany => Self::TooManyRequests(
                "too many sign-in requests were sent; wait a few minutes before trying again",
            ),
            StartError::CoolingDown => Self::TooManyRequests(
                "a request was just denied; wait a minute before trying again",
            ),
            StartError::Over => Self::SignInOver(SIGN_IN_OVER),
            StartError::Protocol(err) => err.into(),
            StartError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<SignInError> for AppError {
    fn from(err: SignInError) -> Self {
        match err {
            SignInError::Over => Self::SignInOver(SIGN_IN_OVER),
            SignInError::NotApproved => Self::Unauthorized("this sign-in is not approved"),
            SignInError::AlreadyCompleted => Self::Conflict("this sign-in was already completed"),
            SignInError::Internal(err) => Self::Internal(err),
        }
    }
}

async fn start_push(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    let number = push::start(&state, &login).await?;
    Ok(Json(json!({ "number": number })).into_response())
}

fn event_of(state: LoginState, reason: Option<Reason>, number: Option<i64>) -> Event {
    let data = json!({ "state": state, "reason": reason, "number": number });
    Event::default().event("login").data(data.to_string())
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading the state, so that nothing between the two is missed (an
    // unknown or expired login drops the subscription with the error).
    let id = cookie(&headers, LOGIN_COOKIE)
        .ok_or(AppError::Unauthorized("sign in with your password first"))?;
    let watch = state.hub.watch_login(&signin::login_id(&id));
    let login = current_login(&state, &headers).await?;
    // The first event is the state now, with the number to show while waiting, so that a page
    // that reconnects (or was reloaded) picks up where it was.
    let number = (login.state == LoginState::Waiting).then_some(login.number).flatten();
    let first = event_of(login.state, login.reason, number);
    let updates = futures_util::stream::unfold(watch, |mut watch| async move {
        let event = watch.next().await?;
        Some((Ok(event_of(event.state, event.reason, None)), watch))
    });
    // Ends when the server stops, rather than holding the stop up until the login's outcome:
    // the page reconnects, and its first event tells it where the login is.
    let updates = updates.take_until(state.hub.closed());
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(updates);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Deserialize)]
struct Passcode {
    passcode: String,
}

/// A typed (or autofilled) code: the sign-in code of this login's approval opens its session
/// (docs/protocol.md §5, "What the login page gets"); `429` with
/// `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3) while wrong ones make passcodes wait.
async fn passcode(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Passcode>,
) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    let typed = match signin::typed_passcode(&state, &login, &form.passcode).await {
        Err(SignInError::Over) => {
            // Read again: the code may have ended it (its tries used up), and the page says why.
            let login = signin::current_by_id(&state, &login.id).await?.unwrap_or(login);
            return Ok(sign_in_over(&state, &login, StatusCode::CONFLICT));
        }
        typed => typed?,
    };
    match typed {
        PasscodeOutcome::Approved => {
            let session = signin::open_session(&state, &login, Completion::ByCode).await?;
            Ok((
                AppendHeaders([
                    session_cookie(&state, &session),
                    set_cookie(&state, LOGIN_COOKIE, "", 0),
                ]),
                Redirect::to(AFTER_SIGN_IN),
            )
                .into_response())
        }
        PasscodeOutcome::Wrong => {
            let html = auth_html(&state, &login, "That sign-in code is not valid.").await?;
            Ok((StatusCode::UNAUTHORIZED, html).into_response())
        }
        PasscodeOutcome::Malformed => {
            let html = auth_html(&state, &login, "A sign-in code is 6 to 10 digits.").await?;
            Ok((StatusCode::BAD_REQUEST, html).into_response())
        }
        PasscodeOutcome::Wait(wait) => {
            let seconds = wait.as_secs().max(1);
            let message = format!(
                "Too many wrong passcodes. Try again in {seconds} s ({}), or approve the sign-in on your device.",
                minutes(seconds)
            );
            let html = auth_html(&state, &login, &message).await?;
            let mut response = (StatusCode::TOO_MANY_REQUESTS, html).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            Ok(response)
        }
    }
}

/// The password form again, saying why the sign-in ended, and the ended sign-in's cookie gone:
/// the person starts again with the password.
fn sign_in_over(state: &AppState, login: &Login, status: StatusCode) -> Response {
    let why = match (login.state, login.reason) {
        (LoginState::Denied, Some(Reason::Reported)) => {
            "This sign-in has ended: it was reported on your authenticator. Sign in again to continue."
        }
        (LoginState::Denied, _) => {
            "This sign-in has ended: it was denied on your authenticator. Sign in again to continue."
        }
        (LoginState::Approved, _) if login.code_spent => {
            "This sign-in has ended: too many wrong sign-in codes were typed. Sign in again to continue."
        }
        (LoginState::Locked, _) => {
            "This sign-in has ended: your authenticator is locked after too many failed attempts. \
             Sign in again to continue, or contact your administrator."
        }
        _ => "This sign-in has ended. Sign in again to continue.",
    };
    let html = page(
        include_str!("../assets/app-login.html"),
        &[("APP", &state.config.app_name), ("ERROR", why)],
    );
    (status, [set_cookie(state, LOGIN_COOKIE, "", 0)], html).into_response()
}

/// After the page saw "approved": turns the approved login into a session, once.
async fn complete(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    let session = signin::complete(&state, &login).await?;
    Ok((
        AppendHeaders([session_cookie(&state, &session), set_cookie(&state, LOGIN_COOKIE, "", 0)]),
        Json(json!({ "redirect": AFTER_SIGN_IN })),
    )
        .into_response())
}

/// Where a signed-in person goes.
const AFTER_SIGN_IN: &str = "/app";

fn session_cookie(state: &AppState, session: &str) -> (header::HeaderName, HeaderValue) {
    set_cookie(state, SESSION_COOKIE, session, SESSION_TTL)
}
