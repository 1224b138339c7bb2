//! The event log: what happened, with the time, newest first.

use leptos::prelude::*;

use crate::time_format::{clock, now_ms};

/// What kind of thing happened: the entry's colour, and the `data-kind` attribute the
/// end-to-end tests read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A token refresh succeeded.
    Refresh,
    /// Something failed and is retried.
    Retry,
    /// The room connection is being re-established.
    Reconnect,
    /// Something failed for good.
    Error,
    /// The session's status changed.
    Status,
    /// Anything else.
    Info,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Refresh => "refresh",
            Kind::Retry => "retry",
            Kind::Reconnect => "reconnect",
            Kind::Error => "error",
            Kind::Status => "status",
            Kind::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: u32,
    kind: Kind,
    /// `hh:mm:ss text`.
    text: String,
}

/// The log (a `Copy` signal), newest entry first.
#[derive(Clone, Copy)]
pub struct EventLog(RwSignal<Vec<Entry>>);

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        EventLog(RwSignal::new(Vec::new()))
    }

    /// Adds an entry stamped with the time of day (the log keeps the latest 200).
    pub fn add(&self, kind: Kind, text: impl Into<String>) {
        let text = format!("{} {}", clock(now_ms()), text.into());
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

/// The log's panel.
#[component]
pub fn EventLogView(log: EventLog) -> impl IntoView {
    view! {
        <section class="panel log" aria-labelledby="log-title">
            <h2 id="log-title">"Event log"</h2>
            <ol id="event-log">
                <For each=move || log.0.get() key=|entry| entry.id let:entry>
                    <li data-kind=entry.kind.as_str() class=entry.kind.as_str()>{entry.text}</li>
                </For>
            </ol>
        </section>
    }
}
