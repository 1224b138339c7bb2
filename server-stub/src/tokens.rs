//! Access tokens: minting, strict verification (Socket.IO) and bounded-lenient verification
//! (refresh, logout, GET session). Revocation and rotation live in [`crate::store`].

use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
use jsonwebtoken::EncodingKey;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::AuthError;
use crate::keyed::{KeyedDigest, keyed};
use crate::token_cache::VerifiedTokens;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `iss` of every token this server mints and accepts.
pub const ISSUER: &str = "consult-stub";
/// `aud` of every token this server mints and accepts.
pub const AUDIENCE: &str = "consult-video";
/// Longest token string looked at; anything longer is refused unparsed.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The JOSE `typ` of an access token (RFC 9068 explicit typing, as RFC 8725 §3.11 advises).
pub const TOKEN_TYPE: &str = "at+jwt";
/// How far in the future `iat`, `auth_time` and `nbf` may be (clock differences between hosts).
pub const CLOCK_LEEWAY_SECS: i64 = 30;

/// The claims of a consult access token. All are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// User e-mail.
    pub email: String,
    /// `PATIENT` or `DOCTOR` (not enforced).
    pub role: String,
    /// Display name.
    pub name: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// Sign-in id, kept across refreshes; revocation works on it.
    pub sid: String,
    /// When the user signed in (Unix seconds), kept across refreshes.
    pub auth_time: i64,
    /// Issuer, always [`ISSUER`].
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// Not before (Unix seconds); never minted here, checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// The claims as they are signed: borrowed, in [`Claims`]' order, so that a successor is signed
/// without copying its predecessor's strings.
#[derive(Serialize)]
struct SignedClaims<'a> {
    sub: &'a str,
    email: &'a str,
    role: &'a str,
    name: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    sid: &'a str,
    auth_time: i64,
    iss: &'a str,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

impl<'a> From<&'a Claims> for SignedClaims<'a> {
    fn from(c: &'a Claims) -> Self {
        SignedClaims {
            sub: &c.sub,
            email: &c.email,
            role: &c.role,
            name: &c.name,
            iat: c.iat,
            exp: c.exp,
            jti: &c.jti,
            sid: &c.sid,
            auth_time: c.auth_time,
            iss: &c.iss,
            aud: &c.aud,
            nbf: c.nbf,
        }
    }
}

/// Who a token is for: the part of the claims that describes the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User id (`sub`).
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub name: String,
}

impl Claims {
    /// The user this token is for.
    pub fn user(&self) -> User {
        User {
            user_id: self.sub.clone(),
            email: self.email.clone(),
            role: self.role.clone(),
            name: self.name.clone(),
        }
    }
}

/// How much an expired token is tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leniency {
    /// `exp` must be in the future (Socket.IO handshake and `join_room`).
    Strict,
    /// `exp` may have passed by up to the refresh grace, within the session max age
    /// (GET session); a superseded token is refused.
    Lenient,
    /// As [`Leniency::Lenient`], for refresh and logout, which judge a superseded token
    /// themselves (reuse detection; logout with any token of the sign-in).
    Rotation,
}

/// Signs and verifies tokens with one HS256 secret and fixed leniency bounds.
pub struct TokenService {
    /// The HMAC key state, computed once (jsonwebtoken's `encode` keys it at every call).
    signer: Hmac<Sha256>,
    /// `base64url({"typ":"at+jwt","alg":"HS256"})`, the same for every token.
    header: String,
    #[cfg(test)]
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    token_ttl: Duration,
    refresh_grace: Duration,
    session_max_age: Duration,
    verified: VerifiedTokens,
    successor_ids: KeyedDigest,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl TokenService {
    /// A service signing with `secret`. Fails only if the crypto backend refuses the key.
    pub fn new(
        secret: &[u8],
        token_ttl: Duration,
        refresh_grace: Duration,
        session_max_age: Duration,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by `verify` against the injected clock, with its own bounds.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        let header = serde_json::to_vec(&header).map_err(|e| {
            jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::Json(e.into()))
        })?;
        Ok(Self {
            signer: keyed(secret),
            header: URL_SAFE_NO_PAD.encode(header),
            #[cfg(test)]
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            token_ttl,
            refresh_grace,
            session_max_age,
            verified: VerifiedTokens::default(),
            successor_ids: KeyedDigest::derive(secret, "successor-jti"),
        })
    }

