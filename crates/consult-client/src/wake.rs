//! Page wake-ups: timers sleep and are throttled in hidden tabs, so the page becoming visible,
//! coming back online or getting focus is fed to the token session as [`Input::Wake`].

use consult_core::session::Input;

use crate::env::{EventListener, page_hidden, window};

/// Listens for wake-ups (in a page only); the listeners go when the result is dropped.
pub(crate) fn listen(feed: impl Fn(Input) + Clone + 'static) -> Vec<EventListener> {
    let Some(window) = window() else {
        return Vec::new();
    };
    let mut targets: Vec<(web_sys::EventTarget, &'static str)> = vec![
        (window.clone().into(), "online"),
        (window.clone().into(), "focus"),
    ];
    if let Some(document) = window.document() {
        targets.push((document.into(), "visibilitychange"));
    }
    targets
        .into_iter()
        .map(|(target, event)| {
            let feed = feed.clone();
            EventListener::new(&target, event, move |_| {
                if !page_hidden() {
                    feed(Input::Wake);
                }
            })
        })
        .collect()
}
