//! The browser side: the demo protected app (username and password), the organization's login
//! page that offers "Use my mobile to autosend a password" or a typed passcode, the event stream
//! the page waits on, and signed-in sessions.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, AuditEvent};
use crate::error::{AppError, AppResult};
use crate::hub::LoginEvent;
use crate::states::{LoginState, Reason, TokenState};
use crate::{AppState, geo, now, random_id, store, tokens, users};

const LOGIN_COOKIE: &str = "pushotp_login";
const SESSION_COOKIE: &str = "pushotp_session";
/// A sign-in must get its second factor within this many seconds.
const LOGIN_TTL: u64 = 600;
const SESSION_TTL: u64 = 8 * 3600;

/// The browser-facing routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(app_page))
        .route("/app/login", get(app_login_page).post(app_login))
        .route("/app/logout", post(app_logout))
        .route("/app/enroll", post(app_enroll))
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
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
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

/// The signed-in person, from the session cookie.
async fn session_user(state: &AppState, headers: &HeaderMap) -> AppResult<Option<(i64, String)>> {
    let Some(session) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let row = sqlx::query(
        "SELECT u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2",
    )
    .bind(&session)
    .bind(i64::try_from(now()).map_err(anyhow::Error::from)?)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("username")?))).transpose()
}

async fn app_page(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some((_, user)) = session_user(&state, &headers).await? else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    Ok(page(
        include_str!("../assets/app.html"),
        &[("APP", &state.config.app_name), ("USER", &user)],
    )
    .into_response())
}

/// Self-service enrollment: a signed-in person gets a new push token's activation link and its
/// QR code, which the extension can scan from the page.
async fn app_enroll(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some((user_id, _)) = session_user(&state, &headers).await? else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    let link = crate::device::new_enrollment(&state, user_id, &state.config.app_name).await?;
    let qr = qrcode::QrCode::new(link.as_bytes()).map_err(anyhow::Error::from)?;
    let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).build();
    let hours = (state.config.activation_ttl / 3600).to_string();
    let html = page(
        include_str!("../assets/enroll.html"),
        &[
            ("ORG", &state.config.org_name),
            ("APP", &state.config.app_name),
            ("HOURS", &hours),
            ("LINK", &link),
        ],
    );
    // The SVG is generated here, not taken from input; the other values were escaped above.
    Ok(Html(html.0.replace("{{QR}}", &svg)).into_response())
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
    let ip = geo::client_ip(peer, &headers, state.config.trusted_proxy).to_string();
    let Some(user) = users::check_password(&state.db, &form.username, &form.password).await? else {
        Audit::of_user(AuditEvent::PasswordFailed, &form.username)
            .ip(&ip)
            .record(&state.db)
            .await?;
        let html = page(
            include_str!("../assets/app-login.html"),
            &[("APP", &state.config.app_name), ("ERROR", "Wrong username or password.")],
        );
        return Ok((StatusCode::UNAUTHORIZED, html).into_response());
    };
    let id = random_id("lgn_", 18);
    let created = now();
    let origin = state.config.public_url.clone();
    sqlx::query(
        "INSERT INTO logins (id, user_id, app, origin, client_ip, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, 'password_ok', $6, $7)",
    )
    .bind(&id)
    .bind(user.id)
    .bind(&state.config.app_name)
    .bind(&origin)
    .bind(&ip)
    .bind(i64::try_from(created).map_err(anyhow::Error::from)?)
    .bind(i64::try_from(created + LOGIN_TTL).map_err(anyhow::Error::from)?)
    .execute(&state.db.writer)
    .await?;
    Audit::of_user(AuditEvent::PasswordOk, &user.username).ip(&ip).record(&state.db).await?;
    Ok(([set_cookie(&state, LOGIN_COOKIE, &id, LOGIN_TTL)], Redirect::to("/auth")).into_response())
}

async fn app_logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session)
            .execute(&state.db.writer)
            .await?;
    }
    Ok(([set_cookie(&state, SESSION_COOKIE, "", 0)], Redirect::to("/app/login")).into_response())
}

