//! Parsing the `expires_at` a server sends: RFC 3339 with `Z` or an offset, a naive ISO 8601
//! date-time (which is **UTC**, never local time: the seed's "2026-01-26T08:00:00"), or epoch
//! seconds as a number-like string.

use alloc::string::String;
/// Parses `expires_at` into Unix milliseconds. `None` when it is none of the accepted forms.
///
/// ```
/// use consult_core::timestamp::parse_expires_at;
/// assert_eq!(parse_expires_at("1970-01-01T00:01:00Z"), Some(60_000));
/// assert_eq!(parse_expires_at("1970-01-01T00:01:00"), Some(60_000)); // naive = UTC
/// assert_eq!(parse_expires_at("1970-01-01T01:01:00+01:00"), Some(60_000));
/// assert_eq!(parse_expires_at("60"), Some(60_000));
/// assert_eq!(parse_expires_at("tomorrow"), None);
/// ```
pub fn parse_expires_at(text: &str) -> Option<i64> {
    let text = text.trim_ascii();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch_seconds(text);
    }
    parse_iso(text)
}

/// `1769414400` or `1769414400.25` (seconds) into milliseconds, without float parsing.
fn parse_epoch_seconds(text: &str) -> Option<i64> {
    let (whole, fraction) = crate::ascii::split_once(text, b'.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 12 || fraction.bytes().any(|b| b == b'.') {
        return None;
    }
    let seconds = digits(whole.as_bytes(), 0, whole.len())?;
    let fraction = fraction.as_bytes();
    let millis = (0..3).fold(0i64, |acc, i| {
        acc * 10 + fraction.get(i).map_or(0, |d| i64::from(d - b'0'))
    });
    Some(seconds * 1000 + millis)
}