    /// The `jti` of the successor of the token `jti`: derived under the secret, so that a
    /// repeat inside the reuse window signs the very same successor without it being stored,
    /// and unguessable without the secret.
    pub fn successor_jti(&self, jti: &str) -> String {
        self.successor_ids.hex128(jti.as_bytes())
    }

    /// Lifetime of a fresh token.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// Signs `claims` (HS256, `typ` [`TOKEN_TYPE`]); the same bytes as `jsonwebtoken::encode`.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        self.sign_claims(&SignedClaims::from(claims))
    }

    /// Signs the successor of `claims`: its claims with this `jti` and these times, no `nbf`.
    pub fn sign_successor(
        &self,
        claims: &Claims,
        jti: &str,
        iat: i64,
        exp: i64,
    ) -> Result<String, AuthError> {
        self.sign_claims(&SignedClaims {
            iat,
            exp,
            jti,
            nbf: None,
            ..SignedClaims::from(claims)
        })
    }

    fn sign_claims(&self, claims: &SignedClaims<'_>) -> Result<String, AuthError> {
        let payload = serde_json::to_vec(claims).map_err(|_| AuthError::InvalidToken)?;
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 48);
        token.push_str(&self.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let mut mac = self.signer.clone();
        mac.update(token.as_bytes());
        let signature = mac.finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// Checks signature, algorithm, issuer, audience, required claims and expiry.
    /// Revocation is not checked here (see [`crate::store::Store`]). The signature check and the
    /// decoding are done once per token string ([`VerifiedTokens`]; tokens presented only to
    /// refresh or log out are not kept); the time checks every time.
    pub fn verify(
        &self,
        token: &str,
        leniency: Leniency,
        now: OffsetDateTime,
    ) -> Result<Arc<Claims>, AuthError> {
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.decode(token)?);
                // A token presented to refresh or logout is on its way out: caching it would
                // churn the cache at the refresh rate (and evict the tokens GET session and the
                // sockets keep presenting), for the benefit of a rare repeat.
                if leniency != Leniency::Rotation {
                    self.verified.insert(token, claims.clone());
                }
                claims
            }
        };
        let now = now.unix_timestamp();
        check_times(&claims, now, self.token_ttl)?;
        check_expiry(
            &claims,
            leniency,
            now,
            self.refresh_grace,
            self.session_max_age,
        )?;
        Ok(claims)
    }

    /// The signature, algorithm, `typ`, issuer, audience and required claims of `token`.
    fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        let typed = data.header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(TOKEN_TYPE)
                || typ.eq_ignore_ascii_case(&format!("application/{TOKEN_TYPE}"))
        });
        if !typed {
            return Err(AuthError::InvalidToken);
        }
        Ok(data.claims)
    }

    /// The lifetime a successor of `claims` gets at `now`: the token TTL, but no longer than the
    /// token it replaces, cut to what is left of the session max age. `None` when nothing is left.
    pub fn successor_lifetime(&self, claims: &Claims, now: OffsetDateTime) -> Option<i64> {
        let left = sign_in_end(claims, self.session_max_age)?.checked_sub(now.unix_timestamp())?;
        // Never longer than the token it replaces: a short-lived (dev) sign-in keeps refreshing
        // at its own pace instead of turning into a 4 h one at the first refresh.
        let previous = claims.exp.checked_sub(claims.iat)?.max(1);
        let lifetime = secs(self.token_ttl).min(previous).min(left);
        (lifetime > 0).then_some(lifetime)
    }

    /// The last instant (Unix seconds) any token of this sign-in can be accepted.
    pub fn sign_in_end(&self, claims: &Claims) -> Option<i64> {
        sign_in_end(claims, self.session_max_age)
    }
}

/// `auth_time + max age`: after it, no token of the sign-in is accepted anywhere.
fn sign_in_end(claims: &Claims, session_max_age: Duration) -> Option<i64> {
    claims.auth_time.checked_add(secs(session_max_age))
}

