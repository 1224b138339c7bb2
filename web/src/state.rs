//! What the page shows, as signals: written by the client's callbacks (token, polling, room),
//! read by the views. Every field is a `Copy` signal, so `Screen` is `Copy`.

use consult_client::{Participant, TokenSnapshot};
use leptos::prelude::*;

use crate::log::EventLog;
use crate::timeline::TokenHistory;

/// The page's state.
#[derive(Clone, Copy)]
pub struct Screen {
    /// Whether the consultation screen is shown (else the sign-in form).
    pub signed_in: RwSignal<bool>,
    /// A message above the sign-in form (why the last consultation ended, or why sign-in failed).
    pub signin_message: RwSignal<String>,
    /// The session shown.
    pub session_id: RwSignal<String>,
    /// The session's status, from polling and pushes.
    pub session_status: RwSignal<String>,
    /// `polling` or `stopped (reason)`.
    pub poll_state: RwSignal<String>,
    /// The room connection state.
    pub room_state: RwSignal<String>,
    /// Who is in the room.
    pub participants: RwSignal<Vec<Participant>>,
    /// The current token, as the client last reported it.
    pub token: RwSignal<Option<TokenSnapshot>>,
    /// The tokens of this sign-in and their refreshes (the time line).
    pub token_history: RwSignal<TokenHistory>,
    /// The event log.
    pub log: EventLog,
}

impl Screen {
    /// The page before sign-in.
    pub fn new() -> Self {
        Screen {
            signed_in: RwSignal::new(false),
            signin_message: RwSignal::new(String::new()),
            session_id: RwSignal::new(String::new()),
            session_status: RwSignal::new(String::from("—")),
            poll_state: RwSignal::new(String::from("—")),
            room_state: RwSignal::new(String::from("—")),
            participants: RwSignal::new(Vec::new()),
            token: RwSignal::new(None),
            token_history: RwSignal::new(TokenHistory::default()),
            log: EventLog::new(),
        }
    }

    /// Back to the state before sign-in, except the sign-in message.
    pub fn reset_consultation(&self) {
        self.session_status.set(String::from("—"));
        self.poll_state.set(String::from("—"));
        self.room_state.set(String::from("—"));
        self.participants.set(Vec::new());
        self.token.set(None);
        self.token_history.set(TokenHistory::default());
        self.log.clear();
    }
}
