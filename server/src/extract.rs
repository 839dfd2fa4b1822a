//! Request extractors for the JSON API: [`JsonBody`], whose rejections are the server's JSON
//! errors, and [`Signed`], a device-signed JSON body whose token and tag are checked before the
//! handler runs.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use base64ct::Encoding;
use serde::de::DeserializeOwned;

use crate::app_state::AppState;
use crate::device_auth::{self, DeviceAuthError, DeviceToken, SignedByDevice};
use crate::error::AppError;

/// A JSON body. A malformed body is a 400 `bad_json` with serde's explanation, a body that is
/// not declared JSON a 415, and one over the size limit a 413, each as the server's JSON error.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
                _ => AppError::bad("bad_json", rejection.body_text()),
            }),
        }
    }
}

/// A JSON message signed by a device with its token's channel key, checked by
/// [`device_auth::authenticate`]: the handler only runs for a token that may talk to the
/// server and a right tag.
pub struct Signed<M> {
    /// The message.
    pub message: M,
    /// The token that signed it, with its keys.
    pub device: DeviceToken,
}

impl<M> FromRequest<AppState> for Signed<M>
where
    M: DeserializeOwned + SignedByDevice + Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let JsonBody(message) = JsonBody::<M>::from_request(request, state).await?;
        let device = device_auth::authenticate(state, &message).await?;
        Ok(Self { message, device })
    }
}

impl From<DeviceAuthError> for AppError {
    fn from(err: DeviceAuthError) -> Self {
        match err {
            DeviceAuthError::UnknownToken => Self::Unauthorized("unknown token"),
            DeviceAuthError::TagEncoding => Self::bad("bad_tag", "tag is not base64url"),
            DeviceAuthError::BadTag(refusal) => Self::Unauthorized(refusal),
            DeviceAuthError::Protocol(err) => err.into(),
            DeviceAuthError::Unconfirmed => Self::NotConfirmed,
            DeviceAuthError::RestoredElsewhere(token_id, tag) => Self::RestoredElsewhere {
                token_id,
                tag: base64ct::Base64UrlUnpadded::encode_string(&tag),
            },
            DeviceAuthError::Internal(err) => Self::Internal(err),
        }
    }
}
