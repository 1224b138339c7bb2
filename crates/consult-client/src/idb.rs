//! The token in IndexedDB: database `consult`, object store `tokens`, key = the token storage
//! key, value = `{token, expiresAt}` (the names: `consult_core::wire`). A read in a transaction sees the last committed write of
//! any tab (unlike `localStorage`, of which Chromium serves each tab a cached copy), and a
//! write resolves only once its transaction has committed.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

use consult_core::wire::{FIELD_EXPIRES_AT, FIELD_TOKEN, IDB_DATABASE, IDB_STORE, IDB_VERSION};

/// The database of one client, opened (and its store created) on first use.
#[derive(Clone, Default)]
pub(crate) struct Idb {
    db: Rc<RefCell<Option<IdbDatabase>>>,
}

/// Waits for a request's `success` (then its result) or `error`.
async fn request_done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let done = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(done).await?;
    request.result()
}

/// Waits for a transaction to commit, or fails on `error` / `abort`.
async fn committed(transaction: &IdbTransaction) -> Result<(), JsValue> {
    let done = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
        transaction.set_onabort(Some(&reject));
    });
    JsFuture::from(done).await.map(drop)
}

impl Idb {
    /// The database; `None`: no IndexedDB here (or it cannot be opened).
    pub(crate) async fn open(&self) -> Option<IdbDatabase> {
        if let Some(db) = self.db.borrow().clone() {
            return Some(db);
        }
        let factory = Reflect::get(&js_sys::global(), &"indexedDB".into()).ok()?;
        let factory: web_sys::IdbFactory = factory.dyn_into().ok()?;
        let request = factory.open_with_u32(IDB_DATABASE, IDB_VERSION).ok()?;
        let upgrading = request.clone();
        let on_upgrade = Closure::<dyn FnMut()>::new(move || {
            let db = upgrading
                .result()
                .ok()
                .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
            if let Some(db) = db {
                let _ = db.create_object_store(IDB_STORE);
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request_done(&request).await.ok()?.dyn_into().ok()?;
        *self.db.borrow_mut() = Some(db.clone());
        Some(db)
    }

    /// Reads `(token, expiresAt)` under `key`.
    pub(crate) async fn read(
        db: &IdbDatabase,
        key: &str,
    ) -> Result<(Option<String>, Option<String>), JsValue> {
        let store = db
            .transaction_with_str(IDB_STORE)?
            .object_store(IDB_STORE)?;
        let value = request_done(&store.get(&key.into())?).await?;
        let text = |field: &str| Reflect::get(&value, &field.into()).ok()?.as_string();
        Ok((text(FIELD_TOKEN), text(FIELD_EXPIRES_AT)))
    }

    /// Stores `{token, expiresAt}` under `key`, or deletes it (`None`); done once committed.
    pub(crate) async fn write(
        db: &IdbDatabase,
        key: &str,
        value: Option<(&str, &str)>,
    ) -> Result<(), JsValue> {
        let transaction =
            db.transaction_with_str_and_mode(IDB_STORE, IdbTransactionMode::Readwrite)?;
        let store = transaction.object_store(IDB_STORE)?;
        match value {
            Some((token, expires_at)) => {
                let record = Object::new();
                Reflect::set(&record, &FIELD_TOKEN.into(), &token.into())?;
                Reflect::set(&record, &FIELD_EXPIRES_AT.into(), &expires_at.into())?;
                store.put_with_key(&record, &key.into())?;
            }
            None => drop(store.delete(&key.into())?),
        }
        committed(&transaction).await
    }
}
