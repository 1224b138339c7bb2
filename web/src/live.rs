//! A signed-in consultation: the consult client, its session poller, the video room, and the
//! signals the screen shows. Everything here is driven by consult-client's Rust API.

use std::rc::Rc;

use consult_client::{
    ClientEvent, ClientOptions, ConnectionConfig, ConsultClient, EventKind, PollEnd, PollOptions,
    SessionGrant, SessionPoller, VideoSession, VideoSessionOptions,
};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::dev_api::{self, quote, text};
use crate::log::EventLog;

/// What the screen shows; all `Copy` signals.
#[derive(Clone, Copy)]
pub struct Screen {
    /// Whether the consultation screen is shown (else the sign-in form).
    pub signed_in: RwSignal<bool>,
    /// A message above the sign-in form.
    pub signin_message: RwSignal<String>,
    /// The session's status.
    pub session_status: RwSignal<String>,
    /// `polling` or `stopped (reason)`.
    pub poll_state: RwSignal<String>,
    /// The room connection state.
    pub room_state: RwSignal<String>,
    /// Present participants: `(user_id, role, name)`.
    pub participants: RwSignal<Vec<(String, String, String)>>,
    /// Seconds until the token expires (skew-corrected).
    pub expires_in: RwSignal<i64>,
    /// Measured clock skew, ms.
    pub skew_ms: RwSignal<i64>,
    /// Refreshes so far.
    pub refresh_count: RwSignal<u32>,
    /// Time of the last refresh.
    pub last_refresh: RwSignal<String>,
    /// The session shown.
    pub session_id: RwSignal<String>,
    /// The event log.
    pub log: EventLog,
}

impl Screen {
    /// Initial values.
    pub fn new() -> Self {
        Screen {
            signed_in: RwSignal::new(false),
            signin_message: RwSignal::new(String::new()),
            session_status: RwSignal::new(String::from("—")),
            poll_state: RwSignal::new(String::from("—")),
            room_state: RwSignal::new(String::from("—")),
            participants: RwSignal::new(Vec::new()),
            expires_in: RwSignal::new(0),
            skew_ms: RwSignal::new(0),
            refresh_count: RwSignal::new(0),
            last_refresh: RwSignal::new(String::from("—")),
            session_id: RwSignal::new(String::new()),
            log: EventLog::new(),
        }
    }
}

/// What sign-in asks for.
pub struct SignIn {
    /// User id.
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// PATIENT or DOCTOR.
    pub role: String,
    /// Token lifetime, seconds.
    pub ttl_secs: i64,
    /// Session to open.
    pub session_id: String,
}

/// The live objects of a consultation.
pub struct Live {
    client: ConsultClient,
    poller: SessionPoller,
    room: VideoSession,
    _ticker: gloo_timers::callback::Interval,
}

impl Live {
    /// Stops everything (the client's background work, polling, the room).
    pub fn stop(&self) {
        self.poller.stop();
        self.room.disconnect();
        self.client.dispose();
    }

    /// Signs out: the server revokes the sign-in, storage is cleared.
    pub async fn sign_out(&self) {
        self.client.sign_out().await;
        self.stop();
    }
}

