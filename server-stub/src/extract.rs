//! Request extractors that turn axum's rejections into the API's JSON errors.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like [`axum::Json`], but a malformed, mistyped or oversized body is a `bad_request` error
/// with the JSON error body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::PayloadTooLarge(crate::limits::Limits::DEFAULT.max_body_bytes),
            ),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}
