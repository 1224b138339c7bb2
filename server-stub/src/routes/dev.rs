//! `/api/dev/*`: hooks for the demo and the tests. Only with `--dev`, loopback `Host` only.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use serde::Deserialize;

use crate::auth::{TokenResponse, random_id};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::faults::FaultSpec;
use crate::ids::{valid_id, valid_text};
use crate::session::{Session, SessionStatus};
use crate::state::AppState;
use crate::stats::StatsSnapshot;
use crate::tokens::{Claims, Leniency, User};

/// The dev routes, relative to `/api`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dev/token", post(mint_token))
        .route("/dev/sessions", post(create_session))
        .route("/dev/sessions/{session_id}", patch(update_session))
        .route("/dev/faults", post(set_fault).delete(clear_faults))
        .route("/dev/stats", get(stats))
        .route("/dev/whoami", get(whoami))
        .route("/dev/joins", get(joins))
}

/// Body of `POST /api/dev/token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    user_id: String,
    email: Option<String>,
    role: Option<String>,
    name: Option<String>,
    /// Lifetime in seconds; negative mints an already-expired token. Default: the token TTL.
    ttl_secs: Option<i64>,
}

async fn mint_token(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<MintRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let limits = app.settings.limits;
    let user_id = req.user_id.trim().to_owned();
    if !valid_id(&user_id, limits.max_id_bytes) {
        return Err(ApiError::BadRequest(format!(
            "user_id must be 1 to {} characters of A-Z a-z 0-9 . _ - @ +",
            limits.max_id_bytes
        )));
    }
    let texts = [&req.email, &req.role, &req.name];
    if texts.iter().any(|t| {
        t.as_deref()
            .is_some_and(|t| !valid_text(t, limits.max_text_bytes))
    }) {
        return Err(ApiError::BadRequest(format!(
            "email, role and name must be at most {} bytes without control characters",
            limits.max_text_bytes
        )));
    }
    let user = User {
        email: req
            .email
            .unwrap_or_else(|| format!("{user_id}@example.test")),
        role: req.role.unwrap_or_else(|| "PATIENT".to_owned()),
        name: req.name.unwrap_or_else(|| user_id.clone()),
        user_id,
    };
    let default_ttl = i64::try_from(app.settings.token_ttl.as_secs()).unwrap_or(i64::MAX);
    Ok(Json(
        app.mint(user, req.ttl_secs.unwrap_or(default_ttl)).await?,
    ))
}

/// Body of `POST /api/dev/sessions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    session_id: Option<String>,
    room_id: Option<String>,
    status: Option<SessionStatus>,
    participants: Option<Vec<String>>,
}

async fn create_session(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateSession>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let limits = app.settings.limits;
    let session_id = req.session_id.unwrap_or_else(random_id);
    let ids_valid = valid_id(&session_id, limits.max_id_bytes)
        && req
            .room_id
            .as_deref()
            .is_none_or(|room| valid_id(room, limits.max_id_bytes));
    if !ids_valid {
        return Err(ApiError::BadRequest(format!(
            "session_id and room_id must be 1 to {} characters of A-Z a-z 0-9 . _ - @ +",
            limits.max_id_bytes
        )));
    }
    if let Some(participants) = &req.participants
        && (participants.len() > limits.max_participants
            || !participants
                .iter()
                .all(|p| valid_id(p, limits.max_id_bytes)))
    {
        return Err(ApiError::BadRequest(format!(
            "participants must be at most {} valid user ids",
            limits.max_participants
        )));
    }
    let session = Session::new(
        session_id,
        req.room_id,
        req.status,
        req.participants,
        app.clock.now(),
    );
    let session = app.storage().insert_session(session).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// Body of `PATCH /api/dev/sessions/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    status: SessionStatus,
}

async fn update_session(
    State(app): State<AppState>,
    Path(session_id): Path<String>,
    ApiJson(req): ApiJson<UpdateSession>,
) -> Result<Json<Session>, ApiError> {
    let session = app
        .storage()
        .set_status(&session_id, req.status, app.clock.now())
        .await?;
    if let Some(rooms) = app.rooms() {
        rooms.session_status(&session).await;
    }
    Ok(Json(session))
}

async fn set_fault(
    State(app): State<AppState>,
    ApiJson(spec): ApiJson<FaultSpec>,
) -> Result<StatusCode, ApiError> {
    app.faults.set(&spec)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.faults.clear();
    StatusCode::NO_CONTENT
}

/// Who a token says it is, checked strictly (`exp` must be in the future): lets tests see
/// which token a client sent, and gives them an endpoint that answers 401 to an expired token.
async fn whoami(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Claims>, ApiError> {
    let claims = app
        .authenticate(&headers, Leniency::Strict, "whoami")
        .await?;
    Ok(Json(Claims::clone(&claims)))
}

/// The latest successful `join_room`s (user, room, token `jti`), oldest first.
async fn joins(
    State(app): State<AppState>,
) -> Result<Json<Vec<crate::storage::JoinRecord>>, ApiError> {
    Ok(Json(app.storage().joins().await?))
}

/// Query of `GET /api/dev/stats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// `instance` (default): this instance's counters; `cluster`: every instance's together
    /// (with `--redis`; the others' last half second may be missing).
    scope: Option<String>,
}

async fn stats(
    State(app): State<AppState>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<StatsSnapshot>, ApiError> {
    match query.scope.as_deref() {
        None | Some("instance") => Ok(Json(app.stats.snapshot())),
        Some("cluster") => Ok(Json(app.cluster_stats().await?)),
        Some(_) => Err(ApiError::BadRequest(
            "scope must be instance or cluster".to_owned(),
        )),
    }
}
