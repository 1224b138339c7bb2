//! A small JSON reader for the few protocol payloads the core must understand itself (the
//! Engine.IO handshake, Socket.IO CONNECT and CONNECT_ERROR). Event payloads are passed through
//! as text: the driver parses those with the platform's `JSON.parse`.

use alloc::{string::String, vec::Vec};
/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, fields in document order (a later duplicate key wins on lookup).
    Object(Vec<(String, Json)>),
}

/// Deepest nesting accepted (protects the stack from hostile input).
const MAX_DEPTH: usize = 64;

impl Json {
    /// Parses a complete JSON text; `None` if it is not valid JSON (or nests too deep).
    ///
    /// ```
    /// use consult_core::json::Json;
    /// let value = Json::parse(r#"{"sid":"abc","pingInterval":25000}"#).unwrap();
    /// assert_eq!(value.get("sid").and_then(Json::as_str), Some("abc"));
    /// assert_eq!(value.get("pingInterval").and_then(Json::as_f64), Some(25000.0));
    /// assert!(Json::parse("{").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Json> {
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = reader.value(0)?;
        reader.skip_whitespace();
        (reader.at == reader.bytes.len()).then_some(value)
    }

    /// A field of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Writes `text` as a JSON string literal (with quotes).
///
/// ```
/// assert_eq!(consult_core::json::quote("a\"b\n"), r#""a\"b\n""#);
/// ```
pub fn quote(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    // Byte-wise: only ASCII bytes are escaped, so every cut is a char boundary (no char
    // decoding or encoding is linked for this).
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "\\u00",
            _ => continue,
        };
        out.push_str(text.get(start..at).unwrap_or_default());
        out.push_str(escape);
        if escape == "\\u00" {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
        start = at + 1;
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
    out
}

/// Appends `n` in decimal, without `fmt` (whose machinery costs kilobytes of wasm).
///
/// ```
/// let mut text = String::from("HTTP ");
/// consult_core::json::push_decimal(&mut text, 503);
/// assert_eq!(text, "HTTP 503");
/// ```
pub fn push_decimal(out: &mut String, n: u64) {
    let (quotient, digit) = div10(n);
    if quotient > 0 {
        push_decimal(out, quotient);
    }
    out.push(char::from(b'0' + digit));
}

/// `(n / 10, n % 10)` by long division in 16-bit steps, with u32 operations only: wasm2js (the
/// React Native core) replaces a u64 division with kilobytes of helper code. Each step divides
/// less than 10 · 2^16, so each quotient fits its 16 bits.
fn div10(n: u64) -> (u64, u8) {
    let mut quotient = 0;
    let mut rest = 0u32;
    for shift in [48, 32, 16, 0] {
        let step = (rest << 16) | ((n >> shift) as u32 & 0xffff);
        quotient |= u64::from(step / 10) << shift;
        rest = step % 10;
    }
    (quotient, rest as u8)
}

struct Reader<'a> {
    /// The text read (`bytes` as `&str`: its slices between ASCII bytes need no UTF-8 check).
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Option<Json> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_whitespace();
        match self.peek()? {
            b'n' => self.literal(b"null", Json::Null),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'"' => self.string().map(Json::String),
            b'[' => self.array(depth),
            b'{' => self.object(depth),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<Json> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Some(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(Json::Array(items));
                }
                _ => return None,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Json> {
        self.at += 1;
        let mut map = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(Json::Object(map));
        }
        loop {
            self.skip_whitespace();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            let value = self.value(depth + 1)?;
            map.push((key, value));
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(Json::Object(map));
                }
                _ => return None,
            }
        }
    }

    /// A JSON number, read without the float parser (whose tables cost kilobytes of wasm):
    /// exact for integers up to 2^53, close enough for the fractions protocols send.
    fn number(&mut self) -> Option<Json> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let first = self.peek().filter(u8::is_ascii_digit)?;
        let mut mantissa: f64 = 0.0;
        let mut exponent: i32 = 0;
        let mut digits = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            if digits > 0 && first == b'0' {
                return None; // leading zero
            }
            mantissa = mantissa * 10.0 + f64::from(d - b'0');
            digits += 1;
            self.at += 1;
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let mut fraction_digits = 0;
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                mantissa = mantissa * 10.0 + f64::from(d - b'0');
                exponent -= 1;
                fraction_digits += 1;
                self.at += 1;
            }
            if fraction_digits == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            let sign = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    -1
                }
                Some(b'+') => {
                    self.at += 1;
                    1
                }
                _ => 1,
            };
            let mut power: i32 = 0;
            let mut power_digits = 0;
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                power = power.saturating_mul(10).saturating_add(i32::from(d - b'0'));
                power_digits += 1;
                self.at += 1;
            }
            if power_digits == 0 {
                return None;
            }
            exponent = exponent.saturating_add(sign * power);
        }
        let value = mantissa * powi(10.0, exponent);
        value
            .is_finite()
            .then_some(Json::Number(if negative { -value } else { value }))
    }

    /// The four hex digits of a `\u` escape, read as `u32::from_str_radix` reads them (which
    /// takes a leading `+`), without its generic parser.
    fn hex4(&mut self) -> Option<u32> {
        let end = self.at.checked_add(4)?;
        let digits = match self.bytes.get(self.at..end)? {
            [b'+', rest @ ..] => rest,
            all => all,
        };
        self.at = end;
        digits.iter().try_fold(0u32, |acc, &d| {
            let value = (d as char).to_digit(16)?;
            Some(acc * 16 + value)
        })
    }

    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.peek()?, b'"' | b'\\' | 0..=0x1f) {
                self.at += 1;
            }
            out.push_str(self.text.get(start..self.at)?);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.at += 1;
                    let escape = self.peek()?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                                    return None;
                                }
                                self.at += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return None;
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                first
                            };
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                }
                _ => return None, // raw control character
            }
        }
    }
}

