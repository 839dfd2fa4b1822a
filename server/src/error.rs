//! The server's error type: every failure becomes a status and a JSON body
//! `{ "error": "<stable code>", "message": "<for people>" }` that says nothing internal.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (bad JSON, wrong types, out-of-range values).
    #[error("{message}")]
    BadRequest {
        /// Stable machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The caller is not who it says (bad MAC, wrong password, no session).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A device's token waits for the person to confirm it on the page that showed its
    /// activation link (docs/protocol.md §3): 403 `not_confirmed`.
    #[error("this token is not confirmed yet: confirm it on the page that showed its link")]
    NotConfirmed,
    /// A browser's POST from a page that is not the server's own (`Sec-Fetch-Site` other than
    /// `same-origin`, or another `Origin`): refused before anything is changed
    /// ([`crate::same_origin`]).
    #[error("this request did not come from this server's own page")]
    CrossSite,
    /// The thing asked for does not exist (or the caller may not know that it does).
    #[error("{0}")]
    NotFound(&'static str),
    /// The request conflicts with the current state (already answered, already redeemed).
    #[error("{0}")]
    Conflict(&'static str),
    /// The sign-in ended for good (denied, reported, locked or already used): a new one starts
    /// with the password.
    #[error("{0}")]
    SignInOver(&'static str),
    /// The body is not JSON where JSON is expected.
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The body is larger than the server takes.
    #[error("the request body is too large")]
    TooLarge,
    /// Too many attempts; try later.
    #[error("{0}")]
    TooManyRequests(&'static str),
    /// A device's token was restored on another device (docs/protocol.md §8): 410 with the
    /// token's id and the refusal's tag, base64url, so that the device can check it.
    #[error("this token was restored on another device")]
    RestoredElsewhere {
        /// The token.
        token_id: String,
        /// `mac(K_req, "restored-elsewhere", str(tokenId))` under the retired `K_req`.
        tag: String,
    },
    /// Anything unexpected. Logged, never shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A 400 with a code and a message.
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl From<pushotp::Error> for AppError {
    fn from(err: pushotp::Error) -> Self {
        Self::BadRequest { code: err.code(), message: err.to_string() }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::RestoredElsewhere { token_id, tag } = &self {
            let body = json!({
                "error": "restored_elsewhere",
                "message": self.to_string(),
                "tokenId": token_id,
                "tag": tag,
            });
            return (StatusCode::GONE, Json(body)).into_response();
        }
        let (status, code) = match &self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, *code),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::NotConfirmed => (StatusCode::FORBIDDEN, "not_confirmed"),
            Self::CrossSite => (StatusCode::FORBIDDEN, "cross_site"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::SignInOver(_) => (StatusCode::CONFLICT, "sign_in_over"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::RestoredElsewhere { .. } => (StatusCode::GONE, "restored_elsewhere"),
            Self::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        (status, Json(json!({ "error": code, "message": self.to_string() }))).into_response()
    }
}

/// The handlers' result type.
pub type AppResult<T> = Result<T, AppError>;
