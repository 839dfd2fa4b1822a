//! The device side of the protocol (docs/protocol.md): enrollment, the WebSocket channel, the
//! poll fallback, Web Push registration, removal, and answers; and sending push login requests.

use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::Secret;
use pushotp::push::{
    ActivationLink, Answer, Decision, EnrollRequest, Enrolled, Nonce, NumberMatch, PinPolicy,
    Place, PushRequest, TokenKeys, VERSION, WebPushSubscription,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::mpsc;

use crate::audit::{Audit, AuditEvent};
use crate::error::{AppError, AppResult};
use crate::login::{Login, finish_login};
use crate::states::{LoginState, Reason, RequestState, TokenState};
use crate::store::tokens::TokenRow;
use crate::webpush::{Subscription, Urgency, WebPushError};
use crate::{AppState, now};
use crate::{store, tokens};

/// Largest JSON body a device may send.
pub const MAX_BODY: usize = 16 * 1024;

/// Each device socket's read buffer. Tungstenite's default (128 KiB) is allocated and zeroed in
/// full at the first read, which made 10,000 idle devices cost 1.3 GB; device messages are a
/// few hundred bytes, and a larger one (up to [`MAX_BODY`]) just takes several reads.
const SOCKET_READ_BUFFER: usize = 2 * 1024;

/// The most a device socket buffers for a device that does not read: beyond it the channel
/// closes (the device reconnects and gets its pending requests again) instead of growing.
const SOCKET_MAX_WRITE_BUFFER: usize = 256 * 1024;

/// The device-facing routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/devices/ws", get(websocket))
        .route("/api/v1/devices/pending", post(pending))
        .route("/api/v1/devices/remove", post(remove))
        .route("/api/v1/devices/webpush", post(register_webpush))
        .route("/api/v1/webpush/key", get(vapid_key))
        .route("/api/v1/answers", post(answer))
}

/// Turns axum's JSON rejection into the server's JSON error.
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> AppResult<T> {
    body.map(|Json(value)| value).map_err(|rejection| match rejection.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        _ => AppError::bad("bad_json", rejection.body_text()),
    })
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A pending token for `user_id` and its activation link (§3).
pub async fn new_enrollment(state: &AppState, user_id: i64, name: &str) -> anyhow::Result<String> {
    let (token, activation) = tokens::create(state, user_id, name).await?;
    let expires = u64::try_from(token.activation_expires_at.unwrap_or(0))?;
    let link = ActivationLink::new(&state.config.public_url, &token.id, activation, expires)?;
    Audit::of_token(AuditEvent::TokenCreated, &token).detail(name).record(&state.db).await?;
    Ok(link.to_string())
}

