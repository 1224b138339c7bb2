//! The token's life on a time line: one bar per token (issued → expires), a marker per refresh,
//! a line for now. Fed by the client's `TokenChanged` and `TokenRefreshed` events; plain HTML
//! and CSS, positions in percent of the time shown.

use consult_client::TokenSnapshot;
use leptos::prelude::*;

use crate::time_format::{clock, duration};

/// How many tokens the time line keeps (older ones scroll off).
const TOKENS_SHOWN: usize = 4;

/// One token's life, on this device's clock (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
struct TokenLife {
    number: u32,
    token: String,
    from_ms: i64,
    until_ms: i64,
}

/// A successful refresh: which one (the client's count) and when, on this device's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refresh {
    count: u32,
    at_ms: i64,
}

/// The tokens of this sign-in and their refreshes, as the client reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenHistory {
    lives: Vec<TokenLife>,
    refreshes: Vec<Refresh>,
    tokens_seen: u32,
}

impl TokenHistory {
    /// The current token is `snapshot` (seen at `now_ms`): a new token starts a new bar.
    pub fn token_changed(&mut self, snapshot: &TokenSnapshot, now_ms: i64) {
        if self.lives.last().is_some_and(|l| l.token == snapshot.token) {
            return;
        }
        // The token's times are the server's: this device's clock is `skew_ms` behind it.
        let from_ms = snapshot
            .issued_at_ms
            .map_or(now_ms, |issued| issued - snapshot.skew_ms);
        self.tokens_seen += 1;
        self.lives.push(TokenLife {
            number: self.tokens_seen,
            token: snapshot.token.clone(),
            from_ms,
            until_ms: snapshot.expires_at_ms - snapshot.skew_ms,
        });
        if self.lives.len() > TOKENS_SHOWN {
            self.lives.remove(0);
        }
        let start = self.lives[0].from_ms;
        self.refreshes.retain(|r| r.at_ms >= start);
    }

    /// This client refreshed the token (`snapshot` is the new one).
    pub fn refreshed(&mut self, snapshot: &TokenSnapshot) {
        if let Some(at_ms) = snapshot.last_refresh_at_ms {
            self.refreshes.push(Refresh {
                count: snapshot.refresh_count,
                at_ms,
            });
        }
        self.token_changed(snapshot, snapshot.last_refresh_at_ms.unwrap_or_default());
    }

    /// The span shown: from the oldest token's issue to the newest expiry (or now, if later).
    fn span(&self, now_ms: i64) -> Option<(i64, i64)> {
        let start = self.lives.iter().map(|l| l.from_ms).min()?;
        let end = self
            .lives
            .iter()
            .map(|l| l.until_ms)
            .max()?
            .max(now_ms)
            .max(start + 1);
        Some((start, end))
    }
}

/// `left: x%` of `at_ms` within `(start, end)`, clamped to the track.
fn left(at_ms: i64, (start, end): (i64, i64)) -> String {
    let share = ((at_ms - start) as f64 / (end - start) as f64).clamp(0.0, 1.0);
    format!("left: {:.3}%", share * 100.0)
}

/// `left` and `width` of the bar from `from_ms` to `until_ms` within `span`.
fn bar(from_ms: i64, until_ms: i64, span: (i64, i64)) -> String {
    let (start, end) = span;
    let length = (end - start) as f64;
    let from = ((from_ms - start) as f64 / length).clamp(0.0, 1.0);
    let until = ((until_ms - start) as f64 / length).clamp(from, 1.0);
    format!(
        "left: {:.3}%; width: {:.3}%",
        from * 100.0,
        (until - from) * 100.0
    )
}

