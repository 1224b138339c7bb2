//! Times as a person reads them: durations as `h:mm:ss` (`3:54:12`, not `14374 s`), times of day
//! as `hh:mm:ss` on this device's clock.

use wasm_bindgen::JsValue;

/// A duration as `h:mm:ss`, rounded down to the second; a negative one gets a leading `-`.
pub fn duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let seconds = ms.unsigned_abs() / 1000;
    format!(
        "{sign}{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The time of day of a Unix time (ms) on this device, `hh:mm:ss`.
pub fn clock(unix_ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// This device's clock, Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The clock skew (server − device, ms) in words: which clock is ahead, by `h:mm:ss`.
pub fn skew(ms: i64) -> String {
    let direction = if ms > 0 { "ahead" } else { "behind" };
    match ms.unsigned_abs() {
        0 => String::from("none"),
        under_a_second @ 1..1000 => {
            format!("under a second (server {under_a_second} ms {direction})")
        }
        _ => format!("server {} {direction}", duration(ms.abs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_minutes_seconds() {
        assert_eq!(duration(0), "0:00:00");
        assert_eq!(duration(999), "0:00:00");
        assert_eq!(duration(20_000), "0:00:20");
        assert_eq!(duration(14_374_000), "3:59:34");
        assert_eq!(duration(14_052_000), "3:54:12");
        assert_eq!(duration(100 * 3_600_000), "100:00:00");
        assert_eq!(duration(-5_000), "-0:00:05");
    }

    #[test]
    fn skew_says_which_clock_is_ahead() {
        assert_eq!(skew(0), "none");
        assert_eq!(skew(12), "under a second (server 12 ms ahead)");
        assert_eq!(skew(-999), "under a second (server 999 ms behind)");
        assert_eq!(skew(65_000), "server 0:01:05 ahead");
        assert_eq!(skew(-3_600_000), "server 1:00:00 behind");
    }
}
