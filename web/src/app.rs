//! The page: the sign-in form or the consultation screen.

use leptos::prelude::*;

use crate::consultation::Consultation;
use crate::live::LiveSlot;
use crate::signin::SignInForm;
use crate::state::Screen;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let screen = Screen::new();
    let live_slot: LiveSlot = StoredValue::new_local(None);
    view! {
        <header class="top">
            <h1>"consult"</h1>
            <p class="tagline">"A video consultation that survives token expiry"</p>
        </header>
        <main>
            <Show
                when=move || screen.signed_in.get()
                fallback=move || view! { <SignInForm screen=screen live_slot=live_slot /> }
            >
                <Consultation screen=screen live_slot=live_slot />
            </Show>
        </main>
    }
}