async fn enroll(
    State(state): State<AppState>,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> AppResult<Response> {
    let request = json_body(body)?;
    // Unknown token, expired or redeemed link, wrong proof: one answer for all (§3).
    let refused = || {
        AppError::Unauthorized("the activation link is not valid (wrong, expired or already used)")
    };
    let Some(token) = store::tokens::get(&state.db, &request.token_id).await? else {
        return Err(refused());
    };
    let expired =
        token.activation_expires_at.is_none_or(|at| at <= i64::try_from(now()).unwrap_or(i64::MAX));
    let refuse = |why: &'static str| {
        let (db, username, id) = (state.db.clone(), token.username.clone(), token.id.clone());
        async move {
            Audit::of_user(AuditEvent::EnrollRefused, &username)
                .token(&id)
                .detail(why)
                .record(&db)
                .await?;
            Ok::<_, AppError>(refused())
        }
    };
    if token.state != TokenState::Pending || expired {
        return Err(refuse("not pending or expired").await?);
    }
    let sealed: Option<Vec<u8>> = sqlx::query("SELECT activation_sealed FROM tokens WHERE id = $1")
        .bind(&token.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("activation_sealed")?;
    let Some(sealed) = sealed else { return Err(refused()) };
    let activation = Secret::from_bytes(
        state.key.open(&format!("tokens/{}/activation", token.id), &sealed)?.to_vec(),
    )?;
    if request.verify(&activation).is_err() {
        return Err(refuse("bad proof").await?);
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
        tag: [0; 32],
    };
    enrolled.sign(&activation, &request)?;
    let keys =
        TokenKeys::derive(&activation, &request.device_nonce, &server_nonce, token.algorithm);
    let sealed = tokens::seal_keys(&state, &token.id, &keys)?;
    // Everything is ready before the link is spent, and it is spent in one statement: of two
    // devices racing with the same link one wins, and a failure on the way leaves it unused.
    let redeemed = sqlx::query(
        "UPDATE tokens SET state = 'active', keys_sealed = $1, activation_sealed = NULL, \
         device_name = $2, enrolled_at = $3 WHERE id = $4 AND state = 'pending'",
    )
    .bind(sealed)
    .bind(&request.device_name)
    .bind(i64::try_from(now()).map_err(anyhow::Error::from)?)
    .bind(&token.id)
    .execute(&state.db.writer)
    .await?;
    if redeemed.rows_affected() != 1 {
        return Err(refused());
    }
    Audit::of_token(AuditEvent::TokenEnrolled, &token)
        .detail(&request.device_name)
        .record(&state.db)
        .await?;
    Ok(Json(enrolled).into_response())
}

/// Sends a push login request to each active token of the login's person (§4) and returns the
/// number the login page shows, if number matching is on.
pub async fn start_push_login(state: &AppState, login: &Login) -> AppResult<Option<u8>> {
    let all = store::tokens::list(&state.db, Some(login.user_id)).await?;
    let active: Vec<&TokenRow> = all.iter().filter(|t| t.state == TokenState::Active).collect();
    if active.is_empty() {
        return Err(if all.iter().any(|t| t.state == TokenState::Locked) {
            AppError::Conflict(
                "your authenticator is locked after too many failed attempts; contact your administrator",
            )
        } else {
            AppError::bad("no_authenticator", "no authenticator is enrolled for this account")
        });
    }
    let now = now();
    let now_i = i64::try_from(now).map_err(anyhow::Error::from)?;
    // No push bombing: at most `max_pending_per_user` pushes per person within one request
    // lifetime, whatever became of them (a push that replaced an earlier one counts too), and a
    // pause after each refusal.
    let since = now_i - i64::try_from(state.config.request_ttl).map_err(anyhow::Error::from)?;
    // Every push goes to each active token, so the busiest token's count is the number of
    // pushes. One query for both limits.
    let row = sqlx::query(
        "SELECT (SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM push_requests r \
         JOIN tokens t ON t.id = r.token_id WHERE t.user_id = $1 AND r.created_at > $2 \
         GROUP BY r.token_id) AS per_token) AS n, \
         (SELECT MAX(r.answered_at) FROM push_requests r JOIN tokens t ON t.id = r.token_id \
         WHERE t.user_id = $1 AND r.state IN ('denied', 'reported')) AS last",
    )
    .bind(login.user_id)
    .bind(since)
    .fetch_one(&state.db.pool)
    .await?;
    if row.try_get::<Option<i64>, _>("n")?.unwrap_or(0) >= state.config.max_pending_per_user {
        return Err(rate_limited(
            state,
            login,
            "pending",
            "too many sign-in requests were sent; wait a few minutes before trying again",
        )
        .await);
    }
    if let Some(last) = row.try_get::<Option<i64>, _>("last")? {
        let until =
            last + i64::try_from(state.config.deny_cooldown).map_err(anyhow::Error::from)?;
        if until > now_i {
            return Err(rate_limited(
                state,
                login,
                "cooldown",
                "a request was just denied; wait a minute before trying again",
            )
            .await);
        }
    }
    // A new push replaces the login's earlier ones (a login that never pushed has none).
    if login.state != LoginState::PasswordOk {
        sqlx::query(
            "UPDATE push_requests SET state = 'cancelled' WHERE login_id = $1 AND state = 'pending'",
        )
        .bind(&login.id)
        .execute(&state.db.writer)
        .await?;
    }

    let matching = state.config.number_matching.then(|| NumberMatch::generate(&mut rand::rng()));
    let place = login.client_ip.parse().ok().and_then(|ip| state.geo.place(ip)).map(|p| Place {
        city: p.city,
        country: p.country,
        lat_e6: p.lat_e6,
        lon_e6: p.lon_e6,
    });
    let expires = now + state.config.request_ttl;
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
            choices: matching.as_ref().map(NumberMatch::choices),
            nonce,
            tag: [0; 32],
        };
        request.sign(&keys.request)?;
        let body = serde_json::to_string(&request).map_err(anyhow::Error::from)?;
        sqlx::query(
            "INSERT INTO push_requests (id, token_id, login_id, body, right_number, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
        )
        .bind(b64(&id))
        .bind(&token.id)
        .bind(&login.id)
        .bind(&body)
        .bind(matching.as_ref().map(|m| i64::from(m.right())))
        .bind(now_i)
        .bind(i64::try_from(expires).map_err(anyhow::Error::from)?)
        .execute(&state.db.writer)
        .await?;
        let message = push_message(&body);
        let delivered = state.hub.publish_push(&token.id, &message).await;
        if token.webpush {
            spawn_webpush(state.clone(), token.id.clone(), message);
        }
        Audit::of_user(AuditEvent::PushSent, &login.username)
            .token(&token.id)
            .ip(&login.client_ip)
            .detail(format!("sockets={delivered}"))
            .record(&state.db)
            .await?;
        spawn_expiry(state.clone(), b64(&id), login.id.clone(), state.config.request_ttl);
    }
    sqlx::query("UPDATE logins SET state = 'waiting', number = $1, reason = NULL WHERE id = $2")
        .bind(matching.as_ref().map(|m| i64::from(m.right())))
        .bind(&login.id)
        .execute(&state.db.writer)
        .await?;
    Ok(matching.map(|m| m.right()))
}

