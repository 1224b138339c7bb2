//! consult-web: the consultation screen demo. Signs in through the dev endpoint, then shows a
//! consultation that survives token expiry: the token counts down and refreshes itself (with its
//! life on a time line), the room stays joined, the status follows polling and pushes, and
//! injected faults are survived in view.
//!
//! Views: `app` (the page), `signin`, `consultation`, `token_panel`, `timeline`, `log`.
//! State: `state` (the signals). Wiring of consult-client: `live` (open and end a consultation),
//! `token_watch` (token events), `polling`, `room`. Calls to the stub: `dev_api`. Helpers:
//! `json`, `time_format`.

mod app;
mod consultation;
mod dev_api;
mod json;
mod live;
mod log;
mod polling;
mod room;
mod signin;
mod state;
mod time_format;
mod timeline;
mod token_panel;
mod token_watch;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
