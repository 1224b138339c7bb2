//! The event log: what happened, with the time, newest first.

use leptos::prelude::*;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique, for keyed rendering.
    pub id: u32,
    /// `refresh`, `retry`, `reconnect`, `error`, `status` or `info` (the CSS colour and the
    /// `data-kind` attribute the end-to-end tests read).
    pub kind: &'static str,
    /// `hh:mm:ss text`.
    pub text: String,
}

/// The log as a signal, with an append method.
#[derive(Clone, Copy)]
pub struct EventLog(pub RwSignal<Vec<Entry>>);

fn clock() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{:02}:{:02}:{:02}",
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        EventLog(RwSignal::new(Vec::new()))
    }

    /// Adds an entry (the log keeps the latest 200).
    pub fn add(&self, kind: &'static str, text: impl Into<String>) {
        let text = format!("{} {}", clock(), text.into());
        self.0.update(|entries| {
            let id = entries.first().map_or(0, |e| e.id + 1);
            entries.insert(0, Entry { id, kind, text });
            entries.truncate(200);
        });
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.0.set(Vec::new());
    }
}

/// The log's list.
#[component]
pub fn EventLogView(log: EventLog) -> impl IntoView {
    view! {
        <section class="panel log" aria-labelledby="log-title">
            <h2 id="log-title">"Event log"</h2>
            <ol id="event-log">
                <For each=move || log.0.get() key=|entry| entry.id let:entry>
                    <li data-kind=entry.kind class=entry.kind>{entry.text}</li>
                </For>
            </ol>
        </section>
    }
}