fn digits(text: &[u8], from: usize, count: usize) -> Option<i64> {
    let slice = text.get(from..from + count)?;
    slice.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn expect(text: &[u8], at: usize, wanted: &[u8]) -> Option<()> {
    text.get(at).filter(|b| wanted.contains(b)).map(|_| ())
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|±HH:MM|±HHMM]`
fn parse_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    expect(b, 4, b"-")?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b"-")?;
    let day = digits(b, 8, 2)?;
    expect(b, 10, b"Tt ")?;
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b":")?;
    let minute = digits(b, 14, 2)?;
    let mut at = 16;
    let mut second = 0;
    let mut millis = 0;
    if b.get(at) == Some(&b':') {
        second = digits(b, at + 1, 2)?;
        at += 3;
        if b.get(at) == Some(&b'.') || b.get(at) == Some(&b',') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return None;
            }
            let fraction = b.get(start..at.min(start + 3)).unwrap_or_default();
            millis = fraction
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
                * 10i64.pow(3 - fraction.len() as u32);
        }
    }
    let offset_minutes = match b.get(at) {
        None => 0,
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits(b, at + 1, 2)?;
            let (minutes, end) = match b.get(at + 3) {
                Some(b':') => (digits(b, at + 4, 2)?, at + 6),
                _ => (digits(b, at + 3, 2)?, at + 5),
            };
            if end != b.len() || hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(days_in_month(year as i32, month as i32))
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Checked above: a 4-digit year, a month and a day, so the casts keep every value.
    let days = i64::from(days_from_civil(year as i32, month as i32, day as i32));
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in milliseconds (what is stored under the seed's
/// `tokenExpiresAt` key). Times outside years 0–9999 are clamped to them.
///
/// ```
/// use consult_core::timestamp::{format_utc, parse_expires_at};
/// assert_eq!(format_utc(1_800_000_000_000), "2027-01-15T08:00:00Z");
/// assert_eq!(parse_expires_at(&format_utc(1_800_000_000_999)), Some(1_800_000_000_000));
/// ```
pub fn format_utc(unix_ms: i64) -> String {
    const MIN_MS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let (days, of_day_ms) = days_and_rest(unix_ms.clamp(MIN_MS, MAX_MS));
    let of_day = of_day_ms / 1000;
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(20);
    for (value, width, after) in [
        (year, 4, '-'),
        (month, 2, '-'),
        (day, 2, 'T'),
        (of_day / 3600, 2, ':'),
        (of_day / 60 % 60, 2, ':'),
        (of_day % 60, 2, 'Z'),
    ] {
        push_padded(&mut out, value, width);
        out.push(after);
    }
    out
}

const MS_PER_DAY: i64 = 86_400_000;

/// `(ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY))` for |ms| < 2^53, without an i64
/// division: wasm2js (the React Native core) replaces one with kilobytes of helper code, and
/// every other division here is i32. Below 2^53 the float quotient, truncated, is the day or
/// one after it (never one before), and a negative remainder says which.
fn days_and_rest(ms: i64) -> (i32, i32) {
    let mut days = crate::to_i64(ms as f64 / MS_PER_DAY as f64);
    let mut rest = ms - days * MS_PER_DAY;
    if rest < 0 {
        days -= 1;
        rest += MS_PER_DAY;
    }
    // Years 0–9999: a few million days; the rest is under a day.
    (days as i32, rest as i32)
}

fn push_padded(out: &mut String, value: i32, width: usize) {
    let mut digits = [b'0'; 4];
    let mut rest = value.unsigned_abs();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    for digit in digits.iter().skip(4usize.saturating_sub(width)) {
        out.push(char::from(*digit));
    }
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i32) -> (i32, i32, i32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
/// In i32 (callers check the date first): no i64 division for wasm2js to replace.
pub(crate) fn days_from_civil(year: i32, month: i32, day: i32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use proptest::prelude::*;
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    #[test]
    fn the_seeds_naive_format_is_utc() {
        // 2026-01-26T08:00:00 is 08:00 UTC whatever the device's time zone.
        assert_eq!(
            parse_expires_at("2026-01-26T08:00:00"),
            Some(1_769_414_400_000)
        );
        assert_eq!(
            parse_expires_at("2026-01-26T08:00:00Z"),
            Some(1_769_414_400_000)
        );
        assert_eq!(
            parse_expires_at("2026-01-26T03:00:00-05:00"),
            Some(1_769_414_400_000)
        );
        assert_eq!(
            parse_expires_at("2026-01-26T08:00:00.250Z"),
            Some(1_769_414_400_250)
        );
    }

    #[test]
    fn epoch_seconds_with_and_without_fraction() {
        assert_eq!(parse_expires_at("1769414400"), Some(1_769_414_400_000));
        assert_eq!(parse_expires_at("1769414400.25"), Some(1_769_414_400_250));
        assert_eq!(parse_expires_at("1.2.3"), None);
        assert_eq!(parse_expires_at("."), None);
    }

    #[test]
    fn rejects_impossible_dates_and_junk() {
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01",
            "2026-01-01T00:00:00+25:00",
            "2026-01-01T00:00:00Zjunk",
            "",
            "NaN",
            "2026-01-01T00:00:00.",
        ] {
            assert_eq!(parse_expires_at(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_time_crate(seconds in 0i64..253_402_300_799, offset_minutes in -1439i32..1439) {
            let Ok(utc) = OffsetDateTime::from_unix_timestamp(seconds) else { return Ok(()) };
            let Ok(offset) = UtcOffset::from_whole_seconds(offset_minutes * 60) else { return Ok(()) };
            let Ok(text) = utc.to_offset(offset).format(&Rfc3339) else { return Ok(()) };
            prop_assert_eq!(parse_expires_at(&text), Some(seconds * 1000), "{}", text);
        }

        #[test]
        fn formatting_round_trips(seconds in 0i64..253_402_300_799) {
            prop_assert_eq!(parse_expires_at(&format_utc(seconds * 1000)), Some(seconds * 1000));
        }

        #[test]
        fn never_panics(text in ".{0,40}") {
            let _ = parse_expires_at(&text);
        }

        #[test]
        fn formats_what_the_i64_arithmetic_formats(ms in any::<i64>()) {
            prop_assert_eq!(format_utc(ms), format_utc_in_i64(ms));
        }

        #[test]
        fn days_and_rest_is_euclidean_division(ms in -(1i64 << 53) + 1..1i64 << 53) {
            let (days, rest) = days_and_rest(ms);
            prop_assert_eq!((i64::from(days), i64::from(rest)), (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY)));
        }
    }

    #[test]
    fn formats_the_clamps_and_day_edges_as_the_i64_arithmetic_does() {
        let day = MS_PER_DAY;
        for ms in [
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            day - 1,
            day,
            -day,
            -day - 1,
            -day + 1,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            951_782_400_000,
            4_107_542_399_999,
        ] {
            assert_eq!(format_utc(ms), format_utc_in_i64(ms), "{ms}");
        }
    }

    /// `format_utc` as it was, in i64 throughout: the reference.
    fn format_utc_in_i64(unix_ms: i64) -> String {
        let seconds = unix_ms
            .div_euclid(1000)
            .clamp(-62_167_219_200, 253_402_300_799);
        let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}
