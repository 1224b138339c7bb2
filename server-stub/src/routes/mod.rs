//! The HTTP routes: the video API, the dev hooks, and what answers everything else.

mod auth;
mod dev;
mod sessions;

use axum::Router;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;

/// The `/api` router: video endpoints always, dev endpoints when enabled, JSON 404 otherwise.
pub fn api(state: &AppState) -> Router<AppState> {
    let video = Router::new()
        .route("/video/auth/refresh-token", post(auth::refresh))
        .route("/video/auth/logout", post(auth::logout))
        .route("/video/sessions/{session_id}", get(sessions::get_session));
    let router = if state.settings.dev_endpoints {
        let guarded = dev::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::cors::guard_dev,
        ));
        video.merge(guarded)
    } else {
        video
    };
    router.fallback(not_found)
}

/// JSON 404 for paths no route answers.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