/// The time line. `now_ms` ticks with the token panel's clock.
#[component]
pub fn TokenTimeline(history: Signal<TokenHistory>, now_ms: Signal<i64>) -> impl IntoView {
    let span = Memo::new(move |_| history.with(|h| h.span(now_ms.get())));
    let summary = move || {
        history.with(|h| {
            format!(
                "{} tokens shown, {} refreshes marked",
                h.lives.len(),
                h.refreshes.len()
            )
        })
    };
    let start_time = move || span.get().map(|(start, _)| clock(start));
    let end_time = move || span.get().map(|(_, end)| clock(end));
    let expired = move |until_ms: i64| now_ms.get() >= until_ms;
    view! {
        <figure id="token-timeline" class="timeline">
            <figcaption>"Token lifetimes and refreshes"</figcaption>
            <div class="timeline-track" role="img" aria-label=summary>
                <For each=move || history.get().lives key=|life| life.number let:life>
                    <div class="timeline-row">
                        <div
                            class="token-life"
                            class=("expired", move || expired(life.until_ms))
                            style=move || span.get().map(|s| bar(life.from_ms, life.until_ms, s))
                            title=format!(
                                "token {}: {} → {} ({})",
                                life.number,
                                clock(life.from_ms),
                                clock(life.until_ms),
                                duration(life.until_ms - life.from_ms)
                            )
                        >
                            {format!("token {}", life.number)}
                        </div>
                    </div>
                </For>
                <For each=move || history.get().refreshes key=|refresh| refresh.count let:refresh>
                    <div
                        class="refresh-marker"
                        data-refresh=refresh.count
                        style=move || span.get().map(|s| left(refresh.at_ms, s))
                        title=format!("refresh #{} at {}", refresh.count, clock(refresh.at_ms))
                    ></div>
                </For>
                <div class="now-line" style=move || span.get().map(|s| left(now_ms.get(), s))></div>
            </div>
            <div class="timeline-axis">
                <span>{start_time}</span>
                <span>{end_time}</span>
            </div>
            <p class="timeline-legend">
                <span class="key key-life"></span>"token lifetime "
                <span class="key key-refresh"></span>"refresh "
                <span class="key key-now"></span>"now " {move || clock(now_ms.get())}
            </p>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(
        name: &str,
        issued_s: i64,
        expires_s: i64,
        refresh: Option<(u32, i64)>,
    ) -> TokenSnapshot {
        TokenSnapshot {
            token: name.to_owned(),
            expires_at_ms: expires_s * 1000,
            issued_at_ms: Some(issued_s * 1000),
            skew_ms: 2_000,
            refresh_count: refresh.map_or(0, |(count, _)| count),
            last_refresh_at_ms: refresh.map(|(_, at_s)| at_s * 1000),
        }
    }

    #[test]
    fn a_bar_per_token_on_the_device_clock_and_a_marker_per_refresh() {
        let mut history = TokenHistory::default();
        history.token_changed(&token("a", 100, 120, None), 0);
        history.token_changed(&token("a", 100, 120, None), 0);
        let refreshed = token("b", 110, 130, Some((1, 108)));
        history.refreshed(&refreshed);
        history.token_changed(&refreshed, 0);

        let bars: Vec<_> = history
            .lives
            .iter()
            .map(|l| (l.number, l.from_ms, l.until_ms))
            .collect();
        assert_eq!(bars, [(1, 98_000, 118_000), (2, 108_000, 128_000)]);
        assert_eq!(
            history.refreshes,
            [Refresh {
                count: 1,
                at_ms: 108_000
            }]
        );
        assert_eq!(history.span(110_000), Some((98_000, 128_000)));
        assert_eq!(history.span(200_000), Some((98_000, 200_000)));
    }

    #[test]
    fn keeps_the_latest_tokens_and_their_refreshes() {
        let mut history = TokenHistory::default();
        history.token_changed(&token("t0", 0, 20, None), 0);
        for n in 1..=6 {
            let issued = n * 10;
            history.refreshed(&token(
                &format!("t{n}"),
                issued,
                issued + 20,
                Some((n as u32, issued)),
            ));
        }
        let numbers: Vec<_> = history.lives.iter().map(|l| l.number).collect();
        assert_eq!(numbers, [4, 5, 6, 7]);
        let counts: Vec<_> = history.refreshes.iter().map(|r| r.count).collect();
        assert_eq!(
            counts,
            [3, 4, 5, 6],
            "the refresh that brought the oldest token shown stays"
        );
    }

    #[test]
    fn positions_stay_on_the_track() {
        assert_eq!(left(150, (100, 200)), "left: 50.000%");
        assert_eq!(left(50, (100, 200)), "left: 0.000%");
        assert_eq!(left(250, (100, 200)), "left: 100.000%");
        assert_eq!(bar(150, 300, (100, 200)), "left: 50.000%; width: 50.000%");
    }
}
