//! The cross-tab refresh lock over the Web Locks API (`navigator.locks`). No timeout here: the
//! token session has the deadline and gives the request up ([`HeldLock`] is dropped).

use wasm_bindgen::prelude::*;

/// A requested lock, granted or not yet; dropping it releases the lock or withdraws the request.
pub(crate) struct HeldLock {
    /// Aborts the request while it is pending.
    controller: web_sys::AbortController,
    /// Resolves the promise the lock callback returned, which releases a granted lock.
    release: js_sys::Function,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.controller.abort();
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Asks for the exclusive lock `name`; `granted` runs once it is held. `None`: no Web Locks.
pub(crate) fn request(name: &str, granted: impl FnOnce() + 'static) -> Option<HeldLock> {
    let locks = get(&js_sys::global(), "navigator").and_then(|n| get(&n, "locks"))?;
    let request: js_sys::Function = get(&locks, "request")?.dyn_into().ok()?;
    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let release = release?;
    // Called at most once; a request withdrawn first never calls it (and it leaks, a few bytes).
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        granted();
        held.into()
    });
    let controller = web_sys::AbortController::new().ok()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"signal".into(), &controller.signal()).ok()?;
    let pending = request
        .call3(&locks, &name.into(), &options, &callback)
        .ok()?;
    // A withdrawn request rejects with AbortError: expected, so handled (never "unhandled").
    if let Ok(pending) = pending.dyn_into::<js_sys::Promise>() {
        crate::env::spawn(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(pending).await;
        });
    }
    Some(HeldLock {
        controller,
        release,
    })
}
