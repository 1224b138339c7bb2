//! consult-web: the consultation screen demo. Signs in through the dev endpoint, then shows a
//! consultation that survives token expiry: the token counts down and refreshes itself, the room
//! stays joined, the status follows polling and pushes, and injected faults are survived in view.

mod app;
mod consultation;
mod dev_api;
mod live;
mod log;
mod signin;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
