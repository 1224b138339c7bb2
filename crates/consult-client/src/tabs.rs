//! The other tabs: a `BroadcastChannel` (`consult:<token key>`) carries new tokens and
//! sign-outs both ways, and `storage` events of the mirror's token key cover tabs that miss it.
//! What they mean is the token session's business ([`Input::PeerToken`],
//! [`Input::PeerSignedOut`]).

use consult_core::session::Input;
use wasm_bindgen::prelude::*;

use crate::env::EventListener;

/// The channel and listeners of one client; closed and removed when dropped.
pub(crate) struct Tabs {
    channel: Option<web_sys::BroadcastChannel>,
    _listeners: Vec<EventListener>,
}

fn text(object: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(object, &key.into()).ok()?.as_string()
}

/// What a channel message says: `{type: "token", token, expiresAt?, replaces?}` with a string
/// token, or `{type: "signout", token?}`. Anything else is ignored.
fn message_input(data: &JsValue) -> Option<Input> {
    match text(data, "type")?.as_str() {
        "token" => Some(Input::PeerToken {
            token: text(data, "token")?,
            expires_at: text(data, "expiresAt"),
            replaces: text(data, "replaces"),
        }),
        "signout" => Some(Input::PeerSignedOut {
            token: text(data, "token"),
        }),
        _ => None,
    }
}

impl Tabs {
    /// Listens on the channel and on `storage` events of `mirror_key`; `feed` gets the inputs.
    pub(crate) fn start(
        token_key: &str,
        mirror_key: Option<String>,
        feed: impl Fn(Input) + Clone + 'static,
    ) -> Tabs {
        let mut name = String::from("consult:");
        name.push_str(token_key);
        let channel = web_sys::BroadcastChannel::new(&name).ok();
        let mut listeners = Vec::new();
        if let Some(channel) = &channel {
            let feed = feed.clone();
            listeners.push(EventListener::new(channel, "message", move |event| {
                let data = event.unchecked_into::<web_sys::MessageEvent>().data();
                if let Some(input) = message_input(&data) {
                    feed(input);
                }
            }));
        }
        if let (Some(window), Some(key)) = (crate::env::window(), mirror_key) {
            listeners.push(EventListener::new(&window, "storage", move |event| {
                let event: web_sys::StorageEvent = event.unchecked_into();
                if event.key().as_deref() == Some(key.as_str()) {
                    feed(match event.new_value() {
                        // The old value is the token this write replaced.
                        Some(token) => Input::PeerToken {
                            token,
                            expires_at: None,
                            replaces: event.old_value(),
                        },
                        None => Input::PeerSignedOut {
                            token: event.old_value(),
                        },
                    });
                }
            }));
        }
        Tabs {
            channel,
            _listeners: listeners,
        }
    }

    /// Posts `{type, token, expiresAt?, replaces?}` to the other tabs.
    pub(crate) fn announce(
        &self,
        kind: &str,
        token: &str,
        expires_at: Option<&str>,
        replaces: Option<&str>,
    ) {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
        let _ = js_sys::Reflect::set(&message, &"token".into(), &token.into());
        if let Some(expires_at) = expires_at {
            let _ = js_sys::Reflect::set(&message, &"expiresAt".into(), &expires_at.into());
        }
        if let Some(replaces) = replaces {
            let _ = js_sys::Reflect::set(&message, &"replaces".into(), &replaces.into());
        }
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(&message);
        }
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        if let Some(channel) = &self.channel {
            channel.close();
        }
    }
}
