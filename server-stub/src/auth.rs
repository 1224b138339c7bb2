//! Authentication decisions over HTTP headers and Socket.IO payloads: who is calling, and the
//! refresh with rotation, reuse detection and revocation.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, AuthError};
use crate::state::AppState;
use crate::storage::{MintAt, Rotated, RotationRules, Successor, Unavailable};
use crate::storage::{Presented, RefreshRefused};
use crate::tokens::{AUDIENCE, Claims, ISSUER, Leniency, User};

/// The refresh-shaped answer (also returned by the dev token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// `exp` as RFC 3339 UTC with `Z`.
    pub expires_at: String,
    /// Seconds from now until `exp` (negative for a dev token minted already expired).
    pub expires_in: i64,
    /// Who the token is for.
    pub user: User,
}

/// Extracts the token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, header};
/// use consult_stub::auth::bearer_token;
/// let mut headers = HeaderMap::new();
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
/// assert_eq!(bearer_token(&headers), Ok("abc"));
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?;
    let value = value.to_str().map_err(|_| AuthError::InvalidToken)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    match token.trim() {
        "" => Err(AuthError::MissingToken),
        token => Ok(token),
    }
}

/// Random identifier (128 bits, hex).
pub fn random_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

fn token_response(
    access_token: String,
    exp: i64,
    now: OffsetDateTime,
    user: User,
) -> TokenResponse {
    TokenResponse {
        access_token,
        token_type: "bearer".to_owned(),
        expires_at: rfc3339(exp),
        expires_in: exp.saturating_sub(now.unix_timestamp()),
        user,
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl AppState {
    /// Verifies `token` (signature, claims, expiry under `leniency`, revocation). A token its
    /// sign-in has replaced (outside the reuse window) is refused as superseded, except by
    /// refresh and logout, which judge it themselves. A store that does not answer is
    /// [`ApiError::Unavailable`]: nothing is accepted unchecked.
    pub async fn verify_token(
        &self,
        token: &str,
        leniency: Leniency,
    ) -> Result<Arc<Claims>, ApiError> {
        let claims = self.tokens.verify(token, leniency, self.clock.now())?;
        let storage = self.storage();
        let sign_in = storage.sign_in(&claims.sid).await?;
        // A sign-in the store lost (`unknown`) is refused like a revoked one: fail closed.
        if sign_in.revoked || sign_in.unknown {
            return Err(AuthError::SessionRevoked.into());
        }
        if leniency != Leniency::Rotation
            && !sign_in.is_current(
                &storage.stored_jti(&claims.jti),
                self.clock.now(),
                self.settings.reuse_window,
            )
        {
            return Err(AuthError::TokenSuperseded.into());
        }
        Ok(claims)
    }

    /// Authenticates an HTTP request by its bearer token, counting a refusal under `place`.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        leniency: Leniency,
        place: &'static str,
    ) -> Result<Arc<Claims>, ApiError> {
        let token = bearer_token(headers)
            .inspect_err(|reason| self.stats.credential_rejected(*reason, place))?;
        self.verify_token(token, leniency).await.inspect_err(|e| {
            if let ApiError::Auth(reason) = e {
                self.stats.credential_rejected(*reason, place);
            }
        })
    }

    fn presented<'a>(&self, claims: &'a Claims) -> Result<Presented<'a>, AuthError> {
        Ok(Presented {
            sid: &claims.sid,
            jti: &claims.jti,
            exp: claims.exp,
            end: self
                .tokens
                .sign_in_end(claims)
                .ok_or(AuthError::InvalidToken)?,
        })
    }

    /// The successor of `claims`: same sign-in, a `jti` derived from this token's, a fresh
    /// lifetime from `now` ([`MintAt::Now`]) or the times it got when first minted
    /// ([`MintAt::Again`]: the same token again, signed anew rather than stored).
    fn successor(
        &self,
        claims: &Claims,
        now: OffsetDateTime,
        at: MintAt,
    ) -> Result<Successor, AuthError> {
        let (iat, exp) = match at {
            MintAt::Now => {
                let lifetime = self
                    .tokens
                    .successor_lifetime(claims, now)
                    .ok_or(AuthError::SessionExpired)?;
                let iat = now.unix_timestamp();
                (
                    iat,
                    iat.checked_add(lifetime).ok_or(AuthError::InvalidToken)?,
                )
            }
            MintAt::Again { iat, exp } => (iat, exp),
        };
        let jti = self.tokens.successor_jti(&claims.jti);
        let access_token = self.tokens.sign_successor(claims, &jti, iat, exp)?;
        Ok(Successor {
            jti,
            access_token,
            iat,
            exp,
        })
    }

    /// Refreshes the (possibly expired) token of `headers`: a successor for the sign-in's
    /// current token, the same successor again for its predecessor within the reuse window, and
    /// for any other token of the sign-in, revocation (its sockets are disconnected, on every
    /// instance).
    pub async fn refresh(&self, headers: &HeaderMap) -> Result<TokenResponse, ApiError> {
        let claims = self
            .authenticate(headers, Leniency::Rotation, "refresh")
            .await?;
        let presented = self.presented(&claims)?;
        let now = self.clock.now();
        let rules = RotationRules {
            reuse_window: self.settings.reuse_window,
            burst: self.settings.limits.refresh_burst,
            interval: self.settings.limits.refresh_interval,
        };
        let mint = |at| self.successor(&claims, now, at);
        let rotated = self.storage().rotate(presented, now, rules, &mint).await;
        let answer = match rotated {
            Ok(Rotated::Minted { access_token, exp } | Rotated::Repeat { access_token, exp }) => {
                Ok(token_response(access_token, exp, now, claims.user()))
            }
            Err(RefreshRefused::Auth(reason)) => Err(ApiError::Auth(reason)),
            Err(RefreshRefused::RateLimited) => Err(ApiError::RateLimited {
                retry_after_secs: u32::try_from(
                    self.settings.limits.refresh_interval.as_secs().max(1),
                )
                .unwrap_or(u32::MAX),
            }),
            Err(RefreshRefused::Full) => Err(ApiError::Full("sign-ins")),
            Err(RefreshRefused::Unavailable) => Err(Unavailable.into()),
        };
        if let Err(ApiError::Auth(reason)) = &answer {
            self.stats.credential_rejected(*reason, "refresh");
            if *reason == AuthError::TokenReused {
                tracing::info!(sid = %claims.sid, "refresh token reused after the reuse window: sign-in revoked");
                if let Some(rooms) = self.rooms() {
                    rooms.end_sign_in(&claims.sid, *reason).await;
                }
            }
        }
        answer
    }

    /// Revokes the sign-in of the (possibly expired) token of `headers`, and disconnects its
    /// sockets (on every instance) with an `error` event `session_revoked`.
    pub async fn logout(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let claims = self
            .authenticate(headers, Leniency::Rotation, "logout")
            .await?;
        let presented = self.presented(&claims)?;
        self.storage().revoke(presented, self.clock.now()).await?;
        if let Some(rooms) = self.rooms() {
            rooms
                .end_sign_in(&claims.sid, AuthError::SessionRevoked)
                .await;
        }
        Ok(())
    }

    /// Mints a token for a new sign-in (dev endpoint) and records the sign-in's birth in the
    /// store. `ttl_secs` is clamped to `[-session max age, token TTL]`; a negative one makes a
    /// token that expired that long ago, issued one normal lifetime before its expiry.
    pub async fn mint(&self, user: User, ttl_secs: i64) -> Result<TokenResponse, ApiError> {
        let now = self.clock.now();
        let ttl = secs(self.tokens.token_ttl());
        let ttl_secs = ttl_secs.clamp(-secs(self.settings.session_max_age), ttl);
        let exp = now.unix_timestamp().saturating_add(ttl_secs);
        let iat = if ttl_secs > 0 {
            now.unix_timestamp()
        } else {
            exp.saturating_sub(ttl)
        };
        let claims = Claims {
            sub: user.user_id.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
            name: user.name.clone(),
            iat,
            exp,
            jti: random_id(),
            sid: random_id(),
            auth_time: iat,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            nbf: None,
        };
        let access_token = self.tokens.sign(&claims)?;
        let presented = self.presented(&claims)?;
        self.storage()
            .begin_sign_in(presented, now, self.settings.limits.refresh_burst)
            .await?;
        Ok(token_response(access_token, exp, now, user))
    }
}
