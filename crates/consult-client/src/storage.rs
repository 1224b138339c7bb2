//! Where the token lives, and the token session's storage actions carried out there.
//!
//! [`StorageKind::Local`] keeps it in IndexedDB (`idb.rs`), the store the cross-tab lock
//! protects, and mirrors every write and clear to `localStorage` under the seed's keys so older
//! code keeps working. A read finds the IndexedDB entry or, when there is none (after an
//! upgrade from the seed), the mirror's. Where IndexedDB is unavailable, `localStorage` itself
//! is the store (a tab may then read a stale copy after the lock; the server's reuse window
//! covers it). A storage that throws answers `ok: false`: the session then lives in memory.

use consult_core::session::{Action, Input};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::idb::Idb;

/// Which storage to keep the token in.
#[derive(Debug, Clone)]
pub enum StorageKind {
    /// IndexedDB, mirrored to `localStorage` (shared by the tabs of the origin).
    Local,
    /// `window.sessionStorage` (one tab).
    Session,
    /// In memory (lost on reload).
    Memory,
    /// A JavaScript object with `getItem(key)`, `setItem(key, value)`, `removeItem(key)`, each
    /// returning a value or a promise (not shared: no cross-tab coordination).
    Custom(JsValue),
}

/// The storage keys; the seed's by default.
///
/// ```
/// assert_eq!(consult_client::StorageKeys::default().expires_at, "tokenExpiresAt");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageKeys {
    /// Key of the access token (`authToken`); also the IndexedDB key.
    pub token: String,
    /// Key of the expiry (`tokenExpiresAt`).
    pub expires_at: String,
}

impl Default for StorageKeys {
    fn default() -> Self {
        Self {
            token: String::from(consult_core::wire::TOKEN_KEY),
            expires_at: String::from(consult_core::wire::EXPIRES_KEY),
        }
    }
}

/// The storage of one client (cheap to clone into a task): IndexedDB and/or an object with
/// `getItem` / `setItem` / `removeItem` (a web storage or the application's adapter).
#[derive(Clone)]
pub(crate) struct Store {
    idb: Option<Idb>,
    items: Option<JsValue>,
    keys: StorageKeys,
}

type Stored = (Option<String>, Option<String>);

impl Store {
    pub(crate) fn new(kind: &StorageKind, keys: StorageKeys) -> Store {
        let window = crate::env::window();
        let items: Option<JsValue> = match kind {
            StorageKind::Local => window.and_then(|w| w.local_storage().ok()?).map(Into::into),
            StorageKind::Session => window
                .and_then(|w| w.session_storage().ok()?)
                .map(Into::into),
            StorageKind::Custom(object) => Some(object.clone()),
            StorageKind::Memory => None,
        };
        let idb = matches!(kind, StorageKind::Local).then(Idb::default);
        Store { idb, items, keys }
    }

    /// Whether the tabs of the origin share this storage (IndexedDB and `localStorage` do).
    pub(crate) fn shared_with_tabs(&self) -> bool {
        self.idb.is_some()
    }

    /// The mirror's token key, whose `storage` events announce other tabs' tokens.
    pub(crate) fn mirror_key(&self) -> Option<String> {
        (self.idb.is_some() && self.items.is_some()).then(|| self.keys.token.clone())
    }

    /// Carries out a storage action; the input that answers it.
    pub(crate) async fn perform(self, action: Action) -> Option<Input> {
        Some(match action {
            Action::ReadStorage { op } => match self.read().await {
                Ok((token, expires_at)) => Input::StorageRead {
                    op,
                    token,
                    expires_at,
                },
                Err(_) => Input::StorageDone { op, ok: false },
            },
            Action::WriteStorage {
                op,
                token,
                expires_at,
            } => {
                let ok = self.write(Some((&token, &expires_at))).await.is_ok();
                Input::StorageDone { op, ok }
            }
            Action::ClearStorage { op } => {
                let ok = self.write(None).await.is_ok();
                Input::StorageDone { op, ok }
            }
            _ => return None,
        })
    }

    async fn read(&self) -> Result<Stored, JsValue> {
        let keys = &self.keys;
        let database = self.database().await;
        if let Some(db) = &database {
            let found = Idb::read(db, &keys.token).await?;
            if found.0.is_some() {
                return Ok(found);
            }
        }
        match &self.items {
            Some(items) => {
                let token = call(items, "getItem", &keys.token, None).await?;
                let expires_at = call(items, "getItem", &keys.expires_at, None).await?;
                Ok((token.as_string(), expires_at.as_string()))
            }
            None if database.is_some() => Ok((None, None)),
            None => Err(JsValue::from_str("no storage here")),
        }
    }

    /// Writes (or, with `None`, removes) the token and its expiry wherever this store keeps them.
    async fn write(&self, value: Option<(&str, &str)>) -> Result<(), JsValue> {
        let keys = &self.keys;
        let database = self.database().await;
        if let Some(db) = &database {
            Idb::write(db, &keys.token, value).await?;
        }
        let Some(items) = &self.items else {
            return match database {
                Some(_) => Ok(()),
                None => Err(JsValue::from_str("no storage here")),
            };
        };
        for (key, value) in [
            (&keys.token, value.map(|v| v.0)),
            (&keys.expires_at, value.map(|v| v.1)),
        ] {
            let method = if value.is_some() {
                "setItem"
            } else {
                "removeItem"
            };
            let written = call(items, method, key, value).await;
            // As the mirror of IndexedDB, `localStorage` is best effort; as the store, it counts.
            if database.is_none() {
                written?;
            }
        }
        Ok(())
    }

    async fn database(&self) -> Option<web_sys::IdbDatabase> {
        self.idb.as_ref()?.open().await
    }
}

/// Calls `object[method](key[, value])`, awaiting the result if it is a promise.
async fn call(
    object: &JsValue,
    method: &str,
    key: &str,
    value: Option<&str>,
) -> Result<JsValue, JsValue> {
    let function: js_sys::Function = js_sys::Reflect::get(object, &method.into())?.dyn_into()?;
    let returned = match value {
        Some(value) => function.call2(object, &key.into(), &value.into())?,
        None => function.call1(object, &key.into())?,
    };
    match returned.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(plain) => Ok(plain),
    }
}
