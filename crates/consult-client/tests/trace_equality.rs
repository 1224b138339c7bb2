//! Trace equality, the Rust driver: every scenario of `consult-core/tests/data/traces.json` run
//! through this driver's executor ([`ConsultClient`]) in Chromium, over the scripted world of
//! `tests/support/trace-world.js` (fetch, the storage adapter, timers and both clocks replaced
//! and recorded; completions fed by the script). What the executor did must be, step by step,
//! what core did on the host (consult-core's `tests/trace_equality.rs`); the npm package's
//! executor runs the same scenarios (`tests/package/trace-equality.test.js`). Run by
//! `scripts/test-browser.sh`.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use consult_client::{
    ClientError, ClientEvent, ClientOptions, ConnectionConfig, ConsultClient, EventKind,
    PollOptions, RoomEvent, SessionGrant, SessionPoller, StorageKind, VideoSession,
    VideoSessionOptions,
};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WORLD: &str = include_str!("../../../tests/support/trace-world.js");
const TRACES: &str = include_str!("../../consult-core/tests/data/traces.json");
/// The room events the JavaScript adapter listens to.
const ROOM_EVENTS: [&str; 5] = [
    "joined_room",
    "participant_joined",
    "participant_left",
    "session_status",
    "error",
];

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn set(object: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(object, &key.into(), &value);
}

/// An error as the world records it: `{ code }`.
fn error_value(error: ClientError) -> JsValue {
    let object = Object::new();
    set(&object, "code", error.code.as_str().into());
    object.into()
}

