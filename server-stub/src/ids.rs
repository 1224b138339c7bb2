//! What an identifier (session, room, user) and a free-text claim may look like.

/// Whether `id` is 1 to `max_bytes` bytes of `A–Z a–z 0–9 . _ - @ +`: safe in a URL path, an
/// `ETag`, a log line and a Socket.IO room name, and never starting with `#` (sign-in rooms).
///
/// ```
/// use consult_stub::ids::valid_id;
/// assert!(valid_id("patient-1@example.test", 128));
/// assert!(!valid_id("a\"b", 128) && !valid_id("a\nb", 128) && !valid_id("", 128));
/// assert!(!valid_id(&"x".repeat(129), 128));
/// ```
pub fn valid_id(id: &str, max_bytes: usize) -> bool {
    !id.is_empty()
        && id.len() <= max_bytes
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b))
}

/// Whether `text` (an e-mail, role or display name) is at most `max_bytes` bytes with no
/// control characters.
///
/// ```
/// use consult_stub::ids::valid_text;
/// assert!(valid_text("Dr Ana Müller", 256));
/// assert!(!valid_text("a\u{0}b", 256));
/// ```
pub fn valid_text(text: &str, max_bytes: usize) -> bool {
    text.len() <= max_bytes && !text.chars().any(char::is_control)
}
