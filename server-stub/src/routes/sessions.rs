//! `GET /api/video/sessions/{session_id}`, with `ETag` / `If-None-Match`.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::faults::FaultTarget;
use crate::state::AppState;
use crate::stats::{InFlight, bump};
use crate::tokens::Leniency;

/// The session, to a participant holding a valid or recently expired token.
pub async fn get_session(
    State(app): State<AppState>,
    Path(session_id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    // The request itself rather than a `HeaderMap` extractor, which copies every header.
    let headers = request.headers();
    bump(&app.stats.session_get);
    let _in_flight = InFlight::enter(&app.stats);
    let verdict = app.faults.on_call(FaultTarget::Sessions);
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    if let Some(fault) = verdict.error {
        bump(&app.stats.session_faulted);
        return Err(fault);
    }
    let claims = app
        .authenticate(headers, Leniency::Lenient, "get_session")
        .await?;
    // An outsider gets the same 404 as for a session that does not exist: the answer does not
    // tell whether an id is taken.
    let rendered = app
        .storage()
        .rendered_for(&session_id, &claims.sub)
        .await?
        .ok_or(ApiError::SessionNotFound(session_id))?;
    let cache = [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    let etag = [(header::ETAG, rendered.etag.clone())];
    if if_none_match_matches(headers, rendered.etag.to_str().unwrap_or_default()) {
        bump(&app.stats.session_not_modified);
        return Ok((StatusCode::NOT_MODIFIED, etag, cache).into_response());
    }
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    Ok((etag, cache, json, rendered.json.clone()).into_response())
}

/// Whether `If-None-Match` lists `etag` (or `*`); weak comparison, as RFC 9110 asks for GET.
fn if_none_match_matches(headers: &HeaderMap, etag: &str) -> bool {
    let strip_weak = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || strip_weak(tag) == strip_weak(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn matches_exact_weak_listed_and_star() {
        assert!(if_none_match_matches(&with("\"s-v1\""), "\"s-v1\""));
        assert!(if_none_match_matches(&with("W/\"s-v1\""), "\"s-v1\""));
        assert!(if_none_match_matches(&with("\"x\", \"s-v1\""), "\"s-v1\""));
        assert!(if_none_match_matches(&with("*"), "\"s-v1\""));
        assert!(!if_none_match_matches(&with("\"s-v0\""), "\"s-v1\""));
        assert!(!if_none_match_matches(&HeaderMap::new(), "\"s-v1\""));
    }
}