/// `base` to the power `exponent`, as `f64::powi` computes it (compiler-rt's `__powidf2`:
/// square-and-multiply, then one division for a negative exponent). `powi` is std's, and this
/// crate is `no_std`.
fn powi(base: f64, exponent: i32) -> f64 {
    let mut result = 1.0;
    let mut square = base;
    let mut remaining = exponent.unsigned_abs();
    loop {
        if remaining & 1 == 1 {
            result *= square;
        }
        remaining /= 2;
        if remaining == 0 {
            break;
        }
        square *= square;
    }
    if exponent < 0 { 1.0 / result } else { result }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hex4_reads_what_from_str_radix_reads(digits in "[+-]?[0-9a-fA-F+-]{0,5}|.{0,4}") {
            let mut reader = Reader { text: &digits, bytes: digits.as_bytes(), at: 0 };
            let expected = digits
                .as_bytes()
                .get(..4)
                .and_then(|window| core::str::from_utf8(window).ok())
                .and_then(|window| u32::from_str_radix(window, 16).ok());
            prop_assert_eq!(reader.hex4(), expected);
        }
    }

    #[test]
    fn parses_protocol_payloads() {
        let open = Json::parse(
            r#"{"sid":"x1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        );
        assert_eq!(
            open.as_ref()
                .and_then(|v| v.get("pingTimeout"))
                .and_then(Json::as_f64),
            Some(20000.0)
        );
        let error = Json::parse(r#"{"message":"Token expired"}"#);
        assert_eq!(
            error
                .as_ref()
                .and_then(|v| v.get("message"))
                .and_then(Json::as_str),
            Some("Token expired")
        );
    }

    #[test]
    fn handles_escapes_and_rejects_junk() {
        assert_eq!(
            Json::parse(r#""a\u00e9\ud83d\ude00\n""#),
            Some(Json::String("aé😀\n".into()))
        );
        for bad in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "{\"a\" 1}",
            "nul",
            "[1] x",
            "\"\u{1}\"",
        ] {
            assert_eq!(Json::parse(bad), None, "{bad:?}");
        }
        assert!(
            Json::parse(&"[".repeat(100)).is_none(),
            "deep nesting refused"
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,80}") {
            let _ = Json::parse(&text);
        }

        #[test]
        fn quoted_strings_read_back(text in ".{0,40}") {
            prop_assert_eq!(Json::parse(&quote(&text)), Some(Json::String(text)));
        }

        #[test]
        fn push_decimal_writes_what_to_string_writes(n in any::<u64>()) {
            let mut text = String::new();
            push_decimal(&mut text, n);
            prop_assert_eq!(text, n.to_string());
        }
    }

    #[test]
    fn push_decimal_at_the_edges_of_its_steps() {
        for n in [
            0,
            9,
            10,
            65_535,
            65_536,
            655_359,
            u64::from(u32::MAX),
            1 << 32,
            u64::MAX,
        ] {
            let mut text = String::new();
            push_decimal(&mut text, n);
            assert_eq!(text, n.to_string());
        }
    }
}
