//! Formatting Unix milliseconds as RFC 3339 UTC (`2026-11-28T18:00:00Z`), for storage.

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in milliseconds (via `Date.prototype.toISOString`,
/// without the milliseconds).
pub(crate) fn format_utc(unix_ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms as f64));
    let text: String = date.to_iso_string().into();
    // "2026-11-28T18:00:00.000Z" → "2026-11-28T18:00:00Z"
    match text.get(..19) {
        Some(seconds) if text.len() == 24 => {
            let mut short = String::from(seconds);
            short.push('Z');
            short
        }
        _ => text,
    }
}
