//! The consultation screen: status, room, token panel, fault controls, event log, video area.

use leptos::prelude::*;

use crate::app::{LiveSlot, end_consultation};
use crate::dev_api;
use crate::live::Screen;
use crate::log::EventLogView;

/// Runs a dev call and logs its outcome.
fn dev_action(
    screen: Screen,
    method: &'static str,
    path: String,
    body: Option<String>,
    done: &'static str,
) {
    leptos::task::spawn_local(async move {
        match dev_api::call(method, &path, body).await {
            Ok(_) => screen.log.add("info", done),
            Err(message) => screen.log.add("error", message),
        }
    });
}

/// The signed-in screen.
#[component]
pub fn Consultation(screen: Screen, live_slot: LiveSlot) -> impl IntoView {
    let outage_count = RwSignal::new(String::from("3"));
    let outage = move |_| {
        let count: u32 = outage_count
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(3)
            .clamp(1, 100);
        dev_action(
            screen,
            "POST",
            String::from("/api/dev/faults"),
            Some(format!(
                r#"{{"target":"refresh","fail_next":{count},"status":503}}"#
            )),
            "fault injected: the next refresh requests fail with 503",
        )
    };
    let end_session = move |_| {
        let path = format!("/api/dev/sessions/{}", screen.session_id.get_untracked());
        dev_action(
            screen,
            "PATCH",
            path,
            Some(String::from(r#"{"status":"ended"}"#)),
            "session ended by the server",
        )
    };
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            let live = live_slot.try_update_value(Option::take).flatten();
            if let Some(live) = live {
                live.sign_out().await;
            }
            end_consultation(
                live_slot,
                screen,
                String::from("Signed out: the sign-in was revoked on the server."),
            );
        });
    };

    view! {
        <div id="consultation" class="grid">
            <section class="panel video" aria-label="Video">
                <div id="video" class="video-area" role="img" aria-label="Video placeholder (no media in this demo)">
                    <span>"Video"</span>
                </div>
            </section>
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
                    <For each=move || screen.participants.get() key=|p| p.0.clone() let:person>
                        <li>{format!("{} — {} ({})", person.2, person.0, person.1)}</li>
                    </For>
                </ul>
            </section>
            <section class="panel" aria-labelledby="token-title">
                <h2 id="token-title">"Token"</h2>
                <dl>
                    <dt>"Expires in"</dt>
                    <dd><span id="token-expires-in">{move || screen.expires_in.get()}</span>" s"</dd>
                    <dt>"Clock skew"</dt>
                    <dd><span id="token-skew">{move || screen.skew_ms.get()}</span>" ms"</dd>
                    <dt>"Refreshes"</dt>
                    <dd id="refresh-count">{move || screen.refresh_count.get()}</dd>
                    <dt>"Last refresh"</dt>
                    <dd id="last-refresh">{move || screen.last_refresh.get()}</dd>
                </dl>
            </section>
            <section class="panel" aria-labelledby="faults-title">
                <h2 id="faults-title">"Simulate"</h2>
                <div class="buttons">
                    <label for="fault-count">"Failing refreshes"</label>
                    <input id="fault-count" type="number" min="1" max="100" prop:value=move || outage_count.get()
                        on:input=move |ev| outage_count.set(event_target_value(&ev)) />
                    <button id="fault-refresh" on:click=outage>"Refresh outage"</button>
                    <button id="end-session" on:click=end_session>"End the session (server)"</button>
                    <button id="revoke" class="danger" on:click=revoke>"Revoke / sign out"</button>
                </div>
            </section>
            <EventLogView log=screen.log />
        </div>
    }
}
