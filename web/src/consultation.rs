//! The consultation screen: video area, session and room, token panel, fault controls, event log.

use leptos::prelude::*;

use crate::dev_api;
use crate::live::{self, LiveSlot};
use crate::log::{EventLogView, Kind};
use crate::state::Screen;
use crate::token_panel::TokenPanel;

/// The signed-in screen.
#[component]
pub fn Consultation(screen: Screen, live_slot: LiveSlot) -> impl IntoView {
    view! {
        <div id="consultation" class="grid">
            <section class="panel video" aria-label="Video">
                <div id="video" class="video-area" role="img" aria-label="Video placeholder (no media in this demo)">
                    <span>"Video"</span>
                </div>
            </section>
            <SessionPanel screen=screen />
            <TokenPanel token=screen.token history=screen.token_history />
            <SimulatePanel screen=screen live_slot=live_slot />
            <EventLogView log=screen.log />
        </div>
    }
}

/// The session's status, polling, the room and who is in it.
#[component]
fn SessionPanel(screen: Screen) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="session-title">
            <h2 id="session-title">"Session " <code>{move || screen.session_id.get()}</code></h2>
            <dl>
                <dt>"Status"</dt>
                <dd><span id="session-status" class="badge">{move || screen.session_status.get()}</span></dd>
                <dt>"Polling"</dt>
                <dd id="poll-state">{move || screen.poll_state.get()}</dd>
                <dt>"Room"</dt>
                <dd><span id="room-state" class="badge">{move || screen.room_state.get()}</span></dd>
            </dl>
            <h3>"Participants"</h3>
            <ul id="participants">
                <For each=move || screen.participants.get() key=|p| p.user_id.clone() let:person>
                    <li>{format!("{} — {} ({})", person.name, person.user_id, person.role)}</li>
                </For>
            </ul>
        </section>
    }
}

/// Runs a dev call and logs its outcome.
fn logged(
    screen: Screen,
    call: impl Future<Output = Result<(), String>> + 'static,
    done: &'static str,
) {
    leptos::task::spawn_local(async move {
        match call.await {
            Ok(()) => screen.log.add(Kind::Info, done),
            Err(message) => screen.log.add(Kind::Error, message),
        }
    });
}

/// What the server can do to the consultation: a refresh outage, the end of the session, a
/// revoked sign-in.
#[component]
fn SimulatePanel(screen: Screen, live_slot: LiveSlot) -> impl IntoView {
    let outage_size = RwSignal::new(String::from("3"));
    let outage = move |_| {
        let count = outage_size
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(3)
            .clamp(1, 100);
        logged(
            screen,
            dev_api::refresh_outage(count),
            "fault injected: the next refresh requests fail with 503",
        )
    };
    let end_session = move |_| {
        let session_id = screen.session_id.get_untracked();
        logged(
            screen,
            async move { dev_api::end_session(&session_id).await },
            "session ended by the server",
        )
    };
    let revoke = move |_| leptos::task::spawn_local(live::sign_out(live_slot, screen));

    view! {
        <section class="panel" aria-labelledby="faults-title">
            <h2 id="faults-title">"Simulate"</h2>
            <div class="buttons">
                <label for="fault-count">"Failing refreshes"</label>
                <input id="fault-count" type="number" min="1" max="100" prop:value=move || outage_size.get()
                    on:input=move |ev| outage_size.set(event_target_value(&ev)) />
                <button id="fault-refresh" on:click=outage>"Refresh outage"</button>
                <button id="end-session" on:click=end_session>"End the session (server)"</button>
                <button id="revoke" class="danger" on:click=revoke>"Revoke / sign out"</button>
            </div>
        </section>
    }
}
