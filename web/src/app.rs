//! The page: the sign-in form or the consultation screen.

use std::rc::Rc;

use leptos::prelude::*;

use crate::consultation::Consultation;
use crate::live::{Live, Screen};
use crate::signin::SignInForm;

/// Where the live consultation is kept (not `Send`: it holds the wasm client).
pub type LiveSlot = StoredValue<Option<Live>, LocalStorage>;

/// Ends the consultation shown (if any) and returns to the sign-in form with `message`.
pub fn end_consultation(slot: LiveSlot, screen: Screen, message: String) {
    let live = slot.try_update_value(Option::take).flatten();
    if let Some(live) = live {
        live.stop();
    }
    screen.signed_in.set(false);
    screen.signin_message.set(message);
}

/// A callback for the client's `sessionExpired`: ends the consultation on the next tick (not
/// from inside the client's own event dispatch).
pub fn on_session_end(slot: LiveSlot, screen: Screen) -> Rc<dyn Fn(String)> {
    Rc::new(move |message: String| {
        leptos::task::spawn_local(async move { end_consultation(slot, screen, message) });
    })
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let screen = Screen::new();
    let slot: LiveSlot = StoredValue::new_local(None);
    view! {
        <header class="top">
            <h1>"consult"</h1>
            <p class="tagline">"A video consultation that survives token expiry"</p>
        </header>
        <main>
            <Show
                when=move || screen.signed_in.get()
                fallback=move || view! { <SignInForm screen=screen live_slot=slot /> }
            >
                <Consultation screen=screen live_slot=slot />
            </Show>
        </main>
    }
}
