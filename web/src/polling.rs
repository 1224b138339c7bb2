//! The session's status by polling `GET /api/video/sessions/{id}` (the room's pushes say the
//! same sooner; polling keeps it right when the socket is down).

use std::rc::Rc;

use consult_client::{ConsultClient, PollEnd, PollOptions, SessionDetails, SessionPoller};
use leptos::prelude::*;

use crate::log::Kind;
use crate::state::Screen;

/// How long polling waits between the end of one request and the next.
const POLL_INTERVAL_MS: u32 = 5_000;

/// Polls `session_id` and shows its status until the session ends or polling is stopped.
pub fn poll_status(client: &ConsultClient, session_id: &str, screen: Screen) -> SessionPoller {
    let log = screen.log;
    screen.poll_state.set(String::from("polling"));
    client.poll_session(
        session_id,
        PollOptions {
            interval_ms: POLL_INTERVAL_MS,
            on_update: Rc::new(move |session: SessionDetails| {
                let status = session.status_text;
                if screen.session_status.get_untracked() != status {
                    log.add(Kind::Status, format!("session status (poll): {status}"));
                }
                screen.session_status.set(status);
            }),
            on_error: Some(Rc::new(move |error| {
                log.add(
                    Kind::Retry,
                    format!("poll failed ({}), backing off", error.message),
                )
            })),
            on_end: Some(Rc::new(move |end: PollEnd| {
                screen.poll_state.set(format!("stopped ({})", end.as_str()));
                log.add(Kind::Info, format!("polling stopped: {}", end.as_str()));
            })),
        },
    )
}
