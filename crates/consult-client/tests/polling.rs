//! Scenario 7: session polling against the real consult-stub (headless Chromium).

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use consult_client::{ConsultClient, PollEnd, PollOptions, SessionDetails, SessionPoller};
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Default)]
struct Seen {
    updates: Vec<String>,
    errors: Vec<String>,
    end: Option<PollEnd>,
}

async fn signed_in(base: &str, user: &str) -> ConsultClient {
    let client = client(base, &unique_keys("poll"));
    let grant = dev_grant(base, user, 3600).await;
    client.set_session(&grant).await.expect("set session");
    client
}

fn poll(
    client: &ConsultClient,
    session: &str,
    interval_ms: u32,
) -> (SessionPoller, Rc<RefCell<Seen>>) {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let (u, e, n) = (seen.clone(), seen.clone(), seen.clone());
    let poller = client.poll_session(
        session,
        PollOptions {
            interval_ms,
            on_update: Rc::new(move |s: SessionDetails| u.borrow_mut().updates.push(s.status_text)),
            on_error: Some(Rc::new(move |err| {
                e.borrow_mut().errors.push(err.code.as_str().to_owned())
            })),
            on_end: Some(Rc::new(move |end| n.borrow_mut().end = Some(end))),
        },
    );
    (poller, seen)
}

#[wasm_bindgen_test]
async fn polls_never_overlap_even_when_the_server_is_slower_than_the_interval() {
    let base = stub();
    let client = signed_in(base, "p-slow").await;
    let session = create_session(base, "{}").await;
    fault(base, r#"{"target":"sessions","delay_ms":1500}"#).await;
    let gets = stat(base, "session_get").await;

    let (poller, seen) = poll(&client, &session, 100);
    while stat(base, "session_get").await - gets < 3.0 {
        sleep(100).await;
    }
    poller.stop();
    clear_faults(base).await;

    assert_eq!(
        stat(base, "session_in_flight_max").await,
        1.0,
        "at most one request in flight"
    );
    let requests = stat(base, "session_get").await - gets;
    assert!(
        (3.0..=4.0).contains(&requests),
        "sequential polls, each 1.5 s: {requests}"
    );
    until("on_end", || seen.borrow().end.is_some()).await;
    assert_eq!(seen.borrow().end, Some(PollEnd::Stopped));
}

#[wasm_bindgen_test]
async fn unchanged_sessions_are_304s_and_ended_stops_polling() {
    let base = stub();
    let client = signed_in(base, "p-etag").await;
    let session = create_session(base, r#"{"status":"waiting"}"#).await;
    let not_modified = stat(base, "session_not_modified").await;

    let (poller, seen) = poll(&client, &session, 100);
    sleep(600).await;
    assert!(
        stat(base, "session_not_modified").await - not_modified >= 2.0,
        "If-None-Match sent, 304s answered"
    );
    assert_eq!(seen.borrow().updates, ["waiting"], "a 304 is not an update");

    patch_session(base, &session, "active").await;
    until("active", || {
        seen.borrow().updates.last().map(String::as_str) == Some("active")
    })
    .await;
    patch_session(base, &session, "ended").await;
    until("on_end", || seen.borrow().end.is_some()).await;

    assert_eq!(seen.borrow().end, Some(PollEnd::Ended));
    assert!(poller.is_stopped());
    let gets = stat(base, "session_get").await;
    sleep(400).await;
    assert_eq!(
        stat(base, "session_get").await,
        gets,
        "no polls after ended"
    );
}

#[wasm_bindgen_test]
async fn stop_aborts_the_request_in_flight() {
    let base = stub();
    let client = signed_in(base, "p-stop").await;
    let session = create_session(base, "{}").await;
    fault(base, r#"{"target":"sessions","delay_ms":5000}"#).await;

    let (poller, seen) = poll(&client, &session, 100);
    sleep(300).await;
    let stopped_at = js_sys::Date::now();
    poller.stop();
    until("on_end", || seen.borrow().end.is_some()).await;
    let took = js_sys::Date::now() - stopped_at;
    clear_faults(base).await;

    assert_eq!(seen.borrow().end, Some(PollEnd::Stopped));
    assert!(
        took < 1_000.0,
        "stop() did not wait for the 5 s answer: {took} ms"
    );
    assert!(seen.borrow().updates.is_empty() && seen.borrow().errors.is_empty());
}

#[wasm_bindgen_test]
async fn errors_are_reported_and_polling_goes_on() {
    let base = stub();
    let client = signed_in(base, "p-errors").await;
    let session = create_session(base, "{}").await;
    fault(base, r#"{"target":"sessions","fail_next":2,"status":503}"#).await;

    let (poller, seen) = poll(&client, &session, 100);
    until("an update after the errors", || {
        !seen.borrow().updates.is_empty()
    })
    .await;
    drop(poller); // the last handle: polling stops

    until("on_end", || seen.borrow().end.is_some()).await;
    assert_eq!(seen.borrow().end, Some(PollEnd::Stopped));
    assert_eq!(seen.borrow().errors, ["HTTP", "HTTP"]);
    assert_eq!(seen.borrow().updates, ["scheduled"]);
}

#[wasm_bindgen_test]
async fn an_unknown_session_ends_polling_as_not_found() {
    let base = stub();
    let client = signed_in(base, "p-404").await;
    let (_poller, seen) = poll(&client, "no-such-session", 100);
    until("on_end", || seen.borrow().end.is_some()).await;
    assert_eq!(seen.borrow().end, Some(PollEnd::NotFound));
}

/// Regression (issue 18, found by the package's fault soak): the poll machine runs on the
/// monotonic clock. On the client's wall clock, a step back of an hour put the next poll an
/// hour out.
#[wasm_bindgen_test]
async fn polling_goes_on_when_the_wall_clock_steps_back_an_hour() {
    let base = stub();
    let behind = Rc::new(std::cell::Cell::new(0.0));
    let mut options = consult_client::ClientOptions::new(base);
    options.storage = consult_client::StorageKind::Memory;
    options.auto_refresh = false;
    let clock = behind.clone();
    options.now = Some(Rc::new(move || js_sys::Date::now() - clock.get()));
    let client = ConsultClient::new(options).expect("valid options");
    client
        .set_session(&dev_grant(base, "p-wall-step", 3600).await)
        .await
        .expect("set session");
    let session = create_session(base, "{}").await;
    let (poller, _seen) = poll(&client, &session, 100);
    let gets = stat(base, "session_get").await;
    while stat(base, "session_get").await - gets < 2.0 {
        sleep(50).await;
    }
    behind.set(3_600_000.0);
    let at_step = stat(base, "session_get").await;
    sleep(1_000).await;
    let after_step = stat(base, "session_get").await - at_step;
    poller.stop();
    assert!(
        after_step >= 3.0,
        "polls in the second after the step: {after_step}"
    );
}
