//! Telling the other tabs: a `BroadcastChannel` carries new tokens and sign-outs, and the
//! `storage` event covers browsers or tabs that miss it. Both lead to [`Inner::adopt_external`].

use std::rc::Weak;

use wasm_bindgen::prelude::*;

use crate::client::Inner;

/// The listeners of one client; removed when dropped.
pub(crate) struct TabSync {
    channel: Option<web_sys::BroadcastChannel>,
    on_message: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
    on_storage: Option<Closure<dyn FnMut(web_sys::StorageEvent)>>,
}

fn field(object: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(object, &JsValue::from_str(key))
        .ok()?
        .as_string()
}

impl TabSync {
    /// Listens on channel `consult:<token key>` and on `storage` events for the token key.
    pub(crate) fn start(inner: Weak<Inner>, token_key: &str) -> TabSync {
        let mut name = String::from("consult:");
        name.push_str(token_key);
        let channel = web_sys::BroadcastChannel::new(&name).ok();
        let on_message = channel.as_ref().map(|channel| {
            let inner = inner.clone();
            let closure = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    let data = event.data();
                    let Some(inner) = inner.upgrade() else { return };
                    match field(&data, "type").as_deref() {
                        Some("token") => {
                            inner.adopt_external(field(&data, "token"), field(&data, "expiresAt"))
                        }
                        Some("signout") => inner.adopt_external(None, None),
                        _ => {}
                    }
                },
            );
            channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
            closure
        });
        let key = token_key.to_owned();
        let on_storage = crate::env::window().map(|window| {
            let closure = Closure::<dyn FnMut(web_sys::StorageEvent)>::new(
                move |event: web_sys::StorageEvent| {
                    if event.key().as_deref() != Some(key.as_str()) {
                        return;
                    }
                    if let Some(inner) = inner.upgrade() {
                        inner.adopt_external(event.new_value(), None);
                    }
                },
            );
            let _ = window
                .add_event_listener_with_callback("storage", closure.as_ref().unchecked_ref());
            closure
        });
        TabSync {
            channel,
            on_message,
            on_storage,
        }
    }

    /// Tells the other tabs about a new token.
    pub(crate) fn announce_token(&self, token: &str, expires_at: &str) {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &"token".into());
        let _ = js_sys::Reflect::set(&message, &"token".into(), &JsValue::from_str(token));
        let _ = js_sys::Reflect::set(
            &message,
            &"expiresAt".into(),
            &JsValue::from_str(expires_at),
        );
        self.post(&message);
    }

    /// Tells the other tabs the session is over.
    pub(crate) fn announce_sign_out(&self) {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &"signout".into());
        self.post(&message);
    }

    fn post(&self, message: &JsValue) {
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(message);
        }
    }
}

impl Drop for TabSync {
    fn drop(&mut self) {
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
        if let (Some(window), Some(closure)) = (crate::env::window(), &self.on_storage) {
            let _ = window
                .remove_event_listener_with_callback("storage", closure.as_ref().unchecked_ref());
        }
        self.on_message = None;
    }
}
