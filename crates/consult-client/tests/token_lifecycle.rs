//! Browser tests against the real consult-stub: stored tokens, single-flight, tabs, expiry
//! sources and clock skew, faults and session loss, the 401 replay, corrupted storage.
//! Run by `scripts/test-browser.sh` (headless Chromium).

mod support;

use std::rc::Rc;

use consult_client::{ClientOptions, ConsultClient, ErrorCode, StorageKeys, StorageKind};
use futures::future::join_all;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Puts a token in localStorage under `keys`, as a previous page (or the seed) left it.
fn store(keys: &StorageKeys, token: &str, expires_at: &str) {
    let storage = local_storage();
    storage.set_item(&keys.token, token).unwrap();
    storage.set_item(&keys.expires_at, expires_at).unwrap();
}

#[wasm_bindgen_test]
async fn scenario_1_a_stored_expired_token_is_refreshed_once_and_stored() {
    let base = stub();
    let seed_keys = StorageKeys::default();
    let (expired, expires_at) = dev_token(base, "p-stored", -60).await;
    store(&seed_keys, &expired, &expires_at);
    let client = client(base, &seed_keys);
    let before = stat(base, "refresh_ok").await;

    let token = client.get_valid_token().await.expect("refreshed token");

    assert_ne!(token, expired);
    assert_eq!(stat(base, "refresh_ok").await - before, 1.0);
    let storage = local_storage();
    assert_eq!(
        storage.get_item("authToken").unwrap().as_deref(),
        Some(token.as_str())
    );
    let stored_expiry = storage
        .get_item("tokenExpiresAt")
        .unwrap()
        .unwrap_or_default();
    assert!(
        stored_expiry.ends_with('Z'),
        "stored expiry is RFC 3339 UTC: {stored_expiry}"
    );
    assert_eq!(client.token_info().map(|t| t.refresh_count), Some(1));
    assert_eq!(
        client.get_valid_token().await.as_ref(),
        Ok(&token),
        "no second refresh"
    );
    assert_eq!(stat(base, "refresh_ok").await - before, 1.0);
    storage.remove_item("authToken").unwrap();
    storage.remove_item("tokenExpiresAt").unwrap();
}

#[wasm_bindgen_test]
async fn scenario_2_a_hundred_concurrent_calls_inside_the_margin_make_one_refresh() {
    let base = stub();
    let keys = unique_keys("hundred");
    let (token, expires_at) = dev_token(base, "p-hundred", 4 * 3600).await;
    store(&keys, &token, &expires_at);
    // The device clock reads 3 h 58 min ahead: the stored 4 h token is inside the 5 min margin
    // (but not expired, so every caller could still use it).
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys;
    options.auto_refresh = false;
    options.now = Some(Rc::new(|| js_sys::Date::now() + 238.0 * 60_000.0));
    let client = ConsultClient::new(options);
    let before = stat(base, "refresh_ok").await;

    let tokens = join_all((0..100).map(|_| client.get_valid_token())).await;

    assert_eq!(
        stat(base, "refresh_ok").await - before,
        1.0,
        "exactly one refresh"
    );
    let first = tokens[0].clone().expect("token");
    assert!(
        tokens.iter().all(|t| t.as_ref() == Ok(&first)),
        "every caller got the new token"
    );
    assert_ne!(first, token);
    // The refresh measured the skew (device 3 h 58 min fast), so the new token is not due.
    let skew = client.token_info().map(|t| t.skew_ms).unwrap_or_default();
    assert!((skew + 238 * 60_000).abs() < 5_000, "skew {skew}");
    assert_eq!(client.get_valid_token().await.as_ref(), Ok(&first));
    assert_eq!(stat(base, "refresh_ok").await - before, 1.0);
}

async fn two_tabs_refresh_once(base: &'static str) -> (String, String, f64, f64) {
    let keys = unique_keys("tabs");
    let (expired, expires_at) = dev_token(base, "p-tabs", -30).await;
    store(&keys, &expired, &expires_at);
    let first = client(base, &keys);
    let second = client(base, &keys);
    let (ok, rejected) = (
        stat(base, "refresh_ok").await,
        stat(base, "refresh_rejected").await,
    );

    let (a, b) = futures::join!(first.get_valid_token(), second.get_valid_token());

    let a = a.expect("first tab");
    let b = b.expect("second tab");
    (
        a,
        b,
        stat(base, "refresh_ok").await - ok,
        stat(base, "refresh_rejected").await - rejected,
    )
}

