//! Byte-level text helpers for ASCII separators. `str::split(char)`, `find(char)` and
//! `trim_end_matches(char)` go through core's char searcher and `memchr` (~1 KB of the npm
//! package's wasm); splitting at an ASCII byte needs neither, and every boundary it finds is a
//! char boundary, so the `get`s below never fail (and nothing can panic).

/// The parts of `text` between the bytes `sep`, as `str::split(sep as char)` gives them.
///
/// ```
/// use consult_core::ascii::split;
/// assert_eq!(split("a.b..c", b'.').collect::<Vec<_>>(), ["a", "b", "", "c"]);
/// assert_eq!(split("", b'.').collect::<Vec<_>>(), [""]);
/// ```
pub fn split(text: &str, sep: u8) -> Split<'_> {
    Split {
        rest: Some(text),
        sep,
    }
}

/// The iterator of [`split`].
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once(rest, self.sep) {
            Some((part, after)) => {
                self.rest = Some(after);
                Some(part)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Whether `word` occurs in `text`, as `str::contains(&str)` (an empty word always does): a
/// byte-window search. `str::contains(&str)` links the two-way searcher (~2 KB of wasm) for the
/// short words it looks for, and `windows(0)`'s panic, with its message, is ruled out first.
///
/// ```
/// assert!(consult_core::ascii::contains(b"token expired", b"expired"));
/// assert!(!consult_core::ascii::contains(b"exp", b"expired"));
/// assert!(consult_core::ascii::contains(b"", b""));
/// ```
pub fn contains(text: &[u8], word: &[u8]) -> bool {
    word.is_empty() || text.windows(word.len()).any(|window| window == word)
}

/// `text` split at the first byte `sep` (excluded), as `str::split_once(sep as char)`.
///
/// ```
/// assert_eq!(consult_core::ascii::split_once("12.5", b'.'), Some(("12", "5")));
/// assert_eq!(consult_core::ascii::split_once("12", b'.'), None);
/// ```
pub fn split_once(text: &str, sep: u8) -> Option<(&str, &str)> {
    // A plain loop: `position` on the byte iterator is unrolled into several times the code.
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.get(at) == Some(&sep) {
            return Some((text.get(..at)?, text.get(at + 1..)?));
        }
        at += 1;
    }
    None
}

/// `text` without the bytes `byte` at its end, as `str::trim_end_matches(byte as char)`.
///
/// ```
/// assert_eq!(consult_core::ascii::trim_end("x==", b'='), "x");
/// assert_eq!(consult_core::ascii::trim_end("a//", b'/'), "a");
/// ```
pub fn trim_end(text: &str, byte: u8) -> &str {
    let mut end = text.len();
    while end > 0 && text.as_bytes().get(end - 1) == Some(&byte) {
        end -= 1;
    }
    text.get(..end).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{vec, vec::Vec};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn they_read_as_std_does(text in "[a.:/=é€]{0,12}", sep in prop::sample::select(vec![b'.', b':', b'/', b'='])) {
            let c = char::from(sep);
            prop_assert_eq!(split(&text, sep).collect::<Vec<_>>(), text.split(c).collect::<Vec<_>>());
            prop_assert_eq!(split_once(&text, sep), text.split_once(c));
            prop_assert_eq!(trim_end(&text, sep), text.trim_end_matches(c));
        }
    }
}