/// A sign-in in progress, found from the browser's login cookie.
pub struct Login {
    /// `lgn_…`
    pub id: String,
    /// Who is signing in.
    pub user_id: i64,
    /// Their login name.
    pub username: String,
    /// The app they sign in to.
    pub app: String,
    /// The login page's origin.
    pub origin: String,
    /// Where the browser connects from.
    pub client_ip: String,
    /// Where it is in its life.
    pub state: LoginState,
    /// Why it was refused, if it was.
    pub reason: Option<Reason>,
    /// The number the page shows while waiting, with number matching.
    pub number: Option<i64>,
}

async fn current_login(state: &AppState, headers: &HeaderMap) -> AppResult<Login> {
    let id = cookie(headers, LOGIN_COOKIE)
        .ok_or(AppError::Unauthorized("sign in with your password first"))?;
    let row = sqlx::query(
        "SELECT l.id, l.user_id, u.username, l.app, l.origin, l.client_ip, l.state, l.reason, l.number \
         FROM logins l JOIN users u ON u.id = l.user_id WHERE l.id = $1 AND l.expires_at > $2",
    )
    .bind(&id)
    .bind(i64::try_from(now()).map_err(anyhow::Error::from)?)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::Unauthorized("this sign-in has expired; start again"))?;
    Ok(Login {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        app: row.try_get("app")?,
        origin: row.try_get("origin")?,
        client_ip: row.try_get("client_ip")?,
        state: row.try_get::<String, _>("state")?.parse().map_err(anyhow::Error::from)?,
        reason: row
            .try_get::<Option<String>, _>("reason")?
            .map(|r| r.parse())
            .transpose()
            .map_err(anyhow::Error::from)?,
        number: row.try_get("number")?,
    })
}

async fn auth_page(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Ok(login) = current_login(&state, &headers).await else {
        return Ok(Redirect::to("/app/login").into_response());
    };
    Ok(page(
        include_str!("../assets/auth.html"),
        &[
            ("ORG", &state.config.org_name),
            ("APP", &login.app),
            ("USER", &login.username),
            ("ERROR", ""),
        ],
    )
    .into_response())
}

async fn start_push(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    if matches!(login.state, LoginState::Approved | LoginState::Done) {
        return Err(AppError::Conflict("this sign-in is already approved"));
    }
    let number = crate::device::start_push_login(&state, &login).await?;
    Ok(Json(json!({ "number": number })).into_response())
}

/// Updates a login's state and tells its page.
///
/// Only a login still open (`password_ok`, `waiting`, `rejected` or `expired`) moves: once it is
/// approved, denied or locked it stays so, and a late approval of another copy of its request
/// changes nothing. Returns whether the login moved; only then is the page told.
pub async fn finish_login(
    state: &AppState,
    login_id: &str,
    new_state: LoginState,
    reason: Option<Reason>,
) -> anyhow::Result<bool> {
    let moved = sqlx::query(
        "UPDATE logins SET state = $1, reason = $2, completed_at = $3 \
         WHERE id = $4 AND state IN ('password_ok', 'waiting', 'rejected', 'expired')",
    )
    .bind(new_state.as_str())
    .bind(reason.map(Reason::as_str))
    .bind(i64::try_from(now())?)
    .bind(login_id)
    .execute(&state.db.writer)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    // Whatever the outcome, the login's other requests (on the person's other devices) can no
    // longer be answered.
    sqlx::query(
        "UPDATE push_requests SET state = 'cancelled' WHERE login_id = $1 AND state = 'pending'",
    )
    .bind(login_id)
    .execute(&state.db.writer)
    .await?;
    state
        .hub
        .login_event(LoginEvent { login_id: login_id.to_owned(), state: new_state, reason })
        .await;
    Ok(true)
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
    let watch = state.hub.watch_login(&id);
    let login = current_login(&state, &headers).await?;
    // The first event is the state now, with the number to show while waiting, so that a page
    // that reconnects (or was reloaded) picks up where it was.
    let number = (login.state == LoginState::Waiting).then_some(login.number).flatten();
    let first = event_of(login.state, login.reason, number);
    let updates = futures_util::stream::unfold(watch, |mut watch| async move {
        let event = watch.next().await?;
        Some((Ok(event_of(event.state, event.reason, None)), watch))
    });
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(updates);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Deserialize)]
struct Passcode {
    passcode: String,
}