#[wasm_bindgen_test]
async fn scenario_3_two_tabs_sharing_local_storage_refresh_once() {
    let (a, b, refreshes, rejected) = two_tabs_refresh_once(stub()).await;
    assert_eq!(a, b, "the second tab adopted the first's token");
    assert_eq!((refreshes, rejected), (1.0, 0.0));
}

#[wasm_bindgen_test]
async fn scenario_3_two_tabs_never_trip_reuse_detection_even_with_a_zero_window() {
    let (a, b, refreshes, rejected) = two_tabs_refresh_once(url(STUB_REUSE0)).await;
    assert_eq!(a, b);
    assert_eq!((refreshes, rejected), (1.0, 0.0), "no token_reused logout");
}

#[wasm_bindgen_test]
async fn scenario_4_a_naive_expires_at_is_not_trusted_over_exp() {
    let base = stub();
    let keys = unique_keys("naive");
    let (token, _) = dev_token(base, "p-naive", 4 * 3600).await;
    // The seed's naive format, claiming expiry in one minute: the token's exp says 4 h.
    let naive =
        js_sys::Date::new(&JsValue::from_f64(js_sys::Date::now() + 60_000.0)).to_iso_string();
    let naive: String = String::from(naive).chars().take(19).collect();
    let client = client(base, &keys);
    client
        .set_session(&consult_client::SessionGrant {
            access_token: token.clone(),
            expires_at: Some(naive),
            expires_in: None,
        })
        .await
        .expect("set session");
    let before = stat(base, "refresh_ok").await;

    assert_eq!(client.get_valid_token().await.as_ref(), Ok(&token));
    let info = client.token_info().expect("token info");
    let remaining = info.expires_at_ms as f64 - js_sys::Date::now();
    assert!(
        remaining > 3.9 * 3600e3,
        "expiry follows exp: {remaining} ms left"
    );
    assert_eq!(stat(base, "refresh_ok").await - before, 0.0);
}

async fn one_refresh_per_lifetime_with_clock_offset(offset_ms: f64) {
    let base = stub();
    let keys = unique_keys("offset");
    // A 4 s token: due at half-life (2 s), whatever the device clock says.
    let grant = dev_grant(base, "p-offset", 4).await;
    let token = grant.access_token.clone();
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys;
    options.auto_refresh = false;
    options.now = Some(Rc::new(move || js_sys::Date::now() + offset_ms));
    let client = ConsultClient::new(options);
    client.set_session(&grant).await.expect("set session");
    let before = stat(base, "refresh_ok").await;

    assert_eq!(
        client.get_valid_token().await.as_ref(),
        Ok(&token),
        "fresh token not refreshed (offset {offset_ms})"
    );
    sleep(2_300).await;
    let second = client.get_valid_token().await.expect("refreshed");
    let third = client.get_valid_token().await.expect("same");

    assert_ne!(second, token);
    assert_eq!(second, third);
    assert_eq!(
        stat(base, "refresh_ok").await - before,
        1.0,
        "one refresh per lifetime (offset {offset_ms})"
    );
}

#[wasm_bindgen_test]
async fn scenario_4_a_clock_one_hour_fast_still_refreshes_once_per_lifetime() {
    one_refresh_per_lifetime_with_clock_offset(3_600_000.0).await;
}

#[wasm_bindgen_test]
async fn scenario_4_a_clock_one_hour_slow_still_refreshes_once_per_lifetime() {
    one_refresh_per_lifetime_with_clock_offset(-3_600_000.0).await;
}

#[wasm_bindgen_test]
async fn scenario_5_transient_refresh_faults_are_retried_without_ending_the_session() {
    let base = stub();
    let keys = unique_keys("faults");
    let (expired, expires_at) = dev_token(base, "p-faults", -30).await;
    store(&keys, &expired, &expires_at);
    let client = client(base, &keys);
    let events = record_events(&client);
    fault(base, r#"{"target":"refresh","fail_next":2,"status":503}"#).await;
    let (ok, faulted) = (
        stat(base, "refresh_ok").await,
        stat(base, "refresh_faulted").await,
    );

    let token = client.get_valid_token().await;
    clear_faults(base).await;

    assert!(token.is_ok(), "{token:?}");
    assert_eq!(stat(base, "refresh_faulted").await - faulted, 2.0);
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0);
    assert_eq!(count(&events, "refreshFailed:HTTP"), 2);
    assert_eq!(count(&events, "sessionExpired"), 0);
}

