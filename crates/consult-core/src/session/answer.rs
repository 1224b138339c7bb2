//! Whether a refresh answer is trusted. A server (or a proxy in front of it) can answer 200 with
//! anything: a token already expired, `expires_in: -9e9`, an `exp` in the year 9999. Trusting
//! such an answer makes a client refresh in a tight loop or never again; so an answer is
//! accepted only when its token is new, plausible and not already due.

use super::token::Token;
use crate::json::Json;
use crate::{ClockSkew, RefreshPolicy};
use alloc::string::String;

/// Largest refresh answer read (a token and a few fields).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest token lifetime believed (an access token is hours; a month is already generous).
pub const MAX_LIFETIME_MS: i64 = 31 * 24 * 3_600_000;
/// Largest clock skew believed: a device clock further off than a day is wrong, not skewed.
pub const MAX_SKEW_MS: i64 = 24 * 3_600_000;
/// A due token is still accepted when issued at most this long ago (a reuse-window replay).
const REPLAY_AGE_MS: i64 = 60_000;
/// How far in the server's future an `iat` may be (clock resolution, rounding).
const IAT_LEEWAY_MS: i64 = 60_000;

/// A refresh answer that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The new token.
    pub token: Token,
    /// Server − device clock offset measured from this answer, bounded by [`MAX_SKEW_MS`].
    pub skew_ms: i64,
}

/// Reads a 2xx answer of the refresh endpoint received at device time `received_ms` for the
/// token `sent`. `None`: not trustworthy (`BAD_RESPONSE`).
///
/// ```
/// use consult_core::RefreshPolicy;
/// use consult_core::session::accept_refresh;
/// // payload {"exp":14400,"iat":0}: a 4-hour token issued at server time 0.
/// let body = r#"{"access_token":"e30.eyJleHAiOjE0NDAwLCJpYXQiOjB9.s","expires_in":14400}"#;
/// let accepted = accept_refresh(body, None, 0, "old", &RefreshPolicy::default()).unwrap();
/// assert_eq!(accepted.token.info.expires_at_ms, 14_400_000);
/// // An answer that says the token is already over is refused.
/// let past = r#"{"access_token":"e30.eyJleHAiOjE0NDAwLCJpYXQiOjB9.s","expires_in":-9e9}"#;
/// assert!(accept_refresh(past, None, 0, "old", &RefreshPolicy::default()).is_none());
/// ```
pub fn accept_refresh(
    body: &str,
    date: Option<&str>,
    received_ms: i64,
    sent: &str,
    policy: &RefreshPolicy,
) -> Option<Accepted> {
    if body.len() > MAX_BODY_BYTES {
        return None;
    }
    let json = Json::parse(body)?;
    let access_token = json.get("access_token")?.as_str()?;
    if access_token == sent {
        return None;
    }
    let expires_at = match json.get("expires_at") {
        Some(Json::String(text)) => Some(text.clone()),
        Some(Json::Number(seconds)) => Some(epoch_seconds_text(*seconds)?),
        _ => None,
    };
    let token = Token::parse(access_token, expires_at.as_deref())?;
    let exp = token.info.expires_at_ms;

    // The server's clock when it answered: from `expires_in`, else the token's `iat`, else `Date`.
    let expires_in = match json.get("expires_in") {
        None | Some(Json::Null) => None,
        Some(value) => Some(value.as_f64().filter(|s| plausible_seconds_left(*s))?),
    };
    let date_ms = date.and_then(crate::http_date::parse);
    let server_now = ClockSkew::server_time_from_expires_in(exp, expires_in)
        .or(token.info.issued_at_ms)
        .or(date_ms);
    let skew_ms = ClockSkew::estimate(received_ms, server_now, None)
        .offset_ms
        .clamp(-MAX_SKEW_MS, MAX_SKEW_MS);
    let server_now = received_ms.saturating_add(skew_ms);

    let left = exp.saturating_sub(server_now);
    if left <= 0 || left > MAX_LIFETIME_MS {
        return None;
    }
    if let Some(iat) = token.info.issued_at_ms {
        let lifetime = exp.saturating_sub(iat);
        if iat > server_now.saturating_add(IAT_LEEWAY_MS) || lifetime > MAX_LIFETIME_MS {
            return None;
        }
    }
    // Already due: a broken server, unless the token is brand new — the successor a server
    // hands back again inside its reuse window is due early when tokens are short, and is
    // the one to keep (refusing it would refresh its predecessor again until the window closes).
    let fresh = token
        .info
        .issued_at_ms
        .is_some_and(|iat| server_now.saturating_sub(iat) <= REPLAY_AGE_MS);
    if policy.is_due(&token.info, received_ms, skew_ms) && !fresh {
        return None;
    }
    Some(Accepted { token, skew_ms })
}

