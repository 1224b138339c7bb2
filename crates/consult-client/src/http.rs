//! One HTTP exchange over the global `fetch`: a copy of the caller's `RequestInit`, extra
//! headers, an optional timeout and cancel signal, failures mapped to `NETWORK` / `TIMEOUT` /
//! `ABORTED`.

use std::cell::Cell;
use std::rc::Rc;

use consult_core::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::ClientError;
use crate::env::EventListener;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (pages, workers, Node 20).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> js_sys::Promise;
}

/// A request to send.
pub(crate) struct Exchange<'a> {
    /// Absolute URL.
    pub url: &'a str,
    /// The caller's init (copied, never modified), or `None` for a plain request.
    pub init: Option<&'a web_sys::RequestInit>,
    /// Method when `init` is `None`.
    pub method: &'a str,
    /// Headers set on top of the init's.
    pub headers: Vec<(&'static str, String)>,
    /// Give up after this many milliseconds (`None`: never).
    pub timeout_ms: Option<u32>,
    /// Aborts the request when aborted (the caller's `init.signal` does too).
    pub cancel: Option<web_sys::AbortSignal>,
}

/// Sends the exchange; the response may have any status.
pub(crate) async fn send(exchange: Exchange<'_>) -> Result<web_sys::Response, ClientError> {
    let network = |e: JsValue| ClientError::new(ErrorCode::Network, js_message(&e));
    let init: web_sys::RequestInit = match exchange.init {
        Some(init) => js_sys::Object::assign(&js_sys::Object::new(), init).unchecked_into(),
        None => web_sys::RequestInit::new(),
    };
    if exchange.init.is_none() {
        init.set_method(exchange.method);
    }
    let controller = web_sys::AbortController::new().map_err(network)?;
    let caller_signal = js_sys::Reflect::get(&init, &JsValue::from_str("signal"))
        .ok()
        .and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok());
    init.set_signal(Some(&controller.signal()));
    let request = web_sys::Request::new_with_str_and_init(exchange.url, &init)
        .map_err(|e| ClientError::new(ErrorCode::BadResponse, js_message(&e)))?;
    for (name, value) in &exchange.headers {
        request.headers().set(name, value).map_err(network)?;
    }
    let timed_out = Rc::new(Cell::new(false));
    let _timeout = exchange.timeout_ms.map(|ms| {
        let (controller, timed_out) = (controller.clone(), timed_out.clone());
        gloo_timers::callback::Timeout::new(ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    });
    let signals: Vec<_> = exchange.cancel.into_iter().chain(caller_signal).collect();
    let _links: Vec<EventListener> = signals
        .iter()
        .map(|signal| {
            let controller = controller.clone();
            EventListener::new(signal, "abort", move |_| controller.abort())
        })
        .collect();
    if signals.iter().any(|s| s.aborted()) {
        return Err(ClientError::new(ErrorCode::Aborted, "request cancelled"));
    }
    match JsFuture::from(global_fetch(&request)).await {
        Ok(response) => response
            .dyn_into::<web_sys::Response>()
            .map_err(|_| ClientError::new(ErrorCode::BadResponse, "fetch returned no Response")),
        Err(_) if timed_out.get() => Err(ClientError::new(ErrorCode::Timeout, "no answer in time")),
        Err(_) if controller.signal().aborted() => {
            Err(ClientError::new(ErrorCode::Aborted, "request cancelled"))
        }
        Err(e) => Err(network(e)),
    }
}

/// A response header, if present and readable.
pub(crate) fn header(response: &web_sys::Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// The response body as text (`None`: unreadable).
pub(crate) async fn text(response: &web_sys::Response) -> Option<String> {
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// `Bearer <token>`.
pub(crate) fn bearer(token: &str) -> String {
    let mut value = String::from(consult_core::wire::BEARER);
    value.push_str(token);
    value
}

/// The message of a thrown JavaScript value.
fn js_message(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            js_sys::Reflect::get(value, &"message".into())
                .ok()?
                .as_string()
        })
        .unwrap_or_else(|| String::from("unknown error"))
}

/// Joins a base URL and a path with exactly one slash (an absolute URL is kept).
///
/// ```
/// assert_eq!(consult_client::join_url("http://h:1/", "/api/x"), "http://h:1/api/x");
/// assert_eq!(consult_client::join_url("http://h:1/base", "api/x"), "http://h:1/base/api/x");
/// assert_eq!(consult_client::join_url("http://h:1", "https://other/x"), "https://other/x");
/// ```
pub fn join_url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_owned();
    }
    let mut url = String::from(base.trim_end_matches('/'));
    url.push('/');
    url.push_str(path.trim_start_matches('/'));
    url
}

/// A path segment, percent-encoded (`encodeURIComponent`).
pub(crate) fn encode_segment(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}