/// The time claims themselves (RFC 8725 §3.10 and RFC 7519 §4.1): nothing issued in the future
/// beyond a small leeway, `nbf` reached, a lifetime within the TTL, a sign-in before issue.
/// Checked arithmetic: any overflow is an invalid token.
fn check_times(claims: &Claims, now: i64, token_ttl: Duration) -> Result<(), AuthError> {
    let horizon = now
        .checked_add(CLOCK_LEEWAY_SECS)
        .ok_or(AuthError::InvalidToken)?;
    let lifetime = claims
        .exp
        .checked_sub(claims.iat)
        .ok_or(AuthError::InvalidToken)?;
    // A successor keeps its sign-in's `auth_time`, written by whichever instance signed in: an
    // instance whose clock is a few seconds behind that one issues successors whose `iat` is
    // before `auth_time`. Within the leeway that is clock difference, not forgery.
    let sign_in_horizon = claims
        .iat
        .checked_add(CLOCK_LEEWAY_SECS)
        .ok_or(AuthError::InvalidToken)?;
    let plausible = claims.iat <= horizon
        && claims.auth_time <= sign_in_horizon
        && lifetime > 0
        && lifetime <= secs(token_ttl)
        && claims.nbf.is_none_or(|nbf| nbf <= horizon);
    if plausible {
        Ok(())
    } else {
        Err(AuthError::InvalidToken)
    }
}

