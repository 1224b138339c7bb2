//! A bounded cache of verified tokens: what never changes for a given token string (signature,
//! algorithm, `typ`, the decoded claims) is computed once. Expiry and revocation are not part of
//! what is cached: they are checked on every use, so a revoked or expired token is refused the
//! moment it is, cached or not. Only tokens whose signature verified are stored; when the cache
//! is full it starts over (bounded memory, no eviction bookkeeping on the hot path).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::tokens::Claims;

/// Most tokens held (about 1 KB each with their claims: ~4 MB at most).
pub const VERIFIED_TOKENS_KEPT: usize = 4096;

/// Token string → its verified claims.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, Arc<Claims>>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before.
    pub fn get(&self, token: &str) -> Option<Arc<Claims>> {
        self.lock().get(token).cloned()
    }

    /// Remembers that `token` verified to `claims`.
    pub fn insert(&self, token: &str, claims: Arc<Claims>) {
        let mut entries = self.lock();
        if entries.len() >= VERIFIED_TOKENS_KEPT {
            entries.clear();
        }
        entries.insert(token.into(), claims);
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Claims>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
