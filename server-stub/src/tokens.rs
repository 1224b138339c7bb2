//! Access tokens: minting, strict verification (Socket.IO) and bounded-lenient verification
//! (refresh, logout, GET session). Revocation and rotation live in [`crate::store`].

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::AuthError;

/// `iss` of every token this server mints and accepts.
pub const ISSUER: &str = "consult-stub";
/// `aud` of every token this server mints and accepts.
pub const AUDIENCE: &str = "consult-video";
/// Longest token string looked at; anything longer is refused unparsed.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

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
    /// `exp` may have passed by up to the refresh grace, within the session max age.
    Lenient,
}

/// Signs and verifies tokens with one HS256 secret and fixed leniency bounds.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    token_ttl: Duration,
    refresh_grace: Duration,
    session_max_age: Duration,
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
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            token_ttl,
            refresh_grace,
            session_max_age,
        })
    }

    /// Lifetime of a fresh token.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// Signs `claims` (HS256).
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|_| AuthError::InvalidToken)
    }

    /// Checks signature, algorithm, issuer, audience, required claims and expiry.
    /// Revocation is not checked here (see [`crate::store::Store`]).
    pub fn verify(
        &self,
        token: &str,
        leniency: Leniency,
        now: OffsetDateTime,
    ) -> Result<Claims, AuthError> {
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?
            .claims;
        check_expiry(
            &claims,
            leniency,
            now.unix_timestamp(),
            self.refresh_grace,
            self.session_max_age,
        )?;
        Ok(claims)
    }

    /// The lifetime a successor of `claims` gets at `now`: the token TTL, but no longer than the
    /// token it replaces, cut to what is left of the session max age. `None` when nothing is left.
    pub fn successor_lifetime(&self, claims: &Claims, now: OffsetDateTime) -> Option<i64> {
        let left =
            claims.auth_time.saturating_add(secs(self.session_max_age)) - now.unix_timestamp();
        // Never longer than the token it replaces: a short-lived (dev) sign-in keeps refreshing
        // at its own pace instead of turning into a 4 h one at the first refresh.
        let previous = (claims.exp - claims.iat).max(1);
        let lifetime = secs(self.token_ttl).min(previous).min(left);
        (lifetime > 0).then_some(lifetime)
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
    match leniency {
        Leniency::Strict if expired => Err(AuthError::TokenExpired),
        Leniency::Strict => Ok(()),
        Leniency::Lenient => {
            if now > claims.auth_time.saturating_add(secs(session_max_age)) {
                Err(AuthError::SessionExpired)
            } else if expired && now > claims.exp.saturating_add(secs(refresh_grace)) {
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
        }
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
    fn successor_lifetime_is_cut_by_the_session_cap() {
        let Ok(service) = TokenService::new(b"k", Duration::from_secs(4 * 3600), GRACE, CAP) else {
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
}