fn time_of(ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

fn update_token_panel(client: &ConsultClient, screen: Screen) {
    if let Some(info) = client.token_info() {
        let server_now = js_sys::Date::now() as i64 + info.skew_ms;
        screen
            .expires_in
            .set(((info.expires_at_ms - server_now) / 1000).max(0));
        screen.skew_ms.set(info.skew_ms);
        screen.refresh_count.set(info.refresh_count);
        screen.last_refresh.set(
            info.last_refresh_at_ms
                .map_or_else(|| String::from("—"), time_of),
        );
    }
}

/// Signs in through the dev endpoint and opens the consultation: polling, room, token panel.
pub async fn open(
    request: SignIn,
    screen: Screen,
    on_end: Rc<dyn Fn(String)>,
) -> Result<Live, String> {
    let log = screen.log;
    let body = format!(
        r#"{{"user_id":{},"name":{},"role":{},"ttl_secs":{}}}"#,
        quote(&request.user_id),
        quote(&request.name),
        quote(&request.role),
        request.ttl_secs
    );
    let grant = dev_api::call("POST", "/api/dev/token", Some(body)).await?;
    let client = ConsultClient::new(ClientOptions::new(dev_api::origin()));
    let expires_in = js_sys::Reflect::get(&grant, &"expires_in".into())
        .ok()
        .and_then(|v| v.as_f64());
    client
        .set_session(&SessionGrant {
            access_token: text(&grant, "access_token"),
            expires_at: Some(text(&grant, "expires_at")),
            expires_in,
        })
        .await
        .map_err(|e| e.to_string())?;
    log.add(
        "info",
        format!(
            "signed in as {} ({}), token for {} s",
            request.user_id, request.role, request.ttl_secs
        ),
    );

    let details = match client.get_session_details(&request.session_id).await {
        Ok(details) => details,
        Err(error) if error.status == Some(404) => {
            let body = format!(r#"{{"session_id":{}}}"#, quote(&request.session_id));
            let created = dev_api::call("POST", "/api/dev/sessions", Some(body)).await?;
            log.add("info", format!("created session {}", request.session_id));
            created
        }
        Err(error) => return Err(error.to_string()),
    };
    screen.session_id.set(request.session_id.clone());
    screen.session_status.set(text(&details, "status"));

    subscribe_client_events(&client, screen, on_end.clone());
    let poller = start_polling(&client, &request.session_id, screen);
    let room = join_room(&client, &request, &text(&details, "room_id"), screen);

    let ticking = client.clone();
    update_token_panel(&client, screen);
    let ticker =
        gloo_timers::callback::Interval::new(1_000, move || update_token_panel(&ticking, screen));
    Ok(Live {
        client,
        poller,
        room,
        _ticker: ticker,
    })
}

fn subscribe_client_events(client: &ConsultClient, screen: Screen, on_end: Rc<dyn Fn(String)>) {
    let log = screen.log;
    client.on(
        EventKind::TokenRefreshed,
        Rc::new(move |event| {
            if let ClientEvent::TokenRefreshed(info) = event {
                let left = (info.expires_at_ms - js_sys::Date::now() as i64 - info.skew_ms) / 1000;
                log.add(
                    "refresh",
                    format!(
                        "token refreshed (#{}; valid {} s)",
                        info.refresh_count, left
                    ),
                );
            }
        }),
    );
    client.on(
        EventKind::RefreshFailed,
        Rc::new(move |event| {
            if let ClientEvent::RefreshFailed(error) = event {
                if error.retryable() {
                    log.add(
                        "retry",
                        format!("refresh failed ({}), retrying with backoff", error.message),
                    );
                } else {
                    log.add("error", format!("refresh failed: {error}"));
                }
            }
        }),
    );
    client.on(
        EventKind::SessionExpired,
        Rc::new(move |_| {
            log.add("error", "the server refused the refresh: session over");
            on_end(String::from("Your session expired: please sign in again."));
        }),
    );
    client.on(
        EventKind::Warning,
        Rc::new(move |event| {
            if let ClientEvent::Warning(error) = event {
                log.add("info", format!("warning: {error}"));
            }
        }),
    );
}

fn start_polling(client: &ConsultClient, session_id: &str, screen: Screen) -> SessionPoller {
    let log = screen.log;
    screen.poll_state.set(String::from("polling"));
    client.poll_session(
        session_id,
        PollOptions {
            interval_ms: 5_000,
            on_update: Rc::new(move |session: JsValue| {
                let status = text(&session, "status");
                if screen.session_status.get_untracked() != status {
                    log.add("status", format!("session status (poll): {status}"));
                }
                screen.session_status.set(status);
            }),
            on_error: Some(Rc::new(move |error| {
                log.add(
                    "retry",
                    format!("poll failed ({}), backing off", error.message),
                )
            })),
            on_end: Some(Rc::new(move |end: PollEnd| {
                screen.poll_state.set(format!("stopped ({})", end.as_str()));
                log.add("info", format!("polling stopped: {}", end.as_str()));
            })),
        },
    )
}

fn participant(value: &JsValue) -> (String, String, String) {
    (
        text(value, "user_id"),
        text(value, "role"),
        text(value, "name"),
    )
}

fn join_room(
    client: &ConsultClient,
    request: &SignIn,
    room_id: &str,
    screen: Screen,
) -> VideoSession {
    let log = screen.log;
    let room = client.connect_video_session(VideoSessionOptions {
        url: None,
        session_id: request.session_id.clone(),
        room_id: room_id.to_owned(),
        user_id: request.user_id.clone(),
        role: request.role.clone(),
        reconnection: ConnectionConfig {
            reconnect_attempts: 10,
            ..ConnectionConfig::default()
        },
    });
    room.on(
        "state",
        Rc::new(move |payload: &JsValue| {
            let state = text(payload, "state");
            let reason = text(payload, "reason");
            let kind = match state.as_str() {
                "reconnecting" | "refreshing" => "reconnect",
                "closed" if reason != "client disconnect" => "error",
                _ => "info",
            };
            log.add(kind, format!("room: {state} ({reason})"));
            screen.room_state.set(state);
        }),
    );
    room.on(
        "joined_room",
        Rc::new(move |payload: &JsValue| {
            let list =
                js_sys::Reflect::get(payload, &"participants".into()).unwrap_or(JsValue::UNDEFINED);
            let people = js_sys::Array::from(&list)
                .iter()
                .map(|p| participant(&p))
                .collect();
            screen.participants.set(people);
        }),
    );
    room.on(
        "participant_joined",
        Rc::new(move |payload: &JsValue| {
            let person = participant(payload);
            log.add("info", format!("{} joined", person.0));
            screen.participants.update(|people| {
                if !people.iter().any(|p| p.0 == person.0) {
                    people.push(person);
                }
            });
        }),
    );
    room.on(
        "participant_left",
        Rc::new(move |payload: &JsValue| {
            let gone = text(payload, "user_id");
            log.add("info", format!("{gone} left"));
            screen
                .participants
                .update(|people| people.retain(|p| p.0 != gone));
        }),
    );
    room.on(
        "session_status",
        Rc::new(move |payload: &JsValue| {
            let status = text(payload, "status");
            log.add("status", format!("session status (push): {status}"));
            screen.session_status.set(status);
        }),
    );
    room.on(
        "error",
        Rc::new(move |payload: &JsValue| {
            log.add(
                "error",
                format!(
                    "room error {}: {}",
                    text(payload, "code"),
                    text(payload, "message")
                ),
            );
        }),
    );
    room
}
