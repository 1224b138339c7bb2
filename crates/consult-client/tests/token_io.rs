//! The token driver's I/O in Chromium against the real consult-stub: fetch and the replay after
//! a refused credential, IndexedDB and its localStorage mirror, the Web Lock across two clients,
//! BroadcastChannel messages (good and bad), timers, wake-ups, storage failure, the end of a
//! sign-in, and what dropping a client stops. The token session's logic itself is proven by
//! consult-core's simulator. Run by `scripts/test-browser.sh`.

mod support;

use std::rc::Rc;

use consult_client::{ClientOptions, ConsultClient, ErrorCode, StorageKeys, StorageKind};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Puts a token in localStorage under `keys`, as the seed (or an older version) left it.
fn store(keys: &StorageKeys, token: &str, expires_at: &str) {
    let storage = local_storage();
    storage.set_item(&keys.token, token).unwrap();
    storage.set_item(&keys.expires_at, expires_at).unwrap();
}

fn options(base: &str, keys: &StorageKeys) -> ClientOptions {
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys.clone();
    options.auto_refresh = false;
    options
}

#[wasm_bindgen_test]
async fn a_refreshed_token_goes_to_indexeddb_and_the_seeds_keys_and_a_new_client_reads_it() {
    let base = stub();
    let seed_keys = StorageKeys::default();
    let (expired, expires_at) = dev_token(base, "p-stored", -60).await;
    store(&seed_keys, &expired, &expires_at); // an upgrade from the seed: nothing in IndexedDB
    let client = client(base, &seed_keys);
    let before = stat(base, "refresh_ok").await;

    let token = client.get_valid_token().await.expect("refreshed token");

    assert_ne!(token, expired);
    assert_eq!(stat(base, "refresh_ok").await - before, 1.0);
    assert_eq!(
        idb_token("authToken").await.as_deref(),
        Some(token.as_str())
    );
    let storage = local_storage();
    assert_eq!(
        storage.get_item("authToken").unwrap().as_deref(),
        Some(token.as_str())
    );
    let expiry = storage
        .get_item("tokenExpiresAt")
        .unwrap()
        .unwrap_or_default();
    assert!(expiry.ends_with('Z'), "RFC 3339 UTC: {expiry}");

    // A new page reads IndexedDB, whatever the mirror says.
    storage.set_item("authToken", &expired).unwrap();
    let reloaded = self::client(base, &seed_keys);
    assert_eq!(reloaded.get_valid_token().await.as_ref(), Ok(&token));
    assert_eq!(
        stat(base, "refresh_ok").await - before,
        1.0,
        "no second refresh"
    );

    reloaded.sign_out().await;
    assert_eq!(idb_token("authToken").await, None, "cleared");
    assert_eq!(
        storage.get_item("authToken").unwrap(),
        None,
        "mirror cleared"
    );
}

#[wasm_bindgen_test]
async fn a_refused_credential_gets_one_new_token_and_one_replay() {
    let base = stub();
    let keys = unique_keys("replay");
    // Expired 30 s ago, but the device clock is 10 min slow: the client thinks it is valid, the
    // strict endpoint refuses it, the client gets a new token and replays.
    let (expired, expires_at) = dev_token(base, "p-replay", -30).await;
    store(&keys, &expired, &expires_at);
    let mut options = options(base, &keys);
    options.now = Some(Rc::new(|| js_sys::Date::now() - 600_000.0));
    let client = ConsultClient::new(options).unwrap();
    let ok = stat(base, "refresh_ok").await;

    let response = client
        .fetch("/api/dev/whoami", None)
        .await
        .expect("response");

    assert!(response.ok(), "status {}", response.status());
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0);
    let body = wasm_bindgen_futures::JsFuture::from(response.json().unwrap())
        .await
        .unwrap();
    let token = client.token_info().expect("token").token;
    assert_eq!(
        string(&body, "jti"),
        jti(&token),
        "the replay carried the new token"
    );
}

#[wasm_bindgen_test]
async fn a_request_refused_twice_is_not_replayed_twice() {
    let base = stub();
    let grant = dev_grant(base, "p-loop", 3600).await;
    let session = create_session(base, "{}").await;
    let client = client(base, &unique_keys("loop"));
    client.set_session(&grant).await.unwrap();
    fault(base, r#"{"target":"sessions","fail_next":10,"status":401}"#).await;
    let (ok, faulted) = (
        stat(base, "refresh_ok").await,
        stat(base, "session_faulted").await,
    );

    let result = client.get_session_details(&session).await;
    clear_faults(base).await;

    assert_eq!(result.map_err(|e| e.code), Err(ErrorCode::Http));
    assert_eq!(
        stat(base, "session_faulted").await - faulted,
        2.0,
        "the request and one replay"
    );
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0, "one refresh");
}

