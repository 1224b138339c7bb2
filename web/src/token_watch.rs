//! The client's token events on screen: the token panel, the time line and the log follow
//! `TokenChanged`, `TokenRefreshed`, `RefreshFailed`, `SessionExpired` and `Warning`.

use std::rc::Rc;

use consult_client::{ClientEvent, ConsultClient, EventKind};
use leptos::prelude::*;

use crate::log::Kind;
use crate::state::Screen;
use crate::time_format::{duration, now_ms};

/// Shows the client's token and its events; `on_end` runs when the server refuses a refresh
/// (the sign-in is over). The listeners live as long as the client.
pub fn watch_token(client: &ConsultClient, screen: Screen, on_end: Rc<dyn Fn(String)>) {
    let log = screen.log;
    if let Some(snapshot) = client.token_info() {
        screen
            .token_history
            .update(|history| history.token_changed(&snapshot, now_ms()));
        screen.token.set(Some(snapshot));
    }
    client.on(
        EventKind::TokenChanged,
        Rc::new(move |event| {
            if let ClientEvent::TokenChanged(snapshot) = event {
                if let Some(snapshot) = snapshot {
                    screen
                        .token_history
                        .update(|history| history.token_changed(snapshot, now_ms()));
                }
                screen.token.set(snapshot.clone());
            }
        }),
    );
    client.on(
        EventKind::TokenRefreshed,
        Rc::new(move |event| {
            if let ClientEvent::TokenRefreshed(snapshot) = event {
                screen
                    .token_history
                    .update(|history| history.refreshed(snapshot));
                let valid_ms = snapshot.expires_at_ms - snapshot.skew_ms - now_ms();
                log.add(
                    Kind::Refresh,
                    format!(
                        "token refreshed (#{}; valid {})",
                        snapshot.refresh_count,
                        duration(valid_ms)
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
                        Kind::Retry,
                        format!("refresh failed ({}), retrying with backoff", error.message),
                    );
                } else {
                    log.add(Kind::Error, format!("refresh failed: {error}"));
                }
            }
        }),
    );
    client.on(
        EventKind::SessionExpired,
        Rc::new(move |_| {
            log.add(Kind::Error, "the server refused the refresh: session over");
            on_end(String::from("Your session expired: please sign in again."));
        }),
    );
    client.on(
        EventKind::Warning,
        Rc::new(move |event| {
            if let ClientEvent::Warning(error) = event {
                log.add(Kind::Info, format!("warning: {error}"));
            }
        }),
    );
}