/// A JavaScript function returning a promise of `task`'s answer.
fn promising<F, T>(task: impl Fn(JsValue) -> F + 'static) -> JsValue
where
    F: Future<Output = Result<T, ClientError>> + 'static,
    T: Into<JsValue>,
{
    let function = move |argument: JsValue| -> Promise {
        let answer = task(argument);
        future_to_promise(async move { answer.await.map(Into::into).map_err(error_value) })
    };
    Closure::<dyn Fn(JsValue) -> Promise>::new(function).into_js_value()
}

/// The executor the world drives: a client over the world's adapter, clock and base URL.
fn make_app(world: JsValue) -> JsValue {
    let now: Function = get(&world, "now").unchecked_into();
    let mut options = ClientOptions::new(get(&world, "baseUrl").as_string().unwrap_or_default());
    let storage = get(&world, "storage");
    options.storage = match storage.as_string().as_deref() {
        Some("local") => StorageKind::Local,
        _ => StorageKind::Custom(storage),
    };
    options.request_timeout_ms = 0;
    options.now = Some(Rc::new(move || {
        now.call0(&JsValue::NULL)
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN)
    }));
    let client = match ConsultClient::new(options) {
        Ok(client) => client,
        Err(e) => wasm_bindgen::throw_str(&format!("the client: {e:?}")),
    };
    let app = Object::new();
    let c = client.clone();
    let set_session = Closure::<dyn Fn(JsValue, JsValue) -> Promise>::new(
        move |token: JsValue, expires_in: JsValue| {
            let (c, grant) = (
                c.clone(),
                SessionGrant {
                    access_token: token.as_string().unwrap_or_default(),
                    expires_at: None,
                    expires_in: expires_in.as_f64(),
                },
            );
            future_to_promise(async move {
                c.set_session(&grant).await.map_err(error_value)?;
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    set(&app, "setSession", set_session.into_js_value());
    let c = client.clone();
    set(
        &app,
        "getValidToken",
        promising(move |_| {
            let c = c.clone();
            async move { c.get_valid_token().await }
        }),
    );
    let c = client.clone();
    set(
        &app,
        "refresh",
        promising(move |_| {
            let c = c.clone();
            async move { c.refresh_auth_token().await }
        }),
    );
    let c = client.clone();
    set(
        &app,
        "signOut",
        promising(move |_| {
            let c = c.clone();
            async move {
                c.sign_out().await;
                Ok(JsValue::UNDEFINED)
            }
        }),
    );
    let c = client.clone();
    set(
        &app,
        "fetch",
        promising(move |path: JsValue| {
            let c = c.clone();
            async move {
                let path = path.as_string().unwrap_or_default();
                let response = c.fetch(&path, None).await?;
                Ok(JsValue::from(response.status()))
            }
        }),
    );
    let c = client.clone();
    let on_event = Closure::<dyn Fn(Function)>::new(move |record: Function| {
        for kind in [
            EventKind::TokenRefreshed,
            EventKind::RefreshFailed,
            EventKind::SessionExpired,
            EventKind::TokenChanged,
            EventKind::Warning,
        ] {
            let record = record.clone();
            let listener = move |event: &ClientEvent| {
                let (name, code) = match event {
                    ClientEvent::TokenRefreshed(_) => ("tokenRefreshed", None),
                    ClientEvent::TokenChanged(_) => ("tokenChanged", None),
                    ClientEvent::RefreshFailed(e) => ("refreshFailed", Some(e.code)),
                    ClientEvent::SessionExpired(e) => ("sessionExpired", Some(e.code)),
                    ClientEvent::Warning(e) => ("warning", Some(e.code)),
                };
                let code = code.map_or(JsValue::NULL, |c| c.as_str().into());
                let _ = record.call2(&JsValue::NULL, &name.into(), &code);
            };
            // Subscriptions live as long as the client.
            let _ = c.on(kind, Rc::new(listener));
        }
    });
    set(&app, "onEvent", on_event.into_js_value());
    // The pollers live until the scenario ends (dropping one stops it).
    let pollers: Rc<RefCell<Vec<SessionPoller>>> = Rc::default();
    let (c, kept) = (client.clone(), pollers.clone());
    let poll =
        Closure::<dyn Fn(JsValue, Function)>::new(move |interval: JsValue, report: Function| {
            let say = move |kind: &str, detail: &str| {
                let _ = report.call2(&JsValue::NULL, &kind.into(), &detail.into());
            };
            let say = Rc::new(say);
            let (update, error, end) = (say.clone(), say.clone(), say);
            let options = PollOptions {
                interval_ms: interval.as_f64().unwrap_or(0.0) as u32,
                on_update: Rc::new(move |session| update("update", &session.status_text)),
                on_error: Some(Rc::new(move |e: ClientError| {
                    error("error", e.code.as_str())
                })),
                on_end: Some(Rc::new(move |reason: consult_client::PollEnd| {
                    end("end", reason.as_str())
                })),
            };
            kept.borrow_mut().push(c.poll_session("s1", options));
        });
    set(&app, "poll", poll.into_js_value());
    // The video sessions too.
    let sessions: Rc<RefCell<Vec<VideoSession>>> = Rc::default();
    let (c, kept) = (client.clone(), sessions.clone());
    let connect = Closure::<dyn Fn(Function)>::new(move |report: Function| {
        let options = VideoSessionOptions {
            url: None,
            session_id: "s1".into(),
            room_id: "r1".into(),
            user_id: "u1".into(),
            role: "PATIENT".into(),
            reconnection: ConnectionConfig::default(),
        };
        let session = match c.connect_video_session(options) {
            Ok(session) => session,
            Err(e) => wasm_bindgen::throw_str(&format!("the video session: {e:?}")),
        };
        session.on(Rc::new(move |event: &RoomEvent| {
            let (kind, detail) = match event {
                RoomEvent::State { state, reason } => {
                    ("state", format!("{} {reason}", state.as_str()))
                }
                RoomEvent::JoinedRoom(_) => ("joined_room", String::new()),
                RoomEvent::ParticipantJoined(_) => ("participant_joined", String::new()),
                RoomEvent::ParticipantLeft(_) => ("participant_left", String::new()),
                RoomEvent::SessionStatus(_) => ("session_status", String::new()),
                RoomEvent::Error(_) => ("error", String::new()),
                // A known name whose payload is not the expected shape (the JavaScript
                // driver's listeners get it all the same); any other name is not listened to.
                RoomEvent::Other { name, .. } if ROOM_EVENTS.contains(&name.as_str()) => {
                    (name.as_str(), String::new())
                }
                RoomEvent::Other { .. } => return,
            };
            let detail = if detail.is_empty() {
                JsValue::NULL
            } else {
                detail.into()
            };
            let _ = report.call2(&JsValue::NULL, &kind.into(), &detail);
        }));
        kept.borrow_mut().push(session);
    });
    set(&app, "connect", connect.into_js_value());
    let dispose = Closure::<dyn Fn()>::new(move || {
        for session in sessions.borrow_mut().drain(..) {
            session.disconnect();
        }
        pollers.borrow_mut().clear();
        client.dispose();
    });
    set(&app, "dispose", dispose.into_js_value());
    app.into()
}

#[wasm_bindgen_test]
async fn the_rust_drivers_executor_does_what_core_does_in_every_scenario() {
    js_sys::eval(WORLD).expect("the world script runs");
    let world = get(&js_sys::global(), "ConsultTraceWorld");
    let run: Function = get(&world, "run").unchecked_into();
    let differences: Function = get(&world, "differences").unchecked_into();
    let file = js_sys::JSON::parse(TRACES).expect("traces.json is JSON");
    let scenarios: Array = get(&file, "scenarios").unchecked_into();
    assert!(scenarios.length() >= 5, "traces.json has its scenarios");
    let make_app = Closure::<dyn Fn(JsValue) -> JsValue>::new(make_app).into_js_value();
    let mut lines = Vec::new();
    for scenario in scenarios.iter() {
        let running = run
            .call3(&world, &file, &scenario, &make_app)
            .expect("the world runs the scenario");
        let trace = JsFuture::from(Promise::from(running))
            .await
            .expect("the scenario ran");
        let found: Array = differences
            .call2(&world, &scenario, &trace)
            .expect("the traces compare")
            .unchecked_into();
        lines.extend(found.iter().filter_map(|line| line.as_string()));
    }
    assert!(
        lines.is_empty(),
        "the Rust driver left another trace than core:\n{}",
        lines.join("\n")
    );
}