#[wasm_bindgen_test]
async fn the_token_never_goes_to_another_origin() {
    let client = client(stub(), &unique_keys("origin"));
    let result = client.fetch("http://127.0.0.2:9/steal", None).await;
    assert_eq!(
        result.map(|r| r.status()).map_err(|e| e.code),
        Err(ErrorCode::OriginNotAllowed)
    );
}

#[wasm_bindgen_test]
async fn two_clients_refresh_once_under_the_web_lock_with_a_zero_reuse_window() {
    let base = url(STUB_REUSE0);
    let keys = unique_keys("tabs");
    let (expired, expires_at) = dev_token(base, "p-tabs", -30).await;
    store(&keys, &expired, &expires_at);
    let (first, second) = (client(base, &keys), client(base, &keys));
    let (ok, rejected) = (
        stat(base, "refresh_ok").await,
        stat(base, "refresh_rejected").await,
    );

    let (a, b) = futures::join!(first.get_valid_token(), second.get_valid_token());

    assert_eq!(
        a.expect("first"),
        b.expect("second"),
        "the second adopted the first's token"
    );
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0);
    assert_eq!(
        stat(base, "refresh_rejected").await - rejected,
        0.0,
        "no reuse"
    );
}

#[wasm_bindgen_test]
async fn a_token_announced_on_the_channel_is_adopted_and_a_bad_message_is_ignored() {
    let base = stub();
    let keys = unique_keys("channel");
    let grant = dev_grant(base, "p-channel", -30).await;
    let (first, second) = (client(base, &keys), client(base, &keys));
    let events = record_events(&second);

    first.set_session(&grant).await.unwrap();
    let fresh = first.get_valid_token().await.expect("refreshed");
    until("the adoption", || {
        second.token_info().map(|t| t.token).as_ref() == Some(&fresh)
    })
    .await;
    assert_eq!(
        count(&events, "tokenRefreshed"),
        0,
        "adopted, not refreshed"
    );

    // Messages that name no token change nothing; a sign-out of the token ends the sign-in.
    let channel = format!("consult:{}", keys.token);
    let delivered = channel_delivered(&channel, 3);
    post_to_channel(&channel, r#"{"type":"token"}"#);
    post_to_channel(&channel, r#"{"type":"token","token":42}"#);
    post_to_channel(&channel, r#"{"type":"bogus","token":"x"}"#);
    delivered.await.expect("delivered");
    assert_eq!(
        second.token_info().map(|t| t.token),
        Some(fresh.clone()),
        "still signed in"
    );
    post_to_channel(
        &channel,
        &format!(r#"{{"type":"signout","token":"{fresh}"}}"#),
    );
    until("the sign-out", || second.token_info().is_none()).await;
}

#[wasm_bindgen_test]
async fn a_storage_that_throws_leaves_the_token_in_memory_with_a_warning() {
    let adapter = js_sys::Function::new_no_args(
        "return { getItem() { return null; }, setItem() { throw new DOMException('full', 'QuotaExceededError'); }, removeItem() {} };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let base = stub();
    let mut options = options(base, &unique_keys("quota"));
    options.storage = StorageKind::Custom(adapter);
    let client = ConsultClient::new(options).unwrap();
    let events = record_events(&client);
    let grant = dev_grant(base, "p-quota", 3600).await;

    client.set_session(&grant).await.expect("still works");

    assert_eq!(
        count(&events, "warning:STORAGE"),
        1,
        "{:?}",
        events.borrow()
    );
    assert_eq!(
        client.get_valid_token().await.as_ref(),
        Ok(&grant.access_token)
    );
}

#[wasm_bindgen_test]
async fn refresh_answers_reach_the_session_a_failure_a_success_then_a_refusal() {
    let base = stub();
    let keys = unique_keys("answers");
    let (expired, expires_at) = dev_token(base, "p-answers", -30).await;
    store(&keys, &expired, &expires_at);
    let client = client(base, &keys);
    let events = record_events(&client);
    fault(base, r#"{"target":"refresh","fail_next":1,"status":503}"#).await;

    let token = client.get_valid_token().await.expect("retried");
    assert_eq!(
        count(&events, "refreshFailed:HTTP"),
        1,
        "{:?}",
        events.borrow()
    );

    // Revoke the sign-in: the refresh endpoint refuses and storage is cleared. (A new client:
    // this one keeps its successful refreshes a few seconds apart.)
    let (status, _) = post_bearer(base, "/api/video/auth/logout", &token).await;
    assert_eq!(status, 204);
    let next = self::client(base, &keys);
    let next_events = record_events(&next);
    let refused = next.refresh_auth_token().await;
    assert_eq!(refused.map_err(|e| e.code), Err(ErrorCode::RefreshRejected));
    assert_eq!(count(&next_events, "sessionExpired"), 1);
    for _ in 0..100 {
        let mirrored = local_storage().get_item(&keys.token).unwrap();
        if mirrored.is_none() && idb_token(&keys.token).await.is_none() {
            return;
        }
        sleep(50).await;
    }
    panic!("storage not cleared");
}

#[wasm_bindgen_test]
async fn a_server_that_is_down_is_a_network_failure_and_the_token_is_kept() {
    let base = url(STUB_RESTARTABLE);
    let keys = unique_keys("down");
    let (expired, expires_at) = dev_token(base, "p-down", -30).await;
    store(&keys, &expired, &expires_at);
    let mut options = options(base, &keys);
    options.refresh_retries = 0;
    let client = ConsultClient::new(options).unwrap();
    supervisor("stop").await;

    let down = client.get_valid_token().await;
    supervisor("start").await;

    assert_eq!(down.map_err(|e| e.code), Err(ErrorCode::Network));
    assert_eq!(client.token_info().map(|t| t.token), Some(expired));
}

#[wasm_bindgen_test]
async fn a_focus_event_refreshes_a_due_token_and_a_dropped_client_no_longer_listens() {
    let base = stub();
    // Fresh tokens on a clock that jumps 59 minutes ahead once loaded (a laptop waking up):
    // the auto-refresh timer would look again in 30 s; the wake-up makes it look now.
    let ahead = Rc::new(std::cell::Cell::new(0.0));
    let loaded = |keys: StorageKeys, token: String| {
        let ahead = ahead.clone();
        async move {
            let mut options = options(base, &keys);
            options.auto_refresh = true;
            options.now = Some(Rc::new(move || js_sys::Date::now() + ahead.get()));
            let client = ConsultClient::new(options).unwrap();
            let grant = consult_client::SessionGrant {
                access_token: token,
                ..Default::default()
            };
            client.set_session(&grant).await.unwrap();
            client
        }
    };
    let (token, _) = dev_token(base, "p-wake", 3600).await;
    let dropped_keys = unique_keys("wake-dropped");
    drop(loaded(dropped_keys.clone(), token.clone()).await);
    let client = loaded(unique_keys("wake"), token).await;
    let events = record_events(&client);
    let before = stat(base, "refresh_ok").await;
    ahead.set(59.0 * 60_000.0);

    let window = web_sys::window().expect("window");
    window
        .dispatch_event(&web_sys::Event::new("focus").unwrap())
        .unwrap();
    until("the refresh", || count(&events, "tokenRefreshed") > 0).await;

    assert_eq!(
        stat(base, "refresh_ok").await - before,
        1.0,
        "only the live client refreshed"
    );
}

#[wasm_bindgen_test]
async fn auto_refresh_renews_a_short_token_before_it_expires() {
    let base = stub();
    let grant = dev_grant(base, "p-auto", 4).await;
    let mut options = ClientOptions::new(base);
    options.storage_keys = unique_keys("auto");
    let client = ConsultClient::new(options).unwrap();
    let events = record_events(&client);
    client.set_session(&grant).await.expect("set session");
    let started = js_sys::Date::now();

    until("the first refresh", || count(&events, "tokenRefreshed") > 0).await;

    assert!(
        js_sys::Date::now() - started < 3_500.0,
        "before the 4 s expiry"
    );
    let info = client.token_info().expect("token");
    assert_ne!(info.token, grant.access_token);
    assert!(
        info.expires_at_ms as f64 > js_sys::Date::now(),
        "the new token is valid"
    );
    client.dispose();
}

/// The caller's `init.signal` still cancels the request.
#[wasm_bindgen_test]
async fn fetch_honours_the_callers_abort_signal() {
    let base = stub();
    let grant = dev_grant(base, "p-signal", 3600).await;
    let client = client(base, &unique_keys("signal"));
    client.set_session(&grant).await.expect("set session");
    fault(base, r#"{"target":"sessions","delay_ms":3000}"#).await;
    let session = create_session(base, "{}").await;
    let controller = web_sys::AbortController::new().unwrap();
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    let abort = controller.clone();
    let _timer = gloo_timers::callback::Timeout::new(200, move || abort.abort());

    let started = js_sys::Date::now();
    let result = client
        .fetch(&format!("/api/video/sessions/{session}"), Some(init))
        .await;
    clear_faults(base).await;

    assert_eq!(
        result.map(|r| r.status()).map_err(|e| e.code),
        Err(ErrorCode::Aborted)
    );
    assert!(
        js_sys::Date::now() - started < 2_000.0,
        "cancelled, not waited out"
    );
}