#[wasm_bindgen_test]
async fn scenario_5_a_refused_refresh_ends_the_session_once() {
    let base = stub();
    let keys = unique_keys("refused");
    let (expired, expires_at) = dev_token(base, "p-refused", -30).await;
    // Revoke the sign-in: the refresh endpoint will answer 401 session_revoked.
    let (status, _) = post_bearer(base, "/api/video/auth/logout", &expired).await;
    assert_eq!(status, 204);
    store(&keys, &expired, &expires_at);
    let client = client(base, &keys);
    let events = record_events(&client);
    let rejected = stat(base, "refresh_rejected").await;

    let first = client.get_valid_token().await;
    let second = client.get_valid_token().await;
    let forced = client.refresh_auth_token().await;

    assert_eq!(first.map_err(|e| e.code), Err(ErrorCode::RefreshRejected));
    assert_eq!(second.map_err(|e| e.code), Err(ErrorCode::RefreshRejected));
    assert_eq!(forced.map_err(|e| e.code), Err(ErrorCode::RefreshRejected));
    assert_eq!(count(&events, "sessionExpired"), 1, "{:?}", events.borrow());
    assert_eq!(
        stat(base, "refresh_rejected").await - rejected,
        1.0,
        "no further requests"
    );
    assert_eq!(
        local_storage().get_item(&keys.token).unwrap(),
        None,
        "storage cleared"
    );
}

#[wasm_bindgen_test]
async fn scenario_5_network_down_keeps_the_token_and_recovers() {
    let base = url(STUB_RESTARTABLE);
    let keys = unique_keys("down");
    let (expired, expires_at) = dev_token(base, "p-down", -30).await;
    store(&keys, &expired, &expires_at);
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys.clone();
    options.auto_refresh = false;
    options.refresh_retries = 1;
    let client = ConsultClient::new(options);
    supervisor("stop").await;

    let down = client.get_valid_token().await;
    let kept = local_storage().get_item(&keys.token).unwrap();
    supervisor("start").await;
    let up = client.get_valid_token().await;

    assert_eq!(down.map_err(|e| e.code), Err(ErrorCode::Network));
    assert_eq!(
        kept.as_deref(),
        Some(expired.as_str()),
        "token kept while the server is down"
    );
    let up = up.expect("recovered after the server came back");
    assert_ne!(up, expired);
    assert_eq!(
        local_storage().get_item(&keys.token).unwrap().as_deref(),
        Some(up.as_str())
    );
}

