//! The device-facing routes (docs/protocol.md): enrollment, the WebSocket channel, the poll
//! fallback, Web Push registration, removal, and answers. Each parses its request, calls the
//! domain ([`enrollment`](crate::enrollment), [`push`](crate::push), [`tokens`]) and turns the
//! result into a reply.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use pushotp::Secret;
use pushotp::push::{Answer, EnrollRequest, Nonce, RestoreRequest, WebPushSubscription};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::app_state::AppState;
use crate::device_auth::{self, DeviceAuthError, SignedByDevice, TagError, decode_tag};
use crate::enrollment::{self, EnrollError};
use crate::error::{AppError, AppResult};
use crate::extract::{JsonBody, Signed};
use crate::push::{self, AnswerError, AnswerOutcome};
use crate::tokens::{self, RegisterError, RestoreError};

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
        .route("/api/v1/devices/restore", post(restore))
        .route("/api/v1/devices/webpush", post(register_webpush))
        .route("/api/v1/webpush/key", get(vapid_key))
        .route("/api/v1/answers", post(answer))
}

impl From<EnrollError> for AppError {
    fn from(err: EnrollError) -> Self {
        match err {
            EnrollError::Refused => Self::Unauthorized(
                "the activation link is not valid (wrong, expired or already used)",
            ),
            EnrollError::Protocol(err) => err.into(),
            EnrollError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<AnswerError> for AppError {
    fn from(err: AnswerError) -> Self {
        match err {
            AnswerError::UnknownRequest => Self::NotFound("unknown request"),
            AnswerError::Device(err) => err.into(),
            AnswerError::AlreadyAnswered => Self::Conflict("this request was already answered"),
            AnswerError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<RestoreError> for AppError {
    fn from(err: RestoreError) -> Self {
        match err {
            RestoreError::RestoredElsewhere { token_id, tag } => {
                DeviceAuthError::RestoredElsewhere(token_id, tag).into()
            }
            RestoreError::UnknownToken => Self::Unauthorized("unknown token"),
            RestoreError::BadTag => Self::Unauthorized("bad restore tag"),
            RestoreError::Protocol(err) => err.into(),
            RestoreError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<RegisterError> for AppError {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Invalid(err) => Self::bad("bad_subscription", err.to_string()),
            RegisterError::NotAllowed(err) => Self::bad("endpoint_not_allowed", err.to_string()),
            RegisterError::Internal(err) => Self::Internal(err),
        }
    }
}

async fn enroll(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> AppResult<Response> {
    let enrolled = enrollment::enroll(&state, &request).await?;
    Ok(Json(enrolled).into_response())
}

/// The VAPID public key browsers subscribe with (`applicationServerKey`).
async fn vapid_key(State(state): State<AppState>) -> Response {
    Json(json!({ "publicKey": state.webpush.application_server_key() })).into_response()
}

/// A device's Web Push subscription, signed (§7).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebPushRegistration {
    token_id: String,
    at: u64,
    subscription: WebPushSubscription,
    tag: String,
}

impl SignedByDevice for WebPushRegistration {
    const REFUSAL: &'static str = "bad Web Push registration tag";
    // Stores where pushes go; none goes to the token before it is confirmed.
    const WHILE_UNCONFIRMED: bool = true;

    fn token_id(&self) -> &str {
        &self.token_id
    }

    fn verify(&self, channel_key: &Secret, now: u64) -> Result<(), TagError> {
        let tag = decode_tag(&self.tag)?;
        pushotp::push::verify_webpush(
            channel_key,
            &self.token_id,
            self.at,
            &self.subscription,
            &tag,
            now,
        )
        .map_err(|_| TagError::Bad)
    }
}

/// A device registers its Web Push subscription (§7).
async fn register_webpush(
    State(state): State<AppState>,
    Signed { message, device }: Signed<WebPushRegistration>,
) -> AppResult<Response> {
    tokens::register_webpush(&state, &device.token, &message.subscription).await?;
    Ok(Json(json!({ "registered": device.token.id })).into_response())
}

/// A token named in a poll, or a removal: signed with a time (§7).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignedToken {
    token_id: String,
    at: u64,
    tag: String,
}

/// A poll's entry: [`SignedToken`] under the poll's tag purpose.
struct PollEntry<'a>(&'a SignedToken);

impl SignedByDevice for PollEntry<'_> {
    const REFUSAL: &'static str = "bad poll tag";
    // A device polls all its tokens of a server at once: a refusal would stall the others'
    // requests until the new one is confirmed. The token itself gets nothing (no request is
    // made for it, and notices go to active and locked tokens only).
    const WHILE_UNCONFIRMED: bool = true;

    fn token_id(&self) -> &str {
        &self.0.token_id
    }

    fn verify(&self, channel_key: &Secret, now: u64) -> Result<(), TagError> {
        let tag = decode_tag(&self.0.tag)?;
        pushotp::push::verify_poll(channel_key, &self.0.token_id, self.0.at, &tag, now)
            .map_err(|_| TagError::Bad)
    }
}

/// A removal: [`SignedToken`] under the removal's tag purpose.
#[derive(Deserialize)]
#[serde(transparent)]
struct Removal(SignedToken);

impl SignedByDevice for Removal {
    const REFUSAL: &'static str = "bad removal tag";
    // A person who removes a token that waits for confirmation ends it at the server too.
    const WHILE_UNCONFIRMED: bool = true;

    fn token_id(&self) -> &str {
        &self.0.token_id
    }

    fn verify(&self, channel_key: &Secret, now: u64) -> Result<(), TagError> {
        let tag = decode_tag(&self.0.tag)?;
        pushotp::push::verify_remove(channel_key, &self.0.token_id, self.0.at, &tag, now)
            .map_err(|_| TagError::Bad)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PollBody {
    tokens: Vec<SignedToken>,
}

/// Poll fallback (§7): all pending requests of the named tokens, the notices of their
/// recently ended ones, and their notices of the last week (§4).
async fn pending(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PollBody>,
) -> AppResult<Response> {
    if body.tokens.is_empty() || body.tokens.len() > 32 {
        return Err(AppError::bad("bad_request", "tokens must name 1 to 32 tokens"));
    }
    let mut requests: Vec<Value> = Vec::new();
    let mut ended = Vec::new();
    let mut notices = Vec::new();
    for signed in &body.tokens {
        let device = device_auth::authenticate(&state, &PollEntry(signed)).await?;
        for body in push::pending_of(&state, &signed.token_id).await? {
            requests.push(serde_json::from_str(&body).map_err(anyhow::Error::from)?);
        }
        ended.extend(crate::ended::recent_of(&state, &device).await?);
        notices.extend(crate::notices::recent_of(&state, &device).await?);
    }
    Ok(Json(json!({ "requests": requests, "ended": ended, "notices": notices })).into_response())
}

/// Removal (§7): the device forgets the token and the server revokes it.
async fn remove(
    State(state): State<AppState>,
    Signed { device, .. }: Signed<Removal>,
) -> AppResult<Response> {
    let ended = tokens::remove(&state, &device.token).await?;
    crate::ended::tell_removed(&state, &device, &ended).await;
    Ok(Json(json!({ "removed": device.token.id })).into_response())
}

/// A device restores a token it imported (§8): the new keys' answer, with the next counter.
async fn restore(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RestoreRequest>,
) -> AppResult<Response> {
    Ok(Json(tokens::restore(&state, &request).await?).into_response())
}

/// An answer (§5), and its outcome as the device shows it.
async fn answer(
    State(state): State<AppState>,
    JsonBody(answer): JsonBody<Answer>,
) -> AppResult<Response> {
    // Checked by the lifecycle after the request is found (an unknown request is a 404
    // whatever its tag), with the same device-tag check as the other signed messages.
    let (status, reason, tries_left) = match push::answer(&state, answer).await? {
        AnswerOutcome::Approved { login_code } => {
            // The sign-in code for the login page, instead of anything the PIN gave, tagged
            // under the token's K_req (§5).
            let (code, tag) = login_code.map_or((None, None), |(code, tag)| {
                (Some(code), Some(Base64UrlUnpadded::encode_string(&tag)))
            });
            let reply = json!({ "status": "approved", "reason": null, "triesLeft": null, "loginCode": code, "loginCodeTag": tag });
            return Ok(Json(reply).into_response());
        }
        AnswerOutcome::Denied => ("denied", None, None),
        AnswerOutcome::Reported => ("reported", None, None),
        AnswerOutcome::Rejected { reason, tries_left } => ("rejected", Some(reason), tries_left),
        AnswerOutcome::WrongPin { tries_left } => {
            // The request stays pending: the device may answer it again.
            let reply = json!({ "status": "rejected", "reason": "wrong_pin", "triesLeft": tries_left, "pending": true });
            return Ok(Json(reply).into_response());
        }
    };
    Ok(Json(json!({ "status": status, "reason": reason, "triesLeft": tries_left })).into_response())
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum SocketMessage {
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

/// A channel log-in's entry: the token's tag over the socket's challenge.
struct ChannelAuth<'a> {
    token: &'a ChannelToken,
    nonce: &'a Nonce,
}

impl SignedByDevice for ChannelAuth<'_> {
    const REFUSAL: &'static str = "bad_auth";
    // The socket of a token that waits for confirmation stays open and gets nothing (pushes
    // and notices go to active tokens only), so that pushes reach it at once when confirmed.
    const WHILE_UNCONFIRMED: bool = true;

    fn token_id(&self) -> &str {
        &self.token.token_id
    }

    fn verify(&self, channel_key: &Secret, _now: u64) -> Result<(), TagError> {
        let tag = decode_tag(&self.token.tag)?;
        pushotp::push::verify_channel_auth(channel_key, &self.token.token_id, self.nonce, &tag)
            .map_err(|_| TagError::Bad)
    }
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
    hub: &'a crate::hub::Hub,
    ids: &'a [String],
    sender: &'a mpsc::UnboundedSender<String>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.hub.unregister(self.ids, self.sender);
    }
}

/// One device's channel (§7): challenge, log-in, then pending requests and recent ends, then new
/// requests and ends as they come.
async fn channel(state: AppState, mut socket: WebSocket) -> anyhow::Result<()> {
    let mut nonce: Nonce = [0; 16];
    rand::fill(&mut nonce);
    let challenge = Base64UrlUnpadded::encode_string(&nonce);
    socket
        .send(Message::text(json!({ "type": "challenge", "nonce": challenge }).to_string()))
        .await?;
    let auth = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let Ok(Some(Ok(Message::Text(text)))) = auth else { return Ok(()) };
    let Ok(SocketMessage::Auth { tokens: claimed }) = serde_json::from_str::<SocketMessage>(&text)
    else {
        socket
            .send(Message::text(json!({ "type": "error", "error": "expected auth" }).to_string()))
            .await?;
        return Ok(());
    };
    let mut ids = Vec::new();
    let mut devices = Vec::new();
    for t in claimed.iter().take(32) {
        let entry = ChannelAuth { token: t, nonce: &nonce };
        let device = match device_auth::authenticate(&state, &entry).await {
            Ok(device) => device,
            Err(err) => {
                let refusal = match err {
                    // The copy that still holds a restored token's old keys: told why, as the
                    // HTTP routes tell it (§8).
                    DeviceAuthError::RestoredElsewhere(token_id, tag) => json!({
                        "type": "error",
                        "error": "restored_elsewhere",
                        "tokenId": token_id,
                        "tag": Base64UrlUnpadded::encode_string(&tag),
                    }),
                    _ => {
                        json!({ "type": "error", "error": ChannelAuth::REFUSAL, "tokenId": t.token_id })
                    }
                };
                socket.send(Message::text(refusal.to_string())).await?;
                return Ok(());
            }
        };
        if !ids.contains(&t.token_id) {
            ids.push(t.token_id.clone());
            devices.push(device);
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    state.hub.register(&ids, &tx);
    let _registration = Registration { hub: &state.hub, ids: &ids, sender: &tx };
    // A restore that took a token over between its log-in above and this registration told
    // sockets that were registered then, not this one: look once more, now that the next
    // message would reach it. The device logs in again and is told why.
    for device in &devices {
        if !tokens::still_current(&state, &device.token.id, &device.keys).await? {
            return Ok(());
        }
    }
    socket.send(Message::text(json!({ "type": "ready", "tokens": ids }).to_string())).await?;
    for device in &devices {
        for body in push::pending_of(&state, &device.token.id).await? {
            socket.send(Message::text(push::push_message(&body))).await?;
        }
        for notice in crate::ended::recent_of(&state, device).await? {
            socket.send(Message::text(crate::ended::ended_message(&notice)?)).await?;
        }
        for notice in crate::notices::recent_of(&state, device).await? {
            socket.send(Message::text(crate::notices::notice_message(&notice)?)).await?;
        }
    }
    let closed = state.hub.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            () = &mut closed => {
                // The server is stopping: "going away" (RFC 6455 §7.4.1), so that the device
                // reconnects, to this server once it is back or to another node.
                let close = CloseFrame { code: close_code::AWAY, reason: "server stopping".into() };
                socket.send(Message::Close(Some(close))).await?;
                return Ok(());
            }
            outgoing = rx.recv() => match outgoing {
                Some(text) => {
                    let restored = tokens::restored_token(&text);
                    socket.send(Message::text(text)).await?;
                    // A restore elsewhere retired the keys this socket logged in with: it gets
                    // nothing more of that token (a restored copy's own socket, logged in with
                    // the new keys, keeps it). Without tokens left, it closes.
                    if let Some(token_id) = restored
                        && let Some(i) = devices.iter().position(|d| d.token.id == token_id)
                        && let Some(device) = devices.get(i)
                        && !tokens::still_current(&state, &token_id, &device.keys).await?
                    {
                        state.hub.unregister(std::slice::from_ref(&token_id), &tx);
                        devices.remove(i);
                        if devices.is_empty() {
                            socket.send(Message::Close(None)).await?;
                            return Ok(());
                        }
                    }
                }
                None => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(SocketMessage::Ping) = serde_json::from_str::<SocketMessage>(&text) {
                        socket.send(Message::text(r#"{"type":"pong"}"#)).await?;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(()),
            },
        }
    }
}
