//! The stub's dev endpoints (same origin): mint a token, create or change a session, inject
//! faults. Errors are shown to the person, so they are plain text.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The page's origin: the API is served by the same consult-stub (or proxied by `trunk serve`).
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// `method path` with an optional JSON body; the answer's JSON (or `null`), or an error text.
pub async fn call(method: &str, path: &str, body: Option<String>) -> Result<JsValue, String> {
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
    if !response.ok() {
        return Err(format!("{method} {path}: HTTP {status} {text}"));
    }
    Ok(js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL))
}

/// A field of a JS object as text (numbers too).
pub fn text(value: &JsValue, key: &str) -> String {
    let field = js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    field
        .as_string()
        .or_else(|| field.as_f64().map(|n| n.to_string()))
        .unwrap_or_default()
}

/// JSON string literal.
pub fn quote(text: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(text))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
