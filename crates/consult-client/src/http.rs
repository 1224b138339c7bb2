//! One HTTP exchange over the global `fetch`, with a timeout and cancellation, mapped to
//! [`ClientError`]s: network failure → `NETWORK`, timeout → `TIMEOUT`, cancel → `ABORTED`.

use std::cell::Cell;
use std::rc::Rc;

use consult_core::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{ClientError, is_abort, js_message};

/// A request to send: method, URL, headers, optional body, or a caller's `RequestInit`.
pub(crate) struct Exchange<'a> {
    /// Absolute URL.
    pub url: &'a str,
    /// Caller's init (method, body, headers…), or a fresh one.
    pub init: web_sys::RequestInit,
    /// Headers to set on top of the init's (e.g. `Authorization`).
    pub headers: Vec<(&'static str, String)>,
    /// Give up after this many milliseconds (0: never).
    pub timeout_ms: u32,
    /// Cancels the request when aborted (poller `stop()`).
    pub cancel: Option<web_sys::AbortSignal>,
}

/// Sends the exchange. The returned response may have any status.
pub(crate) async fn send(exchange: Exchange<'_>) -> Result<web_sys::Response, ClientError> {
    let network = |e: JsValue| {
        let mut message = String::from("request failed: ");
        message.push_str(&js_message(&e));
        ClientError::new(ErrorCode::Network, message)
    };
    let controller = web_sys::AbortController::new().map_err(network)?;
    // The caller's own signal (`init.signal`) must still cancel: link it before replacing it.
    let caller_signal = js_sys::Reflect::get(&exchange.init, &JsValue::from_str("signal"))
        .ok()
        .and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok());
    exchange.init.set_signal(Some(&controller.signal()));
    let request =
        web_sys::Request::new_with_str_and_init(exchange.url, &exchange.init).map_err(|e| {
            let mut message = String::from("bad request: ");
            message.push_str(&js_message(&e));
            ClientError::new(ErrorCode::BadResponse, message)
        })?;
    for (name, value) in &exchange.headers {
        request.headers().set(name, value).map_err(network)?;
    }

    let timed_out = Rc::new(Cell::new(false));
    let _timeout = (exchange.timeout_ms > 0).then(|| {
        let controller = controller.clone();
        let timed_out = timed_out.clone();
        gloo_timers::callback::Timeout::new(exchange.timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    });
    let cancels: Vec<web_sys::AbortSignal> =
        exchange.cancel.into_iter().chain(caller_signal).collect();
    let _links: Vec<CancelLink> = cancels
        .iter()
        .map(|signal| CancelLink::new(signal, &controller))
        .collect();
    if cancels.iter().any(|s| s.aborted()) {
        return Err(ClientError::new(ErrorCode::Aborted, "request cancelled"));
    }

    match JsFuture::from(crate::env::global_fetch(&request)).await {
        Ok(response) => response.dyn_into::<web_sys::Response>().map_err(|_| {
            ClientError::new(ErrorCode::BadResponse, "fetch did not return a Response")
        }),
        Err(_) if timed_out.get() => Err(ClientError::new(
            ErrorCode::Timeout,
            "no answer within the request timeout",
        )),
        Err(e) if is_abort(&e) => Err(ClientError::new(ErrorCode::Aborted, "request cancelled")),
        Err(e) => Err(network(e)),
    }
}

/// Forwards an abort of the caller's signal to the request's controller, while alive.
struct CancelLink {
    signal: web_sys::AbortSignal,
    listener: Closure<dyn FnMut()>,
}

impl CancelLink {
    fn new(signal: &web_sys::AbortSignal, controller: &web_sys::AbortController) -> Self {
        let controller = controller.clone();
        let listener = Closure::<dyn FnMut()>::new(move || controller.abort());
        let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        Self {
            signal: signal.clone(),
            listener,
        }
    }
}

impl Drop for CancelLink {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.listener.as_ref().unchecked_ref());
    }
}

/// A response header, if present and readable.
pub(crate) fn header(response: &web_sys::Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// The response body parsed as JSON.
pub(crate) async fn json(response: &web_sys::Response) -> Result<JsValue, ClientError> {
    let bad = |_| {
        ClientError::with_status(
            ErrorCode::BadResponse,
            "response body is not JSON",
            response.status(),
        )
    };
    let promise = response.json().map_err(bad)?;
    JsFuture::from(promise).await.map_err(bad)
}

/// Joins a base URL and a path with exactly one slash.
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
    let mut url = String::with_capacity(base.len() + path.len() + 1);
    url.push_str(base.trim_end_matches('/'));
    url.push('/');
    url.push_str(path.trim_start_matches('/'));
    url
}
