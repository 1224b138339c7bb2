//! The JSON the stub answers, read and written through the browser's own `JSON` (no serde in
//! the demo).

use wasm_bindgen::JsValue;

/// A field of a parsed JSON object as text (a number as its decimal form; missing: empty).
pub fn text(value: &JsValue, key: &str) -> String {
    let field = js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    field
        .as_string()
        .or_else(|| field.as_f64().map(|n| n.to_string()))
        .unwrap_or_default()
}

/// A numeric field of a parsed JSON object.
pub fn number(value: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|field| field.as_f64())
}

/// A string as a JSON string literal, quotes and escapes included.
pub fn quote(text: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(text))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
