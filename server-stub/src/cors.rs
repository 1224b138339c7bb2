//! Which browser origins may call, and which `Host` the dev endpoints answer: an allowlist
//! (`--allow-origin`), plus loopback origins with `--dev` only. Never a mirror, never `null`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether `host` (a `Host` header value or an origin's authority) names this machine:
/// `localhost`, `127.0.0.0/8` or `[::1]`, with any port.
///
/// ```
/// use consult_stub::cors::is_loopback_host;
/// assert!(is_loopback_host("127.0.0.1:8086") && is_loopback_host("localhost") && is_loopback_host("[::1]:80"));
/// assert!(!is_loopback_host("evil.example") && !is_loopback_host("127.0.0.1.evil.example"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || is_port(port) => return inside == "::1",
            _ => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host,
        },
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_port(port_part: &str) -> bool {
    port_part
        .strip_prefix(':')
        .unwrap_or(port_part)
        .parse::<u16>()
        .is_ok()
}

/// Whether a browser at `origin` may call: listed with `--allow-origin`, or an
/// `http://` loopback origin when dev endpoints are on.
pub fn origin_allowed(settings: &Settings, origin: &str) -> bool {
    if settings.allow_origins.iter().any(|o| o == origin) {
        return true;
    }
    settings.dev_endpoints
        && origin
            .strip_prefix("http://")
            .is_some_and(|authority| !authority.contains('/') && is_loopback_host(authority))
}

/// The CORS layer: allowlisted origins get the headers clients need to read.
pub fn layer(settings: &Settings) -> CorsLayer {
    let settings = settings.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|origin| origin_allowed(&settings, origin))
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::DATE,
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("www-authenticate"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Why a dev request is refused, if it is: a `Host` that is not loopback (DNS rebinding) or an
/// `Origin` that is not allowed (a page elsewhere; CORS alone does not stop a simple POST).
pub fn dev_request_refusal(settings: &Settings, headers: &HeaderMap) -> Option<ApiError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(is_loopback_host) {
        return Some(ApiError::Forbidden(
            "dev endpoints answer only a loopback Host",
        ));
    }
    match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => None,
        Some(Ok(origin)) if origin_allowed(settings, origin) => None,
        Some(_) => Some(ApiError::Forbidden(
            "dev endpoints do not answer this Origin",
        )),
    }
}

/// Middleware guarding `/api/dev/*` with [`dev_request_refusal`].
pub async fn guard_dev(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match dev_request_refusal(&app.settings, request.headers()) {
        Some(refusal) => refusal.into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_or_dev_loopback_origins_are_allowed() {
        let mut settings = Settings::with_secret(vec![7; 32]);
        settings.allow_origins = vec!["https://app.example".into()];
        assert!(origin_allowed(&settings, "https://app.example"));
        assert!(origin_allowed(&settings, "http://127.0.0.1:5173"));
        assert!(!origin_allowed(&settings, "https://evil.example"));
        assert!(!origin_allowed(&settings, "null"));
        assert!(!origin_allowed(&settings, "https://127.0.0.1:5173"));
        settings.dev_endpoints = false;
        assert!(!origin_allowed(&settings, "http://127.0.0.1:5173"));
    }
}
