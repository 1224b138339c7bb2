//! Small adapters over the JavaScript environment: the clock, the page, background tasks,
//! timers and event listeners that go away when dropped.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// A source of "now" in Unix milliseconds (the device clock unless injected).
pub type Now = Rc<dyn Fn() -> f64>;

/// The device clock.
pub fn system_now() -> Now {
    Rc::new(js_sys::Date::now)
}

/// A machine's PRNG seed from the page's randomness, as the JavaScript driver makes it
/// (`Math.random() * 2 ** 52`, its bits): the same page randomness gives both drivers the same
/// jitter (the trace-equality tests fix it and compare).
pub(crate) fn seed() -> u64 {
    (js_sys::Math::random() * 2f64.powi(52)).to_bits()
}

/// Current time from `now`, as whole milliseconds (the device clock if `now` is not finite).
pub(crate) fn now_ms(now: &Now) -> i64 {
    let value = now();
    (if value.is_finite() {
        value
    } else {
        js_sys::Date::now()
    }) as i64
}

/// The monotonic clock (`performance.now()`, ms; the device clock where there is none): every
/// deadline of the token, poll and socket machines runs on it, because wall clocks step.
pub(crate) fn mono_ms() -> i64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    let now = performance
        .as_ref()
        .and_then(|p| js_sys::Reflect::get(p, &"now".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .zip(performance)
        .and_then(|(f, p)| f.call0(&p).ok())
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite());
    now.unwrap_or_else(js_sys::Date::now) as i64
}

/// A `setTimeout` calling `f` at monotonic time `at` ([`mono_ms`]); cancelled when dropped.
pub(crate) fn mono_timer_at(at: i64, f: impl FnOnce() + 'static) -> gloo_timers::callback::Timeout {
    let delay = at.saturating_sub(mono_ms()).clamp(0, i64::from(i32::MAX));
    gloo_timers::callback::Timeout::new(delay as u32, f)
}

/// The page's window, when running in a page.
pub(crate) fn window() -> Option<web_sys::Window> {
    js_sys::global().dyn_into::<web_sys::Window>().ok()
}

/// Whether the page is hidden (false outside a page).
pub(crate) fn page_hidden() -> bool {
    window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Runs a task in the background.
pub(crate) fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(task);
}

/// A listener of `event` on `target`, removed when dropped.
pub(crate) struct EventListener {
    target: web_sys::EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl EventListener {
    /// Starts listening.
    pub(crate) fn new(
        target: &web_sys::EventTarget,
        event: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            event,
            closure,
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let callback = self.closure.as_ref().unchecked_ref();
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, callback);
    }
}
