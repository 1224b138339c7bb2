//! Parsing the HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7), to measure clock skew.

use crate::timestamp::days_from_civil;

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT` into Unix milliseconds.
///
/// ```
/// assert_eq!(consult_core::http_date::parse("Thu, 01 Jan 1970 00:01:00 GMT"), Some(60_000));
/// assert_eq!(consult_core::http_date::parse("yesterday"), None);
/// ```
pub fn parse(text: &str) -> Option<i64> {
    let mut words = text.split_ascii_whitespace();
    let _weekday = words.next()?;
    let day = int(words.next()?)?;
    let month = match words.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = int(words.next()?)?;
    let mut clock = crate::ascii::split(words.next()?, b':').map(int);
    let (Some(Some(h)), Some(Some(m)), Some(Some(s)), None) =
        (clock.next(), clock.next(), clock.next(), clock.next())
    else {
        return None;
    };
    if words.next()? != "GMT" || words.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Checked above: the casts keep the year and the day.
    let days = i64::from(days_from_civil(year as i32, month, day as i32));
    Some((days * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// What `str::parse::<i64>` reads (an optional sign, then decimal digits, no overflow), in a
/// few bytes of wasm instead of core's generic integer parser.
pub(crate) fn int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    if digits.is_empty() {
        return None;
    }
    let magnitude = digits.iter().try_fold(0i64, |acc, &d| {
        let d = i64::from(d.wrapping_sub(b'0'));
        // Accumulated negatively, so that i64::MIN is read too.
        (d < 10).then_some(())?;
        // `checked_mul(10)` by a comparison (no 128-bit multiplication: see `saturating_shl`).
        (acc >= i64::MIN / 10).then(|| acc * 10)?.checked_sub(d)
    })?;
    if negative {
        Some(magnitude)
    } else {
        magnitude.checked_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    proptest::proptest! {
        #[test]
        fn int_reads_what_str_parse_reads(text in "[-+]?[0-9]{0,20}|.{0,6}", n in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(int(&text), text.parse::<i64>().ok());
            proptest::prop_assert_eq!(int(&n.to_string()), Some(n));
        }
    }

    /// The bytes just past the digits (`/` below `0`, `:` above `9`) are no digits (session
    /// 10's mutation run: `d <= 10` read `:` as ten).
    #[test]
    fn the_bytes_beside_the_digits_are_not_digits() {
        for text in ["1:", ":", "1/", "/", "-:", "9:0"] {
            assert_eq!(int(text), None, "{text}");
        }
        assert_eq!(int("90"), Some(90));
    }

    #[test]
    fn parses_the_rfc_example() {
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
    }

    #[test]
    fn refuses_other_formats() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