/// `expires_in` must say the token lives, and not for longer than a token may.
fn plausible_seconds_left(seconds: f64) -> bool {
    seconds.is_finite() && seconds > 0.0 && seconds * 1000.0 <= MAX_LIFETIME_MS as f64
}

/// An `expires_at` given as epoch seconds, as text for [`Token::parse`].
fn epoch_seconds_text(seconds: f64) -> Option<String> {
    if !(seconds.is_finite() && (0.0..1e12).contains(&seconds)) {
        return None;
    }
    let mut text = String::new();
    crate::json::push_decimal(&mut text, seconds as u64);
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url;
    use alloc::format;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;

    fn jwt(payload: &str) -> String {
        let mut token = String::from("e30.");
        token.push_str(&base64url::encode(payload.as_bytes()));
        token.push_str(".sig");
        token
    }

    fn body(token: &str, extra: &str) -> String {
        format!(r#"{{"access_token":"{token}"{extra}}}"#)
    }

    fn accept(body: &str, received_ms: i64) -> Option<Accepted> {
        accept_refresh(body, None, received_ms, "old", &RefreshPolicy::default())
    }

    #[test]
    fn a_normal_answer_is_accepted_with_its_skew() {
        let token = jwt(r#"{"exp":14400,"iat":0}"#);
        let accepted = accept(&body(&token, r#","expires_in":14400"#), -HOUR).unwrap();
        assert_eq!(accepted.skew_ms, HOUR, "device one hour slow");
    }

    #[test]
    fn already_expired_or_due_tokens_are_refused() {
        // The answer's own Date says the token expired 100 s ago.
        let expired = jwt(r#"{"exp":100}"#);
        let date = Some("Thu, 01 Jan 1970 00:03:20 GMT");
        let policy = RefreshPolicy::default();
        assert!(accept_refresh(&body(&expired, ""), date, 200_000, "old", &policy).is_none());
        // Due at once: a 4 h token with 4 minutes left (inside the 5-minute margin).
        let due = jwt(r#"{"exp":14400}"#);
        assert!(accept(&body(&due, r#","expires_in":240"#), 0).is_none());
    }

    #[test]
    fn absurd_times_are_refused() {
        let token = jwt(r#"{"exp":14400,"iat":0}"#);
        assert!(accept(&body(&token, r#","expires_in":-9e9"#), 0).is_none());
        assert!(accept(&body(&token, r#","expires_in":"soon""#), 0).is_none());
        let year_9999 = jwt(r#"{"exp":253402300799}"#);
        assert!(accept(&body(&year_9999, ""), 0).is_none());
        let future_iat = jwt(r#"{"exp":100000,"iat":90000}"#);
        assert!(accept(&body(&future_iat, r#","expires_in":99000"#), 0).is_none());
    }

    #[test]
    fn the_skew_is_bounded() {
        // The device is 40 days behind: the token looks 40 days away, which is implausible.
        let token = jwt(r#"{"exp":3470400,"iat":3456000}"#);
        assert!(accept(&body(&token, ""), 0).is_none());
        // Two hours off is believed.
        let token = jwt(r#"{"exp":21600,"iat":7200}"#);
        assert_eq!(
            accept(&body(&token, ""), 0).map(|a| a.skew_ms),
            Some(2 * HOUR)
        );
    }

    #[test]
    fn the_same_token_back_or_no_token_is_refused() {
        let token = jwt(r#"{"exp":14400,"iat":0}"#);
        let answer = body(&token, "");
        assert!(accept_refresh(&answer, None, 0, &token, &RefreshPolicy::default()).is_none());
        assert!(accept("{}", 0).is_none());
        assert!(accept("not json", 0).is_none());
        assert!(accept(r#"{"access_token":12}"#, 0).is_none());
    }

    #[test]
    fn expires_at_is_used_when_the_token_has_no_exp() {
        let token = jwt(r#"{"sub":"a"}"#);
        let accepted = accept(&body(&token, r#","expires_at":"1970-01-01T04:00:00""#), 0).unwrap();
        assert_eq!(accepted.token.info.expires_at_ms, 4 * HOUR);
        let accepted = accept(&body(&token, r#","expires_at":14400"#), 0).unwrap();
        assert_eq!(accepted.token.info.expires_at_ms, 4 * HOUR);
    }

    /// Catches `&&` → `||` in `epoch_seconds_text` (found by the full mutation run at 6e44362):
    /// an `expires_at` of negative epoch seconds refuses the answer; the mutant reads it as
    /// epoch 0 (`as u64` saturates). Through `accept_refresh` that shows only while the server's
    /// time is before 1970 — here `expires_in` says the token has an hour left at server time
    /// −1 h: the mutant believes it — since any later server time finds epoch 0 expired. (The
    /// other half, `≥ 1e12`, is stopped by `parse_epoch_seconds`' 12-digit limit as well.)
    #[test]
    fn a_negative_epoch_expires_at_is_refused() {
        let token = jwt(r#"{"sub":"a"}"#);
        let with = |expires_at: &str| {
            let extra = format!(r#","expires_at":{expires_at},"expires_in":3600"#);
            accept(&body(&token, &extra), 0)
        };
        let accepted = with("3600").expect("a plain expires_at is used");
        assert_eq!(accepted.token.info.expires_at_ms, HOUR);
        assert!(with("-1").is_none());
        assert!(with("-0.5").is_none());
        for refused in [-1.0, -0.5, 1e12, f64::NAN, f64::INFINITY] {
            assert_eq!(epoch_seconds_text(refused), None, "{refused}");
        }
        assert_eq!(
            epoch_seconds_text(1e12 - 1.0).as_deref(),
            Some("999999999999")
        );
    }

    /// Catches `body.len() > MAX_BODY_BYTES` turned into `==`: a body of exactly the limit is
    /// read, one byte more is refused unread.
    #[test]
    fn a_body_longer_than_the_limit_is_refused() {
        let token = jwt(r#"{"exp":14400,"iat":0}"#);
        let of_length = |length: usize| {
            let head = body(&token, r#","pad":"""#);
            body(
                &token,
                &format!(r#","pad":"{}""#, "x".repeat(length - head.len())),
            )
        };
        assert_eq!(of_length(MAX_BODY_BYTES).len(), MAX_BODY_BYTES);
        assert!(accept(&of_length(MAX_BODY_BYTES), 0).is_some());
        assert!(accept(&of_length(MAX_BODY_BYTES + 1), 0).is_none());
        assert!(accept(&of_length(4 * MAX_BODY_BYTES), 0).is_none());
    }

    /// Catches `left > MAX_LIFETIME_MS` and `iat > server_now + IAT_LEEWAY_MS` turned into `>=`
    /// (found by the full mutation run at 6e44362): the limits themselves are believed — a
    /// token with exactly a month left, and one issued exactly the leeway ahead of the server
    /// time the answer implies.
    #[test]
    fn a_month_left_and_an_iat_the_leeway_ahead_are_believed() {
        let month_s = MAX_LIFETIME_MS / 1_000;
        let month = jwt(&format!(r#"{{"exp":{month_s}}}"#));
        assert!(accept(&body(&month, ""), 0).is_some());
        let longer = jwt(&format!(r#"{{"exp":{}}}"#, month_s + 1));
        assert!(accept(&body(&longer, ""), 0).is_none());
        // 4 hours left by `expires_in`: the server's clock reads 0 when the answer arrives at 0.
        let ahead = |iat_ms: i64| {
            let token = jwt(&format!(r#"{{"exp":14400,"iat":{}}}"#, iat_ms / 1_000));
            accept(&body(&token, r#","expires_in":14400"#), 0)
        };
        assert!(ahead(IAT_LEEWAY_MS).is_some());
        assert!(ahead(IAT_LEEWAY_MS + 1_000).is_none());
    }

    /// Catches `64 * 1024` → `64 + 1024` in `MAX_BODY_BYTES` (the test above reads the limit
    /// from the constant, so it moves with it): an answer of tens of kilobytes — a long token,
    /// padding fields — is read.
    #[test]
    fn an_answer_of_sixty_kilobytes_is_read() {
        let token = jwt(r#"{"exp":14400,"iat":0}"#);
        let padding = format!(r#","pad":"{}""#, "x".repeat(60_000));
        let answer = body(&token, &padding);
        assert!(answer.len() > 60_000);
        assert!(accept(&answer, 0).is_some());
    }

    /// Catches `lifetime > MAX_LIFETIME_MS` turned into `==`: a token issued (`iat`) more than a
    /// month before its `exp` is refused, even with hours left; a month exactly is believed.
    #[test]
    fn a_token_issued_more_than_a_month_before_its_exp_is_refused() {
        const DAY: i64 = 24 * HOUR;
        // Received 40 days in, 4 hours left (`expires_in` agrees: no skew).
        let exp_s = (40 * DAY + 4 * HOUR) / 1_000;
        let issued = |iat_s: i64| {
            let token = jwt(&format!(r#"{{"exp":{exp_s},"iat":{iat_s}}}"#));
            accept(&body(&token, r#","expires_in":14400"#), 40 * DAY)
        };
        let month_s = MAX_LIFETIME_MS / 1_000;
        assert!(issued(exp_s - month_s).is_some());
        assert!(issued(exp_s - month_s - 1).is_none());
        assert!(issued(0).is_none());
    }

    /// Catches the mutants of `plausible_seconds_left` (→ `true`, `&&` → `||` either one,
    /// `> 0` → `>= 0`, `* 1000` → `+ 1000` or `/ 1000`): an `expires_in` of zero, negative or
    /// beyond a month refuses the whole answer, even when the token itself looks usable — a
    /// 10-day token, accepted without the field. (A non-finite number never gets here: the
    /// JSON reader refuses it, so `is_finite` is belt and braces; checked directly.)
    #[test]
    fn an_expires_in_of_zero_negative_or_beyond_a_month_is_refused() {
        let token = jwt(r#"{"exp":864000}"#);
        let with = |expires_in: &str| accept(&body(&token, expires_in), 0);
        assert!(with("").is_some());
        assert!(with(r#","expires_in":864000"#).is_some());
        let month_s = MAX_LIFETIME_MS / 1_000;
        assert!(with(&format!(r#","expires_in":{month_s}"#)).is_some());
        for refused in ["0", "-60", "-9e9", &format!("{}", month_s + 1), "3456000"] {
            let answer = format!(r#","expires_in":{refused}"#);
            assert!(with(&answer).is_none(), "expires_in {refused}");
        }
        assert!(with(r#","expires_in":1e999"#).is_none());
        for never in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.0, -1.0] {
            assert!(!plausible_seconds_left(never), "{never}");
        }
    }

    proptest! {
        /// Whatever the body, an accepted token is not due at receipt (unless issued within the
        /// last minute: a reuse-window replay) and lives at most a month.
        #[test]
        fn accepted_answers_are_always_usable(
            exp in -1e6f64..1e12, iat in proptest::option::of(-1e6f64..1e12),
            expires_in in proptest::option::of(-1e10f64..1e10), received in 0i64..4_000_000_000_000,
        ) {
            let mut claims = format!(r#"{{"exp":{exp}"#);
            if let Some(iat) = iat { claims.push_str(&format!(r#","iat":{iat}"#)); }
            claims.push('}');
            let mut extra = String::new();
            if let Some(s) = expires_in { extra = format!(r#","expires_in":{s}"#); }
            let policy = RefreshPolicy::default();
            if let Some(accepted) = accept_refresh(&body(&jwt(&claims), &extra), None, received, "old", &policy) {
                let server_now = received + accepted.skew_ms;
                let fresh = accepted.token.info.issued_at_ms.is_some_and(|i| server_now - i <= REPLAY_AGE_MS);
                prop_assert!(fresh || !policy.is_due(&accepted.token.info, received, accepted.skew_ms));
                let left = accepted.token.info.expires_at_ms - (received + accepted.skew_ms);
                prop_assert!(left > 0 && left <= MAX_LIFETIME_MS);
                prop_assert!(accepted.skew_ms.abs() <= MAX_SKEW_MS);
            }
        }

        #[test]
        fn never_panics(body in ".{0,200}", date in proptest::option::of(".{0,40}")) {
            let _ = accept_refresh(&body, date.as_deref(), 0, "old", &RefreshPolicy::default());
        }
    }
}
