//! Decisions about the application's own authorised requests: where the token may go, and what
//! an answer means for the token.

use alloc::string::String;
/// Whether an authorised request's answer says the server refused the credential, so the
/// driver feeds [`Input::TokenRefused`](super::Input::TokenRefused) and replays once.
///
/// ```
/// assert!(consult_core::session::credential_refused(401));
/// assert!(!consult_core::session::credential_refused(403)); // forbidden is not "who are you"
/// ```
pub fn credential_refused(status: u16) -> bool {
    crate::read_status(crate::Endpoint::Authorised, status) == crate::Outcome::RefreshAndReplay
}

/// The origin (`scheme://host[:port]`, lower-cased, default port dropped) of an absolute
/// http(s) URL; `None` for anything else.
///
/// ```
/// use consult_core::session::origin_of;
/// assert_eq!(origin_of("HTTPS://Api.Example.com:443/x?y").as_deref(), Some("https://api.example.com"));
/// assert_eq!(origin_of("http://127.0.0.1:8086/api").as_deref(), Some("http://127.0.0.1:8086"));
/// assert_eq!(origin_of("/api/x"), None);
/// ```
pub fn origin_of(url: &str) -> Option<String> {
    // Byte-wise on purpose: a substring search or a `String::truncate` would link core's
    // panic formatting into the npm package's wasm (KBs against its size budget).
    let bytes = url.as_bytes();
    let colon = bytes.iter().position(|&b| b == b':')?;
    let scheme = url.get(..colon)?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let rest = url.get(colon..)?.strip_prefix("://")?;
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    if authority.is_empty() || authority.bytes().any(|b| b == b'@') {
        // `user@host` hides the real host from a quick reading: never send a token there.
        return None;
    }
    let host = authority.strip_suffix(default_port).unwrap_or(authority);
    let mut origin = scheme;
    origin.push_str("://");
    origin.push_str(&host.to_ascii_lowercase());
    Some(origin)
}

/// Whether the bearer token may be sent to `url` (already resolved against the page): only to
/// the base URL's origin, or to an origin the application listed.
///
/// ```
/// use consult_core::session::token_may_go_to;
/// let base = "http://127.0.0.1:8086";
/// assert!(token_may_go_to(base, "http://127.0.0.1:8086/api/video/sessions/1", &[]));
/// assert!(!token_may_go_to(base, "http://evil.example/steal", &[]));
/// assert!(token_may_go_to(base, "https://media.example/x", &["https://media.example".into()]));
/// ```
pub fn token_may_go_to(base_url: &str, url: &str, allowed_origins: &[String]) -> bool {
    let Some(target) = origin_of(url) else {
        return false;
    };
    origin_of(base_url).as_deref() == Some(target.as_str())
        || allowed_origins
            .iter()
            .any(|allowed| origin_of(allowed).as_deref() == Some(target.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tricky_urls_do_not_share_an_origin() {
        let base = "https://api.example.com";
        for url in [
            "https://api.example.com.evil.net/",
            "https://api.example.com@evil.net/",
            "http://api.example.com/",
            "https://api.example.com:8443/",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!token_may_go_to(base, url, &[]), "{url}");
        }
        assert!(token_may_go_to(base, "https://API.example.com:443/x", &[]));
    }

    /// Catches deleting `origin_of`'s `"http"` arm (the mutation run leaves the doctests out):
    /// a plain-http base URL — the development server, consult-stub on loopback — has an
    /// origin, its default port dropped, and its own requests get the token.
    #[test]
    fn an_http_base_url_gets_the_token_on_its_own_origin() {
        assert_eq!(
            origin_of("HTTP://LocalHost:80/api").as_deref(),
            Some("http://localhost")
        );
        let base = "http://127.0.0.1:8086";
        assert!(token_may_go_to(base, "http://127.0.0.1:8086/api/x", &[]));
        assert!(!token_may_go_to(base, "http://127.0.0.1:8087/api/x", &[]));
    }

    /// Catches `||` → `&&` in `origin_of`'s authority check: an authority with a user part
    /// (`user@host`), or none at all (`https:///x`), has no origin, so the token goes there
    /// never — not even when the base URL is written the same way.
    #[test]
    fn a_url_with_a_user_part_or_no_host_has_no_origin() {
        assert_eq!(origin_of("https://user@api.example.com/x"), None);
        assert_eq!(origin_of("https://user:pw@api.example.com"), None);
        assert_eq!(origin_of("https:///x"), None);
        let base = "https://user@api.example.com";
        assert!(!token_may_go_to(
            base,
            "https://user@api.example.com/x",
            &[]
        ));
        assert!(!token_may_go_to("https://", "https:///x", &[]));
    }

    /// Catches `==` → `!=` in the allowed-origins comparison of `token_may_go_to` (the mutation
    /// run leaves the doctests out): an origin the application listed gets the token, and no
    /// other origin does because some origin is listed.
    #[test]
    fn an_allowed_origin_gets_the_token_and_no_other_does() {
        let base = "https://api.example.com";
        let allowed = ["https://media.example".into(), "not a url".into()];
        assert!(token_may_go_to(
            base,
            "https://MEDIA.example:443/x",
            &allowed
        ));
        for url in [
            "https://evil.example/steal",
            "http://media.example/x",
            "https://media.example.evil.net/",
        ] {
            assert!(!token_may_go_to(base, url, &allowed), "{url}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(url in ".{0,80}") {
            let _ = token_may_go_to("http://127.0.0.1:8086", &url, &[]);
        }
    }
}
