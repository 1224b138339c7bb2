//! Where the token lives: `localStorage`, `sessionStorage`, memory, or any object with
//! `getItem/setItem/removeItem` (sync or returning promises). A storage that throws (quota,
//! blocked) is replaced by memory, and the caller is told so it can warn.

use std::cell::{Cell, RefCell};

use consult_core::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{ClientError, js_message};

/// Which storage to keep the token in.
#[derive(Debug, Clone)]
pub enum StorageKind {
    /// `window.localStorage` (shared by the tabs of the origin). Falls back to memory without a window.
    Local,
    /// `window.sessionStorage` (one tab).
    Session,
    /// In memory (lost on reload).
    Memory,
    /// A JavaScript object with `getItem(key)`, `setItem(key, value)`, `removeItem(key)`,
    /// each returning a value or a promise.
    Custom(JsValue),
}

/// The storage keys; the seed's by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageKeys {
    /// Key of the access token (`authToken`).
    pub token: String,
    /// Key of the expiry (`tokenExpiresAt`).
    pub expires_at: String,
}

impl Default for StorageKeys {
    fn default() -> Self {
        Self {
            token: String::from("authToken"),
            expires_at: String::from("tokenExpiresAt"),
        }
    }
}

enum Backend {
    Web(web_sys::Storage),
    Memory(RefCell<Vec<(String, String)>>),
    Custom(JsValue),
}

/// The token store of one client.
pub struct TokenStorage {
    backend: RefCell<Backend>,
    shared_with_tabs: Cell<bool>,
}

fn memory() -> Backend {
    Backend::Memory(RefCell::new(Vec::new()))
}

impl TokenStorage {
    /// Opens the storage; a web storage that cannot be opened becomes memory (and `Err` says why,
    /// with the store still usable).
    pub fn open(kind: &StorageKind) -> (TokenStorage, Option<ClientError>) {
        let window = crate::env::window();
        let web = |local: bool| -> Result<Option<web_sys::Storage>, JsValue> {
            match &window {
                None => Ok(None),
                Some(w) if local => w.local_storage(),
                Some(w) => w.session_storage(),
            }
        };
        let (backend, shared, warning) = match kind {
            StorageKind::Memory => (memory(), false, None),
            StorageKind::Custom(object) => (Backend::Custom(object.clone()), false, None),
            StorageKind::Local | StorageKind::Session => {
                let local = matches!(kind, StorageKind::Local);
                match web(local) {
                    Ok(Some(storage)) => (Backend::Web(storage), local, None),
                    Ok(None) => (memory(), false, None),
                    Err(e) => (
                        memory(),
                        false,
                        Some(storage_error("storage unavailable, using memory", &e)),
                    ),
                }
            }
        };
        (
            TokenStorage {
                backend: RefCell::new(backend),
                shared_with_tabs: Cell::new(shared),
            },
            warning,
        )
    }

    /// Whether other tabs see this storage (localStorage), so cross-tab coordination applies.
    pub fn shared_with_tabs(&self) -> bool {
        self.shared_with_tabs.get()
    }

    fn handle(&self) -> Handle {
        match &*self.backend.borrow() {
            Backend::Web(storage) => Handle::Web(storage.clone()),
            Backend::Memory(_) => Handle::Memory,
            Backend::Custom(object) => Handle::Custom(object.clone()),
        }
    }

    fn with_memory<T>(&self, f: impl FnOnce(&mut Vec<(String, String)>) -> T) -> Option<T> {
        match &*self.backend.borrow() {
            Backend::Memory(entries) => Some(f(&mut entries.borrow_mut())),
            _ => None,
        }
    }

    /// Reads `key`.
    pub async fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        match self.handle() {
            Handle::Web(storage) => storage
                .get_item(key)
                .map_err(|e| storage_error("storage read failed", &e)),
            Handle::Memory => Ok(self
                .with_memory(|entries| {
                    entries
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                })
                .flatten()),
            Handle::Custom(object) => Ok(call_custom(&object, "getItem", key, None)
                .await?
                .as_string()),
        }
    }

    /// Writes `key`. A web or custom storage that throws is replaced by memory (which then holds
    /// the value), and the error is returned so the caller can warn.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        let result = match self.handle() {
            Handle::Web(storage) => storage
                .set_item(key, value)
                .map_err(|e| storage_error("storage write failed, using memory", &e)),
            Handle::Memory => Ok(()),
            Handle::Custom(object) => call_custom(&object, "setItem", key, Some(value))
                .await
                .map(|_| ()),
        };
        if result.is_err() {
            *self.backend.borrow_mut() = memory();
            self.shared_with_tabs.set(false);
        }
        self.with_memory(|entries| {
            entries.retain(|(k, _)| k != key);
            entries.push((key.to_owned(), value.to_owned()));
        });
        result
    }

    /// Removes `key` (best effort: a failing removal is ignored).
    pub async fn remove(&self, key: &str) {
        match self.handle() {
            Handle::Web(storage) => {
                let _ = storage.remove_item(key);
            }
            Handle::Memory => {
                self.with_memory(|entries| entries.retain(|(k, _)| k != key));
            }
            Handle::Custom(object) => {
                let _ = call_custom(&object, "removeItem", key, None).await;
            }
        }
    }
}

enum Handle {
    Web(web_sys::Storage),
    Memory,
    Custom(JsValue),
}

fn storage_error(what: &str, cause: &JsValue) -> ClientError {
    let mut message = String::from(what);
    message.push_str(": ");
    message.push_str(&js_message(cause));
    ClientError::new(ErrorCode::Storage, message)
}

/// Calls `object[method](key[, value])`, awaiting the result if it is a promise.
async fn call_custom(
    object: &JsValue,
    method: &str,
    key: &str,
    value: Option<&str>,
) -> Result<JsValue, ClientError> {
    let function = js_sys::Reflect::get(object, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| ClientError::new(ErrorCode::Storage, "storage adapter lacks a method"))?;
    let key = JsValue::from_str(key);
    let returned = match value {
        Some(value) => function.call2(object, &key, &JsValue::from_str(value)),
        None => function.call1(object, &key),
    }
    .map_err(|e| storage_error("storage adapter threw", &e))?;
    match returned.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map_err(|e| storage_error("storage adapter rejected", &e)),
        Err(plain) => Ok(plain),
    }
}
