//! Web sessions for `tower-sessions`, kept in the same database.
//!
//! Whether a signed-in session is still valid is judged by the auth
//! extractor with the injected clock (idle and absolute limits). Records past
//! their expiry are swept by [`WebSessionStore::delete_expired`]; `load` does
//! not second-guess the extractor with a different notion of "now".

use super::{Store, UserRecord};
use crate::clock::Clock;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::cell::RefCell;
use std::sync::{Arc, LazyLock};
use tandem_protocol::UserId;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

tokio::task_local! {
    /// The user the request's web session names, read with the session
    /// (a slot of the request's scope, `store::with_one_epoch`).
    static SESSION_USER: RefCell<Option<UserRecord>>;
}

/// Runs `work` with an empty [`SESSION_USER`] slot.
pub(super) async fn with_session_user_slot<F: std::future::Future>(work: F) -> F::Output {
    SESSION_USER.scope(RefCell::new(None), work).await
}

/// The user read with the request's web session, if it is `id` and the
/// request has not written since: taken, so it serves one read.
pub(super) fn take_session_user(id: &UserId) -> Option<UserRecord> {
    SESSION_USER
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            slot.as_ref().filter(|user| &user.id == id)?;
            slot.take()
        })
        .ok()
        .flatten()
}

/// The request writes (any [`Store::write_gate`]): a user read before may
/// have changed, so the next read of the caller goes to the database.
pub(super) fn forget_session_user() {
    let _ = SESSION_USER.try_with(|slot| slot.borrow_mut().take());
}

/// Keeps the user of a loaded session's row for [`take_session_user`].
/// A row without one (signed out, or the account removed) keeps nothing,
/// and authentication reads the user as before.
fn keep_session_user(row: &AnyRow) {
    let user = match row.try_get::<Option<String>, _>("id") {
        Ok(Some(_)) => super::directory::user_from_row(row).ok(),
        _ => None,
    };
    let _ = SESSION_USER.try_with(|slot| *slot.borrow_mut() = user);
}

/// A web session with the user its signed-in state names and the
/// configuration epoch (a request then reads its caller and its epoch
/// with its session: one statement instead of three). The state is
/// `tower-sessions`' JSON map; `http/web_session.rs` writes the user's id
/// at `auth.user_id`.
fn load_sql(user_id_of_data: &str) -> String {
    let user_columns = super::directory::USER_COLUMNS
        .split(',')
        .map(|column| format!("u.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT w.data, w.expires_at_secs, \
         (SELECT version FROM config_epoch WHERE id = 1) AS config_epoch, \
         {user_columns} FROM web_sessions w \
         LEFT JOIN users u ON u.id = {user_id_of_data} WHERE w.id = $1"
    )
}

static LOAD_SQLITE: LazyLock<String> =
    LazyLock::new(|| load_sql("json_extract(w.data, '$.auth.user_id')"));
// PostgreSQL's JSON functions refuse the escape `\u0000` anywhere in the
// document ("unsupported Unicode escape sequence"), and a session's data
// may hold one (a `next` address is kept as given until it is checked).
// Such a session is loaded without its user, which is then read apart.
static LOAD_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    load_sql(
        "(CASE WHEN strpos(w.data, '\\u0000') = 0 \
         THEN w.data::json #>> '{auth,user_id}' END)",
    )
});

/// A `tower_sessions::SessionStore` over [`Store`].
#[derive(Clone)]
pub struct WebSessionStore {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSessionStore").finish_non_exhaustive()
    }
}

/// What a web-session read or write says when the database cannot be
/// reached, so that the web layer answers 503 rather than 500.
pub const DATABASE_UNAVAILABLE: &str = "database unavailable";

fn backend(error: sqlx::Error) -> session_store::Error {
    let error = super::StoreError::Database(error);
    if error.is_unavailable() {
        session_store::Error::Backend(DATABASE_UNAVAILABLE.to_owned())
    } else {
        session_store::Error::Backend(error.to_string())
    }
}

impl WebSessionStore {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().0.div_euclid(1000)
    }

    /// Deletes every expired session; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, super::StoreError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at_secs <= $1")
            .bind(self.now_secs())
            .execute(self.store.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SessionStore for WebSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // Ids are 128 random bits; a collision is astronomically unlikely, but
        // never overwrite another user's session: draw again instead.
        let _gate = self.store.write_gate().await.map_err(backend)?;
        loop {
            let inserted = sqlx::query(
                "INSERT INTO web_sessions (id, data, expires_at_secs) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(data.as_str())
            .bind(record.expiry_date.unix_timestamp())
            .execute(self.store.pool())
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let _gate = self.store.write_gate().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO web_sessions (id, data, expires_at_secs) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
             expires_at_secs = excluded.expires_at_secs",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .execute(self.store.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sql = match self.store.backend() {
            super::Backend::Sqlite => &*LOAD_SQLITE,
            super::Backend::Postgres => &*LOAD_POSTGRES,
        };
        let mut conn = self.store.conn().await.map_err(backend)?;
        let row = sqlx::query(sql)
            .bind(id.to_string())
            .fetch_optional(conn.connection().map_err(backend)?)
            .await
            .map_err(backend)?;
        drop(conn);
        let Some(row) = row else {
            return Ok(None);
        };
        let (data, expires): (String, i64) = (
            row.try_get("data").map_err(backend)?,
            row.try_get("expires_at_secs").map_err(backend)?,
        );
        keep_session_user(&row);
        if let Ok(Some(epoch)) = row.try_get::<Option<i64>, _>("config_epoch") {
            super::config_cache::note_request_epoch(epoch);
        }
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _gate = self.store.write_gate().await.map_err(backend)?;
        sqlx::query("DELETE FROM web_sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.store.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use tandem_protocol::UnixMillis;

    fn record(expiry_secs: i64) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("k".to_owned(), serde_json::json!("v"));
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(expiry_secs).unwrap(),
        }
    }

    #[tokio::test]
    async fn records_round_trip_and_are_swept_by_the_clock() {
        let clock = Arc::new(ManualClock::new(UnixMillis(1_000_000)));
        let store = WebSessionStore::new(Store::open_scratch().await.unwrap(), clock.clone());
        let mut rec = record(1_060);
        store.create(&mut rec).await.unwrap();
        let mut later = record(9_999);
        store.create(&mut later).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, rec.data);
        assert_eq!(loaded.expiry_date, rec.expiry_date);

        assert_eq!(store.delete_expired().await.unwrap(), 0, "not yet");
        clock.advance_millis(60_000);
        assert_eq!(store.delete_expired().await.unwrap(), 1);
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert!(store.load(&later.id).await.unwrap().is_some());
    }

    /// A session's data may hold any string, `\u0000` included (an
    /// address kept as given until it is checked): it still loads, on
    /// both backends (PostgreSQL's JSON functions refuse the escape).
    #[tokio::test]
    async fn a_session_holding_a_nul_escape_still_loads() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let store = WebSessionStore::new(Store::open_scratch().await.unwrap(), clock);
        let mut rec = record(100);
        rec.data
            .insert("next".into(), serde_json::json!("/devices\u{0}x"));
        store.create(&mut rec).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["next"], "/devices\u{0}x");
    }

    #[tokio::test]
    async fn delete_removes_and_save_updates() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let store = WebSessionStore::new(Store::open_scratch().await.unwrap(), clock);
        let mut rec = record(100);
        store.create(&mut rec).await.unwrap();
        rec.data.insert("k".into(), serde_json::json!("w"));
        store.save(&rec).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["k"], "w");
        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
    }
}
