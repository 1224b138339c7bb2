//! The dev sign-in form: who, which role, how long the token lives, which session.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::dev_api::DevUser;
use crate::live::{self, LiveSlot, SignIn};
use crate::state::Screen;

/// Sign-in form (dev login through `POST /api/dev/token`).
#[component]
pub fn SignInForm(screen: Screen, live_slot: LiveSlot) -> impl IntoView {
    let user_id = RwSignal::new(String::from("patient-1"));
    let name = RwSignal::new(String::from("Pat Patient"));
    let role = RwSignal::new(String::from("PATIENT"));
    let ttl = RwSignal::new(String::from("14400"));
    let session_id = RwSignal::new(String::from("demo-session"));
    let busy = RwSignal::new(false);

    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        screen.signin_message.set(String::new());
        screen.reset_consultation();
        let request = SignIn {
            user: DevUser {
                user_id: user_id.get_untracked().trim().to_owned(),
                name: name.get_untracked().trim().to_owned(),
                role: role.get_untracked(),
                ttl_secs: ttl.get_untracked().parse().unwrap_or(14_400),
            },
            session_id: session_id.get_untracked().trim().to_owned(),
        };
        leptos::task::spawn_local(async move {
            if let Err(message) = live::sign_in(request, screen, live_slot).await {
                screen
                    .signin_message
                    .set(format!("Sign-in failed: {message}"));
            }
            busy.set(false);
        });
    };

    let text_field = move |id: &'static str, label: &'static str, value: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="text" required prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
        }
    };

    view! {
        <section class="panel signin" aria-labelledby="signin-title">
            <h2 id="signin-title">"Sign in (development)"</h2>
            <p id="signin-message" role="status" class="message">{move || screen.signin_message.get()}</p>
            <form id="signin" on:submit=submit>
                {text_field("user-id", "User id", user_id)}
                {text_field("user-name", "Name", name)}
                <label for="role">"Role"</label>
                <select id="role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=move || role.get()>
                    <option value="PATIENT">"Patient"</option>
                    <option value="DOCTOR">"Doctor"</option>
                </select>
                <label for="ttl">"Token lifetime"</label>
                <select id="ttl" on:change=move |ev| ttl.set(event_target_value(&ev)) prop:value=move || ttl.get()>
                    <option value="14400">"4 hours (production)"</option>
                    <option value="60">"60 seconds (watch it refresh)"</option>
                    <option value="20">"20 seconds (refresh every 10 s)"</option>
                </select>
                {text_field("session-id", "Session", session_id)}
                <button id="signin-button" type="submit" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in and join" }}
                </button>
            </form>
        </section>
    }
}
