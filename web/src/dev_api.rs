//! The stub's dev endpoints (same origin): mint a token, create or end a session, inject a
//! refresh outage. Errors are shown to the person, so they are plain text.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::json::{self, quote};

/// The page's origin: the API is served by the same consult-stub (or proxied by `trunk serve`).
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Who signs in, as the dev token endpoint takes it.
pub struct DevUser {
    /// User id (the token's `sub`).
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// `PATIENT` or `DOCTOR`.
    pub role: String,
    /// Token lifetime, seconds.
    pub ttl_secs: i64,
}

/// What `POST /api/dev/token` answers.
pub struct Grant {
    /// The JWT.
    pub access_token: String,
    /// The server's `expires_at`.
    pub expires_at: String,
    /// The server's `expires_in`, seconds (measures the clock skew).
    pub expires_in: Option<f64>,
}

/// Mints a token for `user` (`POST /api/dev/token`).
pub async fn mint_token(user: &DevUser) -> Result<Grant, String> {
    let body = format!(
        r#"{{"user_id":{},"name":{},"role":{},"ttl_secs":{}}}"#,
        quote(&user.user_id),
        quote(&user.name),
        quote(&user.role),
        user.ttl_secs
    );
    let answer = call("POST", "/api/dev/token", Some(body)).await?;
    Ok(Grant {
        access_token: json::text(&answer, "access_token"),
        expires_at: json::text(&answer, "expires_at"),
        expires_in: json::number(&answer, "expires_in"),
    })
}

/// Creates the session `session_id` (room `room-<id>`, open to every signed-in user) and
/// returns it (`POST /api/dev/sessions`); `None` if it exists already (409).
pub async fn create_session(session_id: &str) -> Result<Option<JsValue>, String> {
    let path = "/api/dev/sessions";
    let body = format!(r#"{{"session_id":{}}}"#, quote(session_id));
    let answer = send("POST", path, Some(body)).await?;
    match answer.status {
        409 => Ok(None),
        _ => answer.json("POST", path).map(Some),
    }
}

/// The server ends the session (`PATCH /api/dev/sessions/{id}` to `ended`).
pub async fn end_session(session_id: &str) -> Result<(), String> {
    let id = String::from(js_sys::encode_uri_component(session_id));
    let path = format!("/api/dev/sessions/{id}");
    let body = String::from(r#"{"status":"ended"}"#);
    call("PATCH", &path, Some(body)).await.map(drop)
}

/// The next `count` refresh requests fail with 503 (`POST /api/dev/faults`).
pub async fn refresh_outage(count: u32) -> Result<(), String> {
    let body = format!(r#"{{"target":"refresh","fail_next":{count},"status":503}}"#);
    call("POST", "/api/dev/faults", Some(body)).await.map(drop)
}

/// `method path` with an optional JSON body; the answer's JSON (or `null`), or an error text.
async fn call(method: &str, path: &str, body: Option<String>) -> Result<JsValue, String> {
    send(method, path, body).await?.json(method, path)
}

/// An answer of the stub.
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    /// The body's JSON (or `null`) if the status is 2xx, else an error text.
    fn json(self, method: &str, path: &str) -> Result<JsValue, String> {
        if !(200..300).contains(&self.status) {
            return Err(format!(
                "{method} {path}: HTTP {} {}",
                self.status, self.text
            ));
        }
        Ok(js_sys::JSON::parse(&self.text).unwrap_or(JsValue::NULL))
    }
}

/// `method path` with an optional JSON body; an error only if no answer came.
async fn send(method: &str, path: &str, body: Option<String>) -> Result<Answer, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().map_err(|_| "headers")?;
        headers
            .set("content-type", "application/json")
            .map_err(|_| "headers")?;
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
    }
    let url = format!("{}{path}", origin());
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| format!("{method} {path}: network error"))?
        .dyn_into()
        .map_err(|_| "not a response")?;
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok(Answer { status, text })
}