/// A typed (or autofilled) passcode of any of the person's active tokens.
async fn passcode(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Passcode>,
) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    if login.state == LoginState::Approved {
        // Approved by push while the passcode the authenticator filled in was being submitted:
        // the approval already is the second factor, so the submission just completes it.
        let (session_cookie, redirect) = open_session(&state, &login).await?;
        return Ok((
            AppendHeaders([session_cookie, set_cookie(&state, LOGIN_COOKIE, "", 0)]),
            Redirect::to(&redirect),
        )
            .into_response());
    }
    if matches!(login.state, LoginState::Done | LoginState::Denied | LoginState::Locked) {
        return Err(AppError::Conflict("this sign-in is over; start again"));
    }
    let code = form.passcode.trim();
    let mut accepted = false;
    if !code.is_empty() && code.len() <= 10 && code.bytes().all(|b| b.is_ascii_digit()) {
        for token in store::tokens::list(&state.db, Some(login.user_id)).await? {
            if token.state != TokenState::Active {
                continue;
            }
            let keys = tokens::open_keys(&state, &token)?;
            if tokens::use_passcode(&state, &token, &keys.otp, code, true).await? {
                Audit::of_user(AuditEvent::PasscodeOk, &login.username)
                    .token(&token.id)
                    .ip(&login.client_ip)
                    .record(&state.db)
                    .await?;
                accepted = true;
                break;
            }
        }
    }
    if !accepted {
        Audit::of_user(AuditEvent::PasscodeFailed, &login.username)
            .ip(&login.client_ip)
            .record(&state.db)
            .await?;
        // A wrong passcode is a failed try of every active token of the person: otherwise
        // codes could be guessed without limit, and a copied profile's PIN guesses tested here.
        for token in store::tokens::list(&state.db, Some(login.user_id)).await? {
            if token.state == TokenState::Active && tokens::fail_try(&state, &token).await? == 0 {
                Audit::of_user(AuditEvent::TokenLocked, &login.username)
                    .token(&token.id)
                    .detail("too many wrong passcodes")
                    .record(&state.db)
                    .await?;
            }
        }
        let html = page(
            include_str!("../assets/auth.html"),
            &[
                ("ORG", &state.config.org_name),
                ("APP", &login.app),
                ("USER", &login.username),
                ("ERROR", "That passcode is not valid."),
            ],
        );
        return Ok((StatusCode::UNAUTHORIZED, html).into_response());
    }
    finish_login(&state, &login.id, LoginState::Approved, None).await?;
    let (session_cookie, redirect) = open_session(&state, &login).await?;
    Ok((
        AppendHeaders([session_cookie, set_cookie(&state, LOGIN_COOKIE, "", 0)]),
        Redirect::to(&redirect),
    )
        .into_response())
}

/// After the page saw "approved": turns the approved login into a session, once.
async fn complete(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let login = current_login(&state, &headers).await?;
    if login.state != LoginState::Approved {
        return Err(AppError::Unauthorized("this sign-in is not approved"));
    }
    let (session_cookie, redirect) = open_session(&state, &login).await?;
    Ok((
        AppendHeaders([session_cookie, set_cookie(&state, LOGIN_COOKIE, "", 0)]),
        Json(json!({ "redirect": redirect })),
    )
        .into_response())
}

async fn open_session(
    state: &AppState,
    login: &Login,
) -> AppResult<((header::HeaderName, HeaderValue), String)> {
    // Only one session per approved login, even if two tabs race.
    let done = sqlx::query("UPDATE logins SET state = 'done' WHERE id = $1 AND state = 'approved'")
        .bind(&login.id)
        .execute(&state.db.writer)
        .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::Conflict("this sign-in was already completed"));
    }
    let id = random_id("ses_", 24);
    let created = now();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(login.user_id)
    .bind(i64::try_from(created).map_err(anyhow::Error::from)?)
    .bind(i64::try_from(created + SESSION_TTL).map_err(anyhow::Error::from)?)
    .execute(&state.db.writer)
    .await?;
    Audit::of_user(AuditEvent::SignedIn, &login.username)
        .ip(&login.client_ip)
        .record(&state.db)
        .await?;
    Ok((set_cookie(state, SESSION_COOKIE, &id, SESSION_TTL), "/app".to_owned()))
}
