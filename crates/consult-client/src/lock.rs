//! A cross-tab lock over the Web Locks API (`navigator.locks`), always with a timeout: if the
//! lock is not granted in time (or the API is missing), the caller goes on without it — a
//! duplicate refresh is answered with the same successor by the server's reuse window, which is
//! better than a deadlock (supabase's lesson).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Holds the lock until dropped.
pub(crate) struct LockGuard {
    release: js_sys::Function,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Takes the exclusive lock `name`, waiting at most `timeout_ms`. `None`: no lock (timeout or
/// no Web Locks here); go on without it.
pub(crate) async fn acquire(name: &str, timeout_ms: u32) -> Option<LockGuard> {
    let locks = get(&js_sys::global(), "navigator").and_then(|n| get(&n, "locks"))?;
    let request = get(&locks, "request")?
        .dyn_into::<js_sys::Function>()
        .ok()?;

    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let release = release?;
    let mut granted = None;
    let acquired = js_sys::Promise::new(&mut |resolve, _| granted = Some(resolve));
    let granted = granted?;
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = granted.call0(&JsValue::UNDEFINED);
        held.into()
    });

    let controller = web_sys::AbortController::new().ok()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal()).ok()?;
    let pending = request
        .call3(&locks, &JsValue::from_str(name), &options, &callback)
        .ok()?;
    let abort_on_timeout = controller.clone();
    let timer = gloo_timers::callback::Timeout::new(timeout_ms, move || abort_on_timeout.abort());

    let race = js_sys::Promise::race(&js_sys::Array::of2(&acquired, &pending));
    let outcome = JsFuture::from(race).await;
    drop(timer);
    match outcome {
        Ok(_) => Some(LockGuard { release }),
        Err(_) => {
            let _ = release.call0(&JsValue::UNDEFINED);
            None
        }
    }
}
