//! The other tabs: a `BroadcastChannel` (`consult:<token key>`) carries new tokens and
//! sign-outs both ways, as core's [`TabMessage`] (an object of its fields), and `storage`
//! events of the mirror's token key cover tabs that miss it. What they mean is the token session's business
//! ([`Input::PeerToken`], [`Input::PeerSignedOut`]).

use consult_core::session::Input;
use consult_core::wire::{self, TabMessage};
use wasm_bindgen::prelude::*;

use crate::env::EventListener;

/// The channel and listeners of one client; closed and removed when dropped.
pub(crate) struct Tabs {
    channel: Option<web_sys::BroadcastChannel>,
    _listeners: Vec<EventListener>,
}

impl Tabs {
    /// Listens on the channel and on `storage` events of `mirror_key`; `feed` gets the inputs.
    pub(crate) fn start(
        token_key: &str,
        mirror_key: Option<String>,
        feed: impl Fn(Input) + Clone + 'static,
    ) -> Tabs {
        let channel = web_sys::BroadcastChannel::new(&wire::channel_name(token_key)).ok();
        let mut listeners = Vec::new();
        if let Some(channel) = &channel {
            let feed = feed.clone();
            listeners.push(EventListener::new(channel, "message", move |event| {
                let data = event.unchecked_into::<web_sys::MessageEvent>().data();
                let field =
                    |name: &str| js_sys::Reflect::get(&data, &name.into()).ok()?.as_string();
                if let Some(message) = TabMessage::read(field) {
                    feed(message.into_input());
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

    /// Posts `message` (an object of its fields) to the other tabs.
    pub(crate) fn announce(&self, message: &TabMessage) {
        let object = js_sys::Object::new();
        for (name, value) in message.fields() {
            let _ = js_sys::Reflect::set(&object, &name.into(), &value.into());
        }
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(&object);
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
