//! Page wake-ups: timers sleep and are throttled in hidden tabs, so the client re-checks its
//! token when the page becomes visible, comes back online, or gets focus.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::client::Inner;

/// One registered listener: target, event name, callback.
pub(crate) type WakeListener = (web_sys::EventTarget, &'static str, Closure<dyn FnMut()>);

/// Starts listening (in a page only).
pub(crate) fn listen(inner: &Rc<Inner>) {
    let Some(window) = crate::env::window() else {
        return;
    };
    let mut targets: Vec<(web_sys::EventTarget, &'static str)> = vec![
        (window.clone().into(), "online"),
        (window.clone().into(), "focus"),
    ];
    if let Some(document) = window.document() {
        targets.push((document.into(), "visibilitychange"));
    }
    let mut registered = inner.wake_listeners().borrow_mut();
    for (target, event) in targets {
        let weak = Rc::downgrade(inner);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if crate::env::page_hidden() {
                return;
            }
            if let Some(inner) = weak.upgrade() {
                inner.on_wake();
            }
        });
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        registered.push((target, event, closure));
    }
}

/// Stops listening.
pub(crate) fn unlisten(inner: &Inner) {
    for (target, event, closure) in inner.wake_listeners().borrow_mut().drain(..) {
        let _ = target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    }
}
