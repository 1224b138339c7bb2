//! The token panel: time left (`h:mm:ss`), clock skew, refreshes, the last refresh, and the
//! token's time line. It keeps its own clock, ticking every second while it is shown.

use std::time::Duration;

use consult_client::TokenSnapshot;
use leptos::prelude::*;

use crate::time_format::{clock, duration, now_ms, skew};
use crate::timeline::{TokenHistory, TokenTimeline};

/// This device's clock as a signal that ticks every second while the calling view lives.
fn ticking_clock() -> RwSignal<i64> {
    let now = RwSignal::new(now_ms());
    if let Ok(interval) =
        set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || interval.clear());
    }
    now
}

/// The token panel.
#[component]
pub fn TokenPanel(
    token: RwSignal<Option<TokenSnapshot>>,
    history: RwSignal<TokenHistory>,
) -> impl IntoView {
    let now = ticking_clock();
    // A new token is read against the time it arrived, not the last tick.
    Effect::new(move |_| {
        token.track();
        now.set(now_ms());
    });
    let field = move |show: fn(&TokenSnapshot, i64) -> String| {
        move || {
            token.with(|token| {
                token
                    .as_ref()
                    .map_or_else(|| String::from("—"), |t| show(t, now.get()))
            })
        }
    };
    // Time left on the server's clock: the device's clock plus the skew.
    let expires_in = field(|t, now| duration((t.expires_at_ms - t.skew_ms - now).max(0)));
    let clock_skew = field(|t, _| skew(t.skew_ms));
    let refreshes = field(|t, _| t.refresh_count.to_string());
    let last_refresh = field(|t, now| {
        t.last_refresh_at_ms.map_or_else(
            || String::from("—"),
            // `now` ticks once a second: a refresh may be newer than it.
            |at| format!("{} ({} ago)", clock(at), duration((now - at).max(0))),
        )
    });

    view! {
        <section class="panel token" aria-labelledby="token-title">
            <h2 id="token-title">"Token"</h2>
            <dl>
                <dt>"Expires in"</dt>
                <dd id="token-expires-in">{expires_in}</dd>
                <dt>"Clock skew"</dt>
                <dd id="token-skew">{clock_skew}</dd>
                <dt>"Refreshes"</dt>
                <dd id="refresh-count">{refreshes}</dd>
                <dt>"Last refresh"</dt>
                <dd id="last-refresh">{last_refresh}</dd>
            </dl>
            <TokenTimeline history=history.into() now_ms=now.into() />
        </section>
    }
}
