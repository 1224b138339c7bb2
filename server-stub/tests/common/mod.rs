//! Test harness: the real application on an ephemeral loopback port, with a manual clock.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consult_stub::auth::TokenResponse;
use consult_stub::clock::ManualClock;
use consult_stub::config::Settings;
use consult_stub::stats::StatsSnapshot;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const SECRET: &[u8] = b"integration-test-secret-of-32-bytes!";

/// A running server; dropped at the end of the test (its runtime goes with it).
pub struct TestServer {
    pub base: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

/// What an answer looked like: status, error code (if a JSON error body), the body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> Option<&str> {
        self.body.get("error").and_then(Value::as_str)
    }

    /// Asserts an error answer: this status and this error code.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, Some(code)),
            "{:?}",
            self.body
        );
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::with_secret(SECRET.to_vec());
        configure(&mut settings);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let clock = ManualClock::starting_at_unix(now);
        let (router, _state) = consult_stub::build_app(settings, Arc::new(clock.clone()))
            .unwrap_or_else(|e| panic!("build_app: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base: format!("http://{address}"),
            clock,
            http: reqwest::Client::new(),
        }
    }

    pub fn advance_secs(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    /// Mints a token through the dev endpoint.
    pub async fn mint(&self, user_id: &str, ttl_secs: i64) -> TokenResponse {
        let answer = self
            .post_json(
                "/api/dev/token",
                json!({"user_id": user_id, "ttl_secs": ttl_secs}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "mint: {:?}", answer.body);
        serde_json::from_value(answer.body).unwrap_or_else(|e| panic!("mint body: {e}"))
    }

    pub async fn create_session(&self, body: Value) -> Answer {
        self.post_json("/api/dev/sessions", body).await
    }

    /// Creates a session that must be accepted (201).
    pub async fn create_session_ok(&self, body: Value) {
        let answer = self.create_session(body).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "create session: {:?}",
            answer.body
        );
    }

    /// `POST /api/video/auth/refresh-token` with this `Authorization` header value (None: no header).
    pub async fn refresh_with(&self, authorization: Option<&str>) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/video/auth/refresh-token", self.base));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.send(request).await
    }

    pub async fn refresh(&self, token: &str) -> Answer {
        self.refresh_with(Some(&format!("Bearer {token}"))).await
    }

    /// `GET /api/video/sessions/{id}` with this `Authorization` header value.
    pub async fn get_session_with(&self, id: &str, authorization: Option<&str>) -> Answer {
        let mut request = self
            .http
            .get(format!("{}/api/video/sessions/{id}", self.base));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.send(request).await
    }

    pub async fn get_session(&self, id: &str, token: &str) -> Answer {
        self.get_session_with(id, Some(&format!("Bearer {token}")))
            .await
    }

    /// `GET /api/video/sessions/{id}` with `If-None-Match: etag`.
    pub async fn get_session_if_none_match(&self, id: &str, token: &str, etag: &str) -> Answer {
        let url = format!("{}/api/video/sessions/{id}", self.base);
        self.send(
            self.http
                .get(url)
                .bearer_auth(token)
                .header("if-none-match", etag),
        )
        .await
    }

    pub async fn logout(&self, token: &str) -> Answer {
        self.send(
            self.http
                .post(format!("{}/api/video/auth/logout", self.base))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn stats(&self) -> StatsSnapshot {
        let answer = self
            .send(self.http.get(format!("{}/api/dev/stats", self.base)))
            .await;
        serde_json::from_value(answer.body).unwrap_or_else(|e| panic!("stats body: {e}"))
    }
}

/// Decodes a JWT's payload without verifying (to inspect what the server signed).
pub fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Base64url (no padding) of a JSON value.
pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}