/// Records a refused push (audit) and returns the 429 to send.
async fn rate_limited(
    state: &AppState,
    login: &Login,
    why: &str,
    message: &'static str,
) -> AppError {
    if let Err(err) = Audit::of_user(AuditEvent::PushRateLimited, &login.username)
        .ip(&login.client_ip)
        .detail(why)
        .record(&state.db)
        .await
    {
        return AppError::Internal(err);
    }
    AppError::TooManyRequests(message)
}

fn push_message(request_json: &str) -> String {
    format!(r#"{{"type":"push","request":{request_json}}}"#)
}

/// Also delivers the request by Web Push when the device registered a subscription: a browser
/// whose service worker is asleep is woken by it (docs/protocol.md §7).
fn spawn_webpush(state: AppState, token_id: String, message: String) {
    tokio::spawn(async move {
        if let Err(err) = webpush_once(&state, &token_id, &message).await {
            tracing::warn!(token_id, error = %err, "Web Push delivery failed");
        }
    });
}

async fn webpush_once(state: &AppState, token_id: &str, message: &str) -> anyhow::Result<()> {
    let row = sqlx::query(
        "SELECT webpush_endpoint, webpush_p256dh, webpush_auth FROM tokens WHERE id = $1",
    )
    .bind(token_id)
    .fetch_one(&state.db.pool)
    .await?;
    let (Some(endpoint), Some(p256dh), Some(auth)) = (
        row.try_get::<Option<String>, _>("webpush_endpoint")?,
        row.try_get::<Option<String>, _>("webpush_p256dh")?,
        row.try_get::<Option<String>, _>("webpush_auth")?,
    ) else {
        return Ok(());
    };
    let subscription = Subscription::new(endpoint, p256dh, auth)?;
    let ttl = u32::try_from(state.config.request_ttl).unwrap_or(u32::MAX);
    match state.webpush.send(&subscription, message.as_bytes(), ttl, Urgency::High, None).await {
        Ok(_) => Ok(()),
        Err(WebPushError::SubscriptionGone { .. }) => {
            // The browser unsubscribed: stop sending there.
            sqlx::query("UPDATE tokens SET webpush_endpoint = NULL, webpush_p256dh = NULL, webpush_auth = NULL WHERE id = $1")
                .bind(token_id)
                .execute(&state.db.writer)
                .await?;
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// The VAPID public key browsers subscribe with (`applicationServerKey`).
async fn vapid_key(State(state): State<AppState>) -> Response {
    Json(json!({ "publicKey": state.webpush.application_server_key() })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebPushRegistration {
    token_id: String,
    at: u64,
    subscription: WebPushSubscription,
    tag: String,
}

/// A device registers its Web Push subscription (§7).
async fn register_webpush(
    State(state): State<AppState>,
    body: Result<Json<WebPushRegistration>, JsonRejection>,
) -> AppResult<Response> {
    let body = json_body(body)?;
    let (token, keys) = device_token(&state, &body.token_id).await?;
    pushotp::push::verify_webpush(
        &keys.channel,
        &body.token_id,
        body.at,
        &body.subscription,
        &decode_tag(&body.tag)?,
        now(),
    )
    .map_err(|_| AppError::Unauthorized("bad Web Push registration tag"))?;
    let sub = &body.subscription;
    Subscription::new(sub.endpoint.clone(), sub.keys.p256dh.clone(), sub.keys.auth.clone())
        .map_err(|err| AppError::bad("bad_subscription", err.to_string()))?;
    sqlx::query("UPDATE tokens SET webpush_endpoint = $1, webpush_p256dh = $2, webpush_auth = $3 WHERE id = $4")
        .bind(&sub.endpoint)
        .bind(&sub.keys.p256dh)
        .bind(&sub.keys.auth)
        .bind(&token.id)
        .execute(&state.db.writer)
        .await?;
    Audit::of_token(AuditEvent::WebpushRegistered, &token).record(&state.db).await?;
    Ok(Json(json!({ "registered": token.id })).into_response())
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

async fn expire(state: &AppState, request_id: &str, login_id: &str) -> anyhow::Result<()> {
    // Nearly every request was answered long before its time is up: a read finds that out
    // beside the writer instead of queueing a write behind it.
    let pending =
        sqlx::query("SELECT 1 AS pending FROM push_requests WHERE id = $1 AND state = 'pending'")
            .bind(request_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if pending.is_none() {
        return Ok(());
    }
    let done = sqlx::query(
        "UPDATE push_requests SET state = 'expired' WHERE id = $1 AND state = 'pending'",
    )
    .bind(request_id)
    .execute(&state.db.writer)
    .await?;
    if done.rows_affected() == 1 {
        let still = sqlx::query(
            "SELECT COUNT(*) AS n FROM push_requests WHERE login_id = $1 AND state = 'pending'",
        )
        .bind(login_id)
        .fetch_one(&state.db.pool)
        .await?;
        if still.try_get::<i64, _>("n")? == 0 {
            finish_login(state, login_id, LoginState::Expired, None).await?;
        }
    }
    Ok(())
}

/// Expires what the per-request timers missed: requests of a previous run of the server, or
/// made on another node that went away. Runs every `every` until the server stops.
pub fn spawn_sweeper(state: AppState, every: Duration) {
    tokio::spawn(async move {
        loop {
            if let Err(err) = sweep(&state).await {
                tracing::warn!(error = %err, "expiring old push requests");
            }
            tokio::time::sleep(every).await;
        }
    });
}

async fn sweep(state: &AppState) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "SELECT id, login_id FROM push_requests WHERE state = 'pending' AND expires_at <= $1",
    )
    .bind(i64::try_from(now())?)
    .fetch_all(&state.db.pool)
    .await?;
    for row in rows {
        expire(state, &row.try_get::<String, _>("id")?, &row.try_get::<String, _>("login_id")?)
            .await?;
    }
    Ok(())
}

/// The pending, unexpired requests of `token_id`, as sent.
async fn pending_of(state: &AppState, token_id: &str) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT body FROM push_requests WHERE token_id = $1 AND state = 'pending' AND expires_at > $2 ORDER BY created_at",
    )
    .bind(token_id)
    .bind(i64::try_from(now())?)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("body")?)).collect()
}

/// The token's keys if it exists and may talk to the server (active or locked: a locked token
/// still receives nothing new but may deny and be removed).
async fn device_token(state: &AppState, token_id: &str) -> AppResult<(TokenRow, TokenKeys)> {
    let token = store::tokens::get(&state.db, token_id)
        .await?
        .ok_or(AppError::Unauthorized("unknown token"))?;
    if !matches!(token.state, TokenState::Active | TokenState::Locked) {
        return Err(AppError::Unauthorized("unknown token"));
    }
    let keys = tokens::open_keys(state, &token)?;
    Ok((token, keys))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignedToken {
    token_id: String,
    at: u64,
    tag: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PollBody {
    tokens: Vec<SignedToken>,
}

fn decode_tag(tag: &str) -> AppResult<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(tag).map_err(|_| AppError::bad("bad_tag", "tag is not base64url"))
}

/// Poll fallback (§7): all pending requests of the named tokens.
async fn pending(
    State(state): State<AppState>,
    body: Result<Json<PollBody>, JsonRejection>,
) -> AppResult<Response> {
    let body = json_body(body)?;
    if body.tokens.is_empty() || body.tokens.len() > 32 {
        return Err(AppError::bad("bad_request", "tokens must name 1 to 32 tokens"));
    }
    let mut requests: Vec<Value> = Vec::new();
    for signed in &body.tokens {
        let (_, keys) = device_token(&state, &signed.token_id).await?;
        pushotp::push::verify_poll(
            &keys.channel,
            &signed.token_id,
            signed.at,
            &decode_tag(&signed.tag)?,
            now(),
        )
        .map_err(|_| AppError::Unauthorized("bad poll tag"))?;
        for body in pending_of(&state, &signed.token_id).await? {
            requests.push(serde_json::from_str(&body).map_err(anyhow::Error::from)?);
        }
    }
    Ok(Json(json!({ "requests": requests })).into_response())
}

/// Removal (§7): the device forgets the token and the server revokes it.
async fn remove(
    State(state): State<AppState>,
    body: Result<Json<SignedToken>, JsonRejection>,
) -> AppResult<Response> {
    let body = json_body(body)?;
    let (token, keys) = device_token(&state, &body.token_id).await?;
    pushotp::push::verify_remove(
        &keys.channel,
        &body.token_id,
        body.at,
        &decode_tag(&body.tag)?,
        now(),
    )
    .map_err(|_| AppError::Unauthorized("bad removal tag"))?;
    sqlx::query("UPDATE tokens SET state = 'revoked', keys_sealed = NULL, webpush_endpoint = NULL WHERE id = $1")
        .bind(&token.id)
        .execute(&state.db.writer)
        .await?;
    sqlx::query(
        "UPDATE push_requests SET state = 'cancelled' WHERE token_id = $1 AND state = 'pending'",
    )
    .bind(&token.id)
    .execute(&state.db.writer)
    .await?;
    Audit::of_token(AuditEvent::TokenRemoved, &token).detail("by device").record(&state.db).await?;
    Ok(Json(json!({ "removed": token.id })).into_response())
}

/// An answer's outcome, as the device shows it.
fn outcome(status: &str, reason: Option<Reason>, tries_left: Option<i64>) -> Response {
    Json(json!({ "status": status, "reason": reason, "triesLeft": tries_left })).into_response()
}

async fn answer(
    State(state): State<AppState>,
    body: Result<Json<Answer>, JsonRejection>,
) -> AppResult<Response> {
    let answer = json_body(body)?;
    // An answer takes several writes (claim, outcome, tries, login). Run them apart from the
    // connection, so that a client that hangs up midway cannot leave a request half answered
    // or a failed try uncounted.
    tokio::spawn(process_answer(state, answer))
        .await
        .map_err(|err| AppError::Internal(anyhow::anyhow!("answer task: {err}")))?
}

async fn process_answer(state: AppState, answer: Answer) -> AppResult<Response> {
    let request_id = b64(&answer.request_id);
    let row = sqlx::query(
        "SELECT r.token_id, r.login_id, r.body, r.right_number, r.state, r.expires_at FROM push_requests r WHERE r.id = $1",
    )
    .bind(&request_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Err(AppError::NotFound("unknown request")) };
    let token_id: String = row.try_get("token_id")?;
    if token_id != answer.token_id {
        return Err(AppError::NotFound("unknown request"));
    }
    let (token, keys) = device_token(&state, &token_id).await?;
    // Anyone can send garbage: a bad device tag changes nothing and counts nothing.
    answer
        .verify_device_tag(&keys.channel)
        .map_err(|_| AppError::Unauthorized("bad device tag"))?;
    // Claim the request: it is answered once, whatever races.
    let claimed = sqlx::query("UPDATE push_requests SET state = 'answering', answered_at = $1 WHERE id = $2 AND state = 'pending'")
        .bind(i64::try_from(now()).map_err(anyhow::Error::from)?)
        .bind(&request_id)
        .execute(&state.db.writer)
        .await?;
    if claimed.rows_affected() != 1 {
        let current: RequestState =
            row.try_get::<String, _>("state")?.parse().map_err(anyhow::Error::from)?;
        if current == RequestState::Expired {
            return Ok(outcome("rejected", Some(Reason::Expired), None));
        }
        if current == RequestState::Cancelled {
            return Ok(outcome("rejected", Some(Reason::Cancelled), None));
        }
        Audit::of_token(AuditEvent::AnswerReplayed, &token)
            .detail(&request_id)
            .record(&state.db)
            .await?;
        return Err(AppError::Conflict("this request was already answered"));
    }
    let login_id: String = row.try_get("login_id")?;
    let settle = |new_state: RequestState| {
        let state = state.clone();
        let request_id = request_id.clone();
        async move {
            sqlx::query("UPDATE push_requests SET state = $1 WHERE id = $2")
                .bind(new_state.as_str())
                .bind(&request_id)
                .execute(&state.db.writer)
                .await
        }
    };
    if row.try_get::<i64, _>("expires_at")? <= i64::try_from(now()).map_err(anyhow::Error::from)? {
        settle(RequestState::Expired).await?;
        finish_login(&state, &login_id, LoginState::Expired, None).await?;
        return Ok(outcome("rejected", Some(Reason::Expired), None));
    }
    if token.state == TokenState::Locked && answer.decision == Decision::Approve {
        settle(RequestState::Rejected).await?;
        finish_login(&state, &login_id, LoginState::Locked, None).await?;
        return Ok(outcome("rejected", Some(Reason::Locked), Some(0)));
    }
    let username = token.username.clone();
    match answer.decision {
        Decision::Deny => {
            settle(RequestState::Denied).await?;
            Audit::of_token(AuditEvent::PushDenied, &token)
                .detail(&request_id)
                .record(&state.db)
                .await?;
            finish_login(&state, &login_id, LoginState::Denied, None).await?;
            Ok(outcome("denied", None, None))
        }
        Decision::Report => {
            settle(RequestState::Reported).await?;
            let request: PushRequest = serde_json::from_str(&row.try_get::<String, _>("body")?)
                .map_err(anyhow::Error::from)?;
            let place = request.place.as_ref().map(|p| {
                format!(
                    "{}, {} ({:.4}, {:.4})",
                    p.city,
                    p.country,
                    p.lat_e6 as f64 / 1e6,
                    p.lon_e6 as f64 / 1e6
                )
            });
            sqlx::query(
                "INSERT INTO reports (token_id, username, request_id, app, origin, client_ip, place, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&token.id)
            .bind(&username)
            .bind(&request_id)
            .bind(&request.app)
            .bind(&request.origin)
            .bind(&request.client_ip)
            .bind(place)
            .bind(i64::try_from(now()).map_err(anyhow::Error::from)?)
            .execute(&state.db.writer)
            .await?;
            Audit::of_token(AuditEvent::PushReported, &token)
                .ip(&request.client_ip)
                .detail(&request_id)
                .record(&state.db)
                .await?;
            if state.config.lock_on_report {
                tokens::lock(&state, &token.id).await?;
                Audit::of_token(AuditEvent::TokenLocked, &token)
                    .detail("reported")
                    .record(&state.db)
                    .await?;
            }
            finish_login(&state, &login_id, LoginState::Denied, Some(Reason::Reported)).await?;
            Ok(outcome("reported", None, None))
        }
        Decision::Approve => {
            let right_number: Option<i64> = row.try_get("right_number")?;
            let number_ok = right_number.is_none() || right_number == answer.number.map(i64::from);
            let tag_ok = answer.verify_answer_tag(&keys.answer).is_ok();
            // A right passcode is spent whatever the number; the failed-try count is reset in
            // the same statement only when the whole answer is right.
            let passcode_ok = tag_ok
                && match &answer.passcode {
                    Some(code) => {
                        tokens::use_passcode(&state, &token, &keys.otp, code, number_ok).await?
                    }
                    None => false,
                };
            let failure = if !passcode_ok {
                Some(if token.pin_required { Reason::WrongPin } else { Reason::BadAnswer })
            } else if !number_ok {
                Some(Reason::WrongNumber)
            } else {
                None
            };
            if let Some(reason) = failure {
                settle(RequestState::Rejected).await?;
                let left = tokens::fail_try(&state, &token).await?;
                Audit::of_token(AuditEvent::PushRejected, &token)
                    .detail(reason.as_str())
                    .record(&state.db)
                    .await?;
                if left == 0 {
                    Audit::of_token(AuditEvent::TokenLocked, &token)
                        .detail("too many failed tries")
                        .record(&state.db)
                        .await?;
                    finish_login(&state, &login_id, LoginState::Locked, Some(reason)).await?;
                    return Ok(outcome("rejected", Some(Reason::Locked), Some(0)));
                }
                finish_login(&state, &login_id, LoginState::Rejected, Some(reason)).await?;
                return Ok(outcome("rejected", Some(reason), Some(left)));
            }
            // The login may have ended meanwhile (denied or reported on another device, or
            // expired): then this approval approves nothing.
            if !finish_login(&state, &login_id, LoginState::Approved, None).await? {
                settle(RequestState::Cancelled).await?;
                Audit::of_token(AuditEvent::PushTooLate, &token)
                    .detail(&request_id)
                    .record(&state.db)
                    .await?;
                return Ok(outcome("rejected", Some(Reason::Cancelled), None));
            }
            settle(RequestState::Approved).await?;
            Audit::of_token(AuditEvent::PushApproved, &token)
                .detail(&request_id)
                .record(&state.db)
                .await?;
            Ok(outcome("approved", None, None))
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum DeviceMessage {
    Auth { tokens: Vec<ChannelToken> },
    Ping,
    Pong,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelToken {
    token_id: String,
    tag: String,
}

async fn websocket(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_BODY)
        .max_frame_size(MAX_BODY)
        .read_buffer_size(SOCKET_READ_BUFFER)
        // Each message is written out as it is sent rather than gathered first.
        .write_buffer_size(0)
        .max_write_buffer_size(SOCKET_MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            if let Err(err) = channel(state, socket).await {
                tracing::debug!(error = %err, "device channel closed");
            }
        })
}

/// Takes a socket's sender out of the hub however the channel ends.
struct Registration<'a> {
    hub: &'a crate::Hub,
    ids: &'a [String],
    sender: &'a mpsc::UnboundedSender<String>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.hub.unregister(self.ids, self.sender);
    }
}

/// One device's channel (§7): challenge, log-in, then pending and new requests as they come.
async fn channel(state: AppState, mut socket: WebSocket) -> anyhow::Result<()> {
    let mut nonce: Nonce = [0; 16];
    rand::fill(&mut nonce);
    socket
        .send(Message::text(json!({ "type": "challenge", "nonce": b64(&nonce) }).to_string()))
        .await?;
    let auth = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let Ok(Some(Ok(Message::Text(text)))) = auth else { return Ok(()) };
    let Ok(DeviceMessage::Auth { tokens: claimed }) = serde_json::from_str::<DeviceMessage>(&text)
    else {
        socket
            .send(Message::text(json!({ "type": "error", "error": "expected auth" }).to_string()))
            .await?;
        return Ok(());
    };
    let mut ids = Vec::new();
    for t in claimed.iter().take(32) {
        let ok = match device_token(&state, &t.token_id).await {
            Ok((_, keys)) => Base64UrlUnpadded::decode_vec(&t.tag).is_ok_and(|tag| {
                pushotp::push::verify_channel_auth(&keys.channel, &t.token_id, &nonce, &tag).is_ok()
            }),
            Err(_) => false,
        };
        if !ok {
            socket
                .send(Message::text(
                    json!({ "type": "error", "error": "bad_auth", "tokenId": t.token_id })
                        .to_string(),
                ))
                .await?;
            return Ok(());
        }
        if !ids.contains(&t.token_id) {
            ids.push(t.token_id.clone());
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    state.hub.register(&ids, &tx);
    let _registration = Registration { hub: &state.hub, ids: &ids, sender: &tx };
    socket.send(Message::text(json!({ "type": "ready", "tokens": ids }).to_string())).await?;
    for id in &ids {
        for body in pending_of(&state, id).await? {
            socket.send(Message::text(push_message(&body))).await?;
        }
    }
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing {
                Some(text) => socket.send(Message::text(text)).await?,
                None => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(DeviceMessage::Ping) = serde_json::from_str::<DeviceMessage>(&text) {
                        socket.send(Message::text(r#"{"type":"pong"}"#)).await?;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(()),
            },
        }
    }
}
