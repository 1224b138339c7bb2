//! `POST /api/video/auth/refresh-token` and `POST /api/video/auth/logout`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};

use crate::auth::TokenResponse;
use crate::error::ApiError;
use crate::faults::FaultTarget;
use crate::state::AppState;
use crate::stats::bump;

/// Exchanges a valid or recently expired token for its successor.
pub async fn refresh(
    State(app): State<AppState>,
    request: Request,
) -> Result<Json<TokenResponse>, ApiError> {
    // The request itself rather than a `HeaderMap` extractor, which copies every header.
    let headers = request.headers();
    let verdict = app.faults.on_call(FaultTarget::Refresh);
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    if let Some(fault) = verdict.error {
        bump(&app.stats.refresh_faulted);
        return Err(fault);
    }
    match app.refresh(headers).await {
        Ok(answer) => {
            bump(&app.stats.refresh_ok);
            Ok(Json(answer))
        }
        Err(reason) => {
            bump(&app.stats.refresh_rejected);
            Err(reason)
        }
    }
}

/// Ends the sign-in of the token: every token of its `sid` stops working.
pub async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    app.logout(&headers).await?;
    Ok(StatusCode::NO_CONTENT)
}