#[wasm_bindgen_test]
async fn scenario_6_a_401_leads_to_one_refresh_and_one_replay() {
    let base = stub();
    let keys = unique_keys("replay");
    // Stored token expired 30 s ago, but the device clock is 10 min slow: the client thinks it
    // is valid, the strict endpoint answers 401, the client refreshes once and replays.
    let (expired, expires_at) = dev_token(base, "p-replay", -30).await;
    store(&keys, &expired, &expires_at);
    let mut options = ClientOptions::new(base);
    options.storage_keys = keys;
    options.auto_refresh = false;
    options.now = Some(Rc::new(|| js_sys::Date::now() - 600_000.0));
    let client = ConsultClient::new(options);
    let ok = stat(base, "refresh_ok").await;

    let response = client
        .fetch("/api/dev/whoami", None)
        .await
        .expect("response");

    assert_eq!(response.status(), 200);
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
async fn scenario_6_a_request_that_keeps_failing_401_is_not_replayed_twice() {
    let base = stub();
    let keys = unique_keys("loop");
    let grant = dev_grant(base, "p-loop", 3600).await;
    let session = create_session(base, r#"{}"#).await;
    let client = client(base, &keys);
    client.set_session(&grant).await.unwrap();
    fault(base, r#"{"target":"sessions","fail_next":10,"status":401}"#).await;
    let (ok, faulted) = (
        stat(base, "refresh_ok").await,
        stat(base, "session_faulted").await,
    );

    let result = client.get_session_details(&session).await;
    clear_faults(base).await;

    assert_eq!(
        result.map_err(|e| (e.code, e.status)),
        Err((ErrorCode::Http, Some(401)))
    );
    assert_eq!(
        stat(base, "session_faulted").await - faulted,
        2.0,
        "the request and one replay"
    );
    assert_eq!(stat(base, "refresh_ok").await - ok, 1.0, "one refresh");
}

#[wasm_bindgen_test]
async fn scenario_8_corrupted_storage_reads_as_no_session() {
    let base = stub();
    for (token, expires_at) in [
        ("not-a-jwt", "2026-01-26T08:00:00"),
        ("a.b.c", "garbage"),
        ("", ""),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "not a date"),
    ] {
        let keys = unique_keys("corrupt");
        store(&keys, token, expires_at);
        let client = client(base, &keys);
        let result = client.get_valid_token().await;
        assert_eq!(
            result.map_err(|e| e.code),
            Err(ErrorCode::NoToken),
            "{token:?} / {expires_at:?}"
        );
        assert_eq!(
            local_storage().get_item(&keys.token).unwrap().as_deref(),
            Some(token),
            "nothing lost"
        );
    }
}

#[wasm_bindgen_test]
async fn scenario_8_a_throwing_storage_falls_back_to_memory_with_a_warning() {
    let base = stub();
    let adapter = js_sys::Function::new_no_args(
        "return { getItem() { return null; }, setItem() { throw new DOMException('full', 'QuotaExceededError'); }, removeItem() {} };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let mut options = ClientOptions::new(base);
    options.storage = StorageKind::Custom(adapter);
    options.auto_refresh = false;
    let client = ConsultClient::new(options);
    let events = record_events(&client);
    let grant = dev_grant(base, "p-quota", 3600).await;
    let token = grant.access_token.clone();

    client.set_session(&grant).await.expect("still works");

    assert_eq!(
        count(&events, "warning:STORAGE"),
        1,
        "{:?}",
        events.borrow()
    );
    assert_eq!(
        client.get_valid_token().await.as_ref(),
        Ok(&token),
        "served from memory"
    );
}

#[wasm_bindgen_test]
async fn a_focus_event_refreshes_a_due_token_without_any_call() {
    let base = stub();
    let keys = unique_keys("wake");
    let (expired, expires_at) = dev_token(base, "p-wake", -30).await;
    store(&keys, &expired, &expires_at);
    let client = client(base, &keys);
    let events = record_events(&client);

    let window = web_sys::window().expect("window");
    window
        .dispatch_event(&web_sys::Event::new("focus").expect("event"))
        .expect("dispatch");
    for _ in 0..100 {
        if count(&events, "tokenRefreshed") > 0 {
            break;
        }
        sleep(50).await;
    }

    assert_eq!(count(&events, "tokenRefreshed"), 1, "{:?}", events.borrow());
    assert_ne!(
        local_storage().get_item(&keys.token).unwrap().as_deref(),
        Some(expired.as_str())
    );
    client.dispose();
}

#[wasm_bindgen_test]
async fn auto_refresh_renews_a_short_token_before_it_expires() {
    let base = stub();
    let grant = dev_grant(base, "p-auto", 4).await;
    let token = grant.access_token.clone();
    let mut options = ClientOptions::new(base);
    options.storage_keys = unique_keys("auto");
    let client = ConsultClient::new(options);
    let events = record_events(&client);
    client.set_session(&grant).await.expect("set session");

    // Successors keep the 4 s lifetime, so refreshes go on every ~2 s: wait for the first.
    let started = js_sys::Date::now();
    while count(&events, "tokenRefreshed") == 0 && js_sys::Date::now() - started < 3_500.0 {
        sleep(50).await;
    }

    assert!(
        count(&events, "tokenRefreshed") >= 1,
        "refreshed before expiry: {:?}",
        events.borrow()
    );
    assert!(
        js_sys::Date::now() - started < 3_500.0,
        "the first refresh came before the 4 s expiry"
    );
    let info = client.token_info().expect("token");
    assert_ne!(info.token, token);
    assert!(
        info.expires_at_ms as f64 > js_sys::Date::now(),
        "the new token is valid"
    );
    client.dispose();
}

/// Regression: the skew used to be measured from `iat`, which made a just-set but already
/// expired token (iat 4 h ago) look fresh, so it was never refreshed.
#[wasm_bindgen_test]
async fn setting_an_already_expired_session_refreshes_it() {
    let base = stub();
    let grant = dev_grant(base, "p-set-expired", -60).await;
    let client = client(base, &unique_keys("set-expired"));
    client.set_session(&grant).await.expect("set session");
    let before = stat(base, "refresh_ok").await;

    let token = client.get_valid_token().await.expect("refreshed");

    assert_ne!(token, grant.access_token);
    assert_eq!(stat(base, "refresh_ok").await - before, 1.0);
    let skew = client.token_info().map(|t| t.skew_ms).unwrap_or(i64::MAX);
    assert!(skew.abs() < 5_000, "no bogus skew: {skew}");
}

/// Regression: the caller's `init.signal` was replaced by the client's own, so it could not
/// cancel the request.
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
