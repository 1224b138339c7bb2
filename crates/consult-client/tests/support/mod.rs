//! Browser-test helpers: the stub's URLs (given at compile time by the test script), dev
//! endpoint calls, counters, and storage keys unique to each test.
#![allow(dead_code)] // each test file uses a part

use std::cell::RefCell;
use std::rc::Rc;

use consult_client::{ClientOptions, ConsultClient, EventKind, StorageKeys, StorageKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The main consult-stub (defaults: 30 s reuse window).
pub const STUB: Option<&str> = option_env!("CONSULT_STUB_URL");
/// A consult-stub with a 0 s reuse window.
pub const STUB_REUSE0: Option<&str> = option_env!("CONSULT_STUB_REUSE0_URL");
/// A consult-stub the supervisor can stop and start (same port, same secret).
pub const STUB_RESTARTABLE: Option<&str> = option_env!("CONSULT_STUB_RESTARTABLE_URL");
/// The supervisor's control endpoint.
pub const SUPERVISOR: Option<&str> = option_env!("CONSULT_SUPERVISOR_URL");

pub fn url(of: Option<&'static str>) -> &'static str {
    match of {
        Some(url) => url,
        None => panic!("stub URLs are set at compile time by scripts/test-browser.sh"),
    }
}

pub fn stub() -> &'static str {
    url(STUB)
}

async fn send(
    method: &str,
    full_url: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> (u16, JsValue) {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().expect("headers");
    if let Some(body) = body {
        headers
            .set("content-type", "application/json")
            .expect("content-type");
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(token) = bearer {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .expect("authorization");
    }
    init.set_headers(&headers);
    let window = web_sys::window().expect("window");
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(full_url, &init))
            .await
            .expect("dev request")
            .unchecked_into();
    let status = response.status();
    let text = JsFuture::from(response.text().expect("text"))
        .await
        .expect("body")
        .as_string()
        .unwrap_or_default();
    let json = js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL);
    (status, json)
}

pub async fn post(base: &str, path: &str, body: &str) -> (u16, JsValue) {
    send("POST", &format!("{base}{path}"), Some(body), None).await
}

pub async fn get_with_token(base: &str, path: &str, token: &str) -> (u16, JsValue) {
    send("GET", &format!("{base}{path}"), None, Some(token)).await
}

pub fn field(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn string(value: &JsValue, key: &str) -> String {
    field(value, key).as_string().unwrap_or_default()
}

/// A dev token: `(access_token, expires_at)`.
pub async fn dev_token(base: &str, user: &str, ttl_secs: i64) -> (String, String) {
    let grant = dev_grant(base, user, ttl_secs).await;
    (grant.access_token, grant.expires_at.unwrap_or_default())
}

/// A dev sign-in as the client gets it: token, `expires_at`, `expires_in`.
pub async fn dev_grant(base: &str, user: &str, ttl_secs: i64) -> consult_client::SessionGrant {
    let (status, body) = post(
        base,
        "/api/dev/token",
        &format!(r#"{{"user_id":"{user}","ttl_secs":{ttl_secs}}}"#),
    )
    .await;
    assert_eq!(status, 200, "dev token");
    consult_client::SessionGrant {
        access_token: string(&body, "access_token"),
        expires_at: Some(string(&body, "expires_at")),
        expires_in: field(&body, "expires_in").as_f64(),
    }
}

pub async fn create_session(base: &str, body: &str) -> String {
    let (status, session) = post(base, "/api/dev/sessions", body).await;
    assert_eq!(status, 201, "create session");
    string(&session, "session_id")
}

pub async fn patch_session(base: &str, id: &str, status_name: &str) {
    let (status, _) = send(
        "PATCH",
        &format!("{base}/api/dev/sessions/{id}"),
        Some(&format!(r#"{{"status":"{status_name}"}}"#)),
        None,
    )
    .await;
    assert_eq!(status, 200, "patch session");
}

pub async fn fault(base: &str, body: &str) {
    let (status, _) = post(base, "/api/dev/faults", body).await;
    assert_eq!(status, 204, "set fault");
}

pub async fn clear_faults(base: &str) {
    send("DELETE", &format!("{base}/api/dev/faults"), None, None).await;
}

/// One counter of `/api/dev/stats`.
pub async fn stat(base: &str, name: &str) -> f64 {
    let (_, stats) = send("GET", &format!("{base}/api/dev/stats"), None, None).await;
    field(&stats, name).as_f64().unwrap_or(f64::NAN)
}

/// Asks the supervisor to stop or start the restartable stub.
pub async fn supervisor(action: &str) {
    let (status, _) = send(
        "POST",
        &format!("{}/{action}", url(SUPERVISOR)),
        Some("{}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "supervisor {action}");
}

/// Storage keys no other test uses.
pub fn unique_keys(name: &str) -> StorageKeys {
    let n = (js_sys::Math::random() * 1e9) as u64;
    StorageKeys {
        token: format!("{name}-token-{n}"),
        expires_at: format!("{name}-exp-{n}"),
    }
}

pub fn local_storage() -> web_sys::Storage {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage")
}

/// A client on `base` with localStorage under unique keys, no background refresh.
pub fn client(base: &str, keys: &StorageKeys) -> ConsultClient {
    let mut options = ClientOptions::new(base);
    options.storage = StorageKind::Local;
    options.storage_keys = keys.clone();
    options.auto_refresh = false;
    ConsultClient::new(options).expect("valid options")
}

/// Waits (50 ms steps, at most 10 s) until `condition` holds.
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out waiting for {what}");
}

/// The token IndexedDB holds under `key` (database `consult`, store `tokens`), read as another
/// page would.
pub async fn idb_token(key: &str) -> Option<String> {
    let read = js_sys::Function::new_with_args(
        "key",
        "return new Promise((resolve, reject) => {
           const open = indexedDB.open('consult', 1);
           open.onupgradeneeded = () => open.result.createObjectStore('tokens');
           open.onerror = () => reject(open.error);
           open.onsuccess = () => {
             const db = open.result;
             const get = db.transaction('tokens').objectStore('tokens').get(key);
             get.onsuccess = () => { db.close(); resolve(get.result ? get.result.token : null); };
             get.onerror = () => reject(get.error);
           };
         });",
    );
    let promise: js_sys::Promise = read
        .call1(&JsValue::NULL, &key.into())
        .expect("idb")
        .unchecked_into();
    JsFuture::from(promise).await.expect("idb read").as_string()
}

/// A promise that resolves once a listener of channel `name`, added now, has received `n`
/// messages. Added after a client's, it sees each message after the client did.
pub fn channel_delivered(name: &str, n: u32) -> JsFuture {
    let wait = js_sys::Function::new_with_args(
        "name, n",
        "return new Promise((resolve) => {
           const channel = new BroadcastChannel(name);
           let seen = 0;
           channel.onmessage = () => { if (++seen === n) { channel.close(); setTimeout(resolve, 0); } };
         });",
    );
    let promise = wait
        .call2(&JsValue::NULL, &name.into(), &n.into())
        .expect("channel listener");
    JsFuture::from(js_sys::Promise::from(promise))
}

/// Posts `message` (JSON text) on the BroadcastChannel `name`, as another tab would.
pub fn post_to_channel(name: &str, message: &str) {
    let channel = web_sys::BroadcastChannel::new(name).expect("channel");
    let data = js_sys::JSON::parse(message).expect("json");
    channel.post_message(&data).expect("post");
    channel.close();
}

/// Records the names of the events a client emits.
pub fn record_events(client: &ConsultClient) -> Rc<RefCell<Vec<String>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    for (kind, name) in [
        (EventKind::TokenRefreshed, "tokenRefreshed"),
        (EventKind::RefreshFailed, "refreshFailed"),
        (EventKind::SessionExpired, "sessionExpired"),
        (EventKind::TokenChanged, "tokenChanged"),
        (EventKind::Warning, "warning"),
    ] {
        let log = log.clone();
        client.on(
            kind,
            Rc::new(move |event| {
                let detail = match event {
                    consult_client::ClientEvent::RefreshFailed(e)
                    | consult_client::ClientEvent::SessionExpired(e)
                    | consult_client::ClientEvent::Warning(e) => format!(":{}", e.code.as_str()),
                    _ => String::new(),
                };
                log.borrow_mut().push(format!("{name}{detail}"));
            }),
        );
    }
    log
}

pub fn count(log: &Rc<RefCell<Vec<String>>>, prefix: &str) -> usize {
    log.borrow()
        .iter()
        .filter(|e| e.starts_with(prefix))
        .count()
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The `jti` claim of a token.
pub fn jti(token: &str) -> String {
    let payload = consult_core::jwt::payload_json(token).expect("jwt");
    let claims = js_sys::JSON::parse(&payload).expect("json");
    string(&claims, "jti")
}

pub async fn post_bearer(base: &str, path: &str, token: &str) -> (u16, JsValue) {
    send("POST", &format!("{base}{path}"), None, Some(token)).await
}
