//! Small adapters over the JavaScript environment: time, randomness, sleeping, the global
//! `fetch`, and whether there is a `window` (browser page) at all (there is none in Node or a
//! worker).

use std::rc::Rc;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (works in pages, workers and Node 20).
    #[wasm_bindgen(js_name = fetch)]
    pub(crate) fn global_fetch(request: &web_sys::Request) -> js_sys::Promise;
}

/// A source of "now" in Unix milliseconds (the device clock unless injected).
pub type Now = Rc<dyn Fn() -> f64>;

/// The device clock.
pub fn system_now() -> Now {
    Rc::new(js_sys::Date::now)
}

/// Current time from `now`, as whole milliseconds.
pub(crate) fn now_ms(now: &Now) -> i64 {
    let value = now();
    if value.is_finite() {
        value as i64
    } else {
        js_sys::Date::now() as i64
    }
}

/// A uniform random number in `[0, 1)`.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// Sleeps for `ms` milliseconds (clamped to what `setTimeout` accepts).
pub(crate) async fn sleep_ms(ms: i64) {
    let ms = ms.clamp(0, 2_147_483_647) as u32;
    gloo_timers::future::TimeoutFuture::new(ms).await;
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

/// Runs a task in the background. One `spawn_local` instantiation for the crate (each generic
/// instantiation costs wasm bytes).
pub(crate) fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(task));
}

fn spawn_boxed(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
}