/// The expiry rules, apart from any I/O.
fn check_expiry(
    claims: &Claims,
    leniency: Leniency,
    now: i64,
    refresh_grace: Duration,
    session_max_age: Duration,
) -> Result<(), AuthError> {
    let expired = now >= claims.exp;
    let end = sign_in_end(claims, session_max_age).ok_or(AuthError::InvalidToken)?;
    if now > end {
        return Err(AuthError::SessionExpired);
    }
    match leniency {
        Leniency::Strict if expired => Err(AuthError::TokenExpired),
        Leniency::Strict => Ok(()),
        Leniency::Lenient | Leniency::Rotation => {
            let last = claims
                .exp
                .checked_add(secs(refresh_grace))
                .ok_or(AuthError::InvalidToken)?;
            if expired && now > last {
                Err(AuthError::RefreshWindowExpired)
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64, auth_time: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            email: "u1@example.test".into(),
            role: "PATIENT".into(),
            name: "U One".into(),
            iat: exp - 14_400,
            exp,
            jti: "j1".into(),
            sid: "s1".into(),
            auth_time,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            nbf: None,
        }
    }

    const TTL: Duration = Duration::from_secs(4 * 3600);

    #[test]
    fn time_claims_are_checked_without_overflow() {
        let ok = claims(1000, 1000 - 14_400);
        assert_eq!(check_times(&ok, 0, TTL), Ok(()));
        let future_iat = Claims {
            iat: 100,
            exp: 200,
            auth_time: 100,
            ..ok.clone()
        };
        assert_eq!(
            check_times(&future_iat, 69, TTL),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(check_times(&future_iat, 70, TTL), Ok(()));
        let too_long = Claims {
            exp: ok.iat + 14_401,
            ..ok.clone()
        };
        assert_eq!(check_times(&too_long, 0, TTL), Err(AuthError::InvalidToken));
        let wrapped = Claims {
            iat: i64::MIN,
            exp: i64::MAX,
            auth_time: i64::MIN,
            ..ok.clone()
        };
        assert_eq!(check_times(&wrapped, 0, TTL), Err(AuthError::InvalidToken));
        // A successor from an instance whose clock is behind the sign-in's: `iat` before
        // `auth_time`, accepted within the leeway (two consult-stubs 7 s apart, issue 18).
        let successor_of_a_faster_clock = Claims {
            auth_time: ok.iat + 7,
            ..ok.clone()
        };
        assert_eq!(check_times(&successor_of_a_faster_clock, 0, TTL), Ok(()));
        let auth_after_iat = Claims {
            auth_time: ok.iat + CLOCK_LEEWAY_SECS + 1,
            ..ok.clone()
        };
        assert_eq!(
            check_times(&auth_after_iat, 0, TTL),
            Err(AuthError::InvalidToken)
        );
        let not_yet = Claims {
            nbf: Some(31),
            ..ok.clone()
        };
        assert_eq!(check_times(&not_yet, 0, TTL), Err(AuthError::InvalidToken));
        let end_overflows = Claims {
            auth_time: i64::MAX,
            ..ok
        };
        assert_eq!(
            check_expiry(&end_overflows, Leniency::Strict, 0, GRACE, CAP),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn strict_checks_apply_the_session_cap() {
        let c = claims(12 * 3600 + 100, 0);
        assert_eq!(
            check_expiry(&c, Leniency::Strict, 12 * 3600 + 1, GRACE, CAP),
            Err(AuthError::SessionExpired)
        );
    }

    const GRACE: Duration = Duration::from_secs(3600);
    const CAP: Duration = Duration::from_secs(12 * 3600);

    #[test]
    fn strict_rejects_at_exp_exactly() {
        let c = claims(1000, 0);
        assert_eq!(check_expiry(&c, Leniency::Strict, 999, GRACE, CAP), Ok(()));
        assert_eq!(
            check_expiry(&c, Leniency::Strict, 1000, GRACE, CAP),
            Err(AuthError::TokenExpired)
        );
    }

    #[test]
    fn lenient_accepts_up_to_grace_then_refuses() {
        let c = claims(1000, 0);
        assert_eq!(
            check_expiry(&c, Leniency::Lenient, 1000 + 3600, GRACE, CAP),
            Ok(())
        );
        assert_eq!(
            check_expiry(&c, Leniency::Lenient, 1000 + 3601, GRACE, CAP),
            Err(AuthError::RefreshWindowExpired)
        );
    }

    #[test]
    fn session_cap_wins_over_grace() {
        let c = claims(12 * 3600 - 10, 0);
        assert_eq!(
            check_expiry(&c, Leniency::Lenient, 12 * 3600 + 1, GRACE, CAP),
            Err(AuthError::SessionExpired)
        );
    }

    #[test]
    fn a_cached_token_is_still_judged_on_the_time_of_each_use() {
        let Ok(service) = TokenService::new(&[7; 32], TTL, GRACE, CAP) else {
            panic!("HS256 key from bytes");
        };
        let at = |s| OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let c = claims(20_000, 20_000 - 14_400);
        let Ok(token) = service.sign(&c) else {
            panic!("sign");
        };
        assert!(service.verify(&token, Leniency::Strict, at(19_999)).is_ok());
        assert_eq!(service.verified.len(), 1, "cached");
        assert_eq!(
            service.verify(&token, Leniency::Strict, at(20_000)).err(),
            Some(AuthError::TokenExpired),
            "the cache does not remember a verdict, only a signature"
        );
        let forged = format!("{}x", token);
        assert_eq!(
            service.verify(&forged, Leniency::Strict, at(19_999)).err(),
            Some(AuthError::InvalidToken)
        );
        assert_eq!(service.verified.len(), 1, "a bad signature is never cached");
        let Ok(refreshed) = service.sign(&Claims {
            jti: "j-refreshed".into(),
            ..c.clone()
        }) else {
            panic!("sign");
        };
        assert!(
            service
                .verify(&refreshed, Leniency::Rotation, at(19_999))
                .is_ok()
        );
        assert_eq!(
            service.verified.len(),
            1,
            "a token presented to refresh or log out is not kept"
        );
    }

    #[test]
    fn successor_lifetime_is_cut_by_the_session_cap() {
        let Ok(service) = TokenService::new(&[7; 32], Duration::from_secs(4 * 3600), GRACE, CAP)
        else {
            panic!("HS256 key from bytes");
        };
        let c = Claims {
            iat: -4 * 3600,
            exp: 0,
            ..claims(0, 0)
        };
        let at = |s| OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(service.successor_lifetime(&c, at(3600)), Some(4 * 3600));
        assert_eq!(service.successor_lifetime(&c, at(11 * 3600)), Some(3600));
        assert_eq!(service.successor_lifetime(&c, at(12 * 3600)), None);
    }

    #[test]
    fn signing_gives_jsonwebtokens_bytes_and_a_successor_its_own_claims() {
        let Ok(service) = TokenService::new(
            b"a-test-secret-of-at-least-32-bytes!!",
            TTL,
            Duration::from_secs(3600),
            Duration::from_secs(12 * 3600),
        ) else {
            panic!("service");
        };
        let c = claims(20_000, 20_000 - 14_400);
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        let reference = jsonwebtoken::encode(&header, &c, &service.encoding).ok();
        assert_eq!(service.sign(&c).ok(), reference);
        let successor = Claims {
            iat: 20_000,
            exp: 21_000,
            jti: "j2".into(),
            nbf: None,
            ..c.clone()
        };
        assert_eq!(
            service.sign_successor(&c, "j2", 20_000, 21_000).ok(),
            jsonwebtoken::encode(&header, &successor, &service.encoding).ok()
        );
    }
}
