//! The signed-in state of a `tower-sessions` web session: what it holds,
//! how it is started under a fresh id, and how a request's session becomes
//! a [`Principal`] again (within the idle and absolute limits).

use super::{ApiError, ApiResult, AppState};
use crate::auth::{Principal, resume};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tandem_protocol::{TenantId, UnixMillis, UserId};
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";
/// Activity is written back to the session at most this often.
const TOUCH_EVERY_MILLIS: i64 = 60_000;

/// What a signed-in web session holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthRecord {
    user_id: UserId,
    tenant_id: TenantId,
    signed_in_at: UnixMillis,
    last_seen_at: UnixMillis,
}

async fn session_of(parts: &mut Parts, state: &AppState) -> ApiResult<Session> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, message)| ApiError::Internal(format!("session layer missing: {message}")))
}

/// The principal of the request's web session, if it is signed in and
/// within the session policy.
pub(super) async fn session_principal(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
    let session = session_of(parts, state).await?;
    let Some(mut auth) = session.get::<AuthRecord>(AUTH_KEY).await? else {
        return Err(ApiError::Unauthenticated);
    };
    let now = state.clock.now();
    if state
        .policy
        .expired(auth.signed_in_at, auth.last_seen_at, now)
    {
        session.flush().await?;
        return Err(ApiError::SessionExpired);
    }
    let Some(principal) = resume(&state.store, &auth.user_id, &auth.tenant_id).await? else {
        // The account was removed since sign-in.
        session.flush().await?;
        return Err(ApiError::Unauthenticated);
    };
    if now.millis_since(auth.last_seen_at) >= TOUCH_EVERY_MILLIS {
        auth.last_seen_at = now;
        session.insert(AUTH_KEY, &auth).await?;
    }
    Ok(principal)
}

/// Signs `principal` in on `session`, under a fresh session id: an id
/// planted before sign-in is worthless after it.
pub(super) async fn start_session(
    state: &AppState,
    session: &Session,
    principal: &Principal,
) -> ApiResult<()> {
    session.clear().await;
    session.cycle_id().await?;
    let now = state.clock.now();
    let user = principal.user();
    let record = AuthRecord {
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        signed_in_at: now,
        last_seen_at: now,
    };
    session.insert(AUTH_KEY, &record).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{Store, WebSessionStore, with_one_epoch};
    use std::sync::Arc;
    use tower_sessions::SessionStore;
    use tower_sessions::session::{Id, Record};

    /// The demo tenant on a scratch database, with Megan.
    async fn demo_with_megan() -> (Store, crate::store::UserRecord) {
        let store = Store::open_scratch().await.unwrap();
        crate::seed::seed_demo(&store, UnixMillis(1_000))
            .await
            .unwrap();
        let user = store
            .user_by_email_for_sign_in("megan@contoso.test")
            .await
            .unwrap()
            .unwrap();
        (store, user)
    }

    /// A request reads its caller with its web session: the store's join
    /// follows the key and field this module writes. Shown by renaming
    /// the user between the two reads: authentication still gets the row
    /// read with the session, once; the next read sees the new name.
    #[tokio::test]
    async fn a_request_reads_its_caller_with_its_web_session() {
        let (store, user) = demo_with_megan().await;
        let auth = AuthRecord {
            user_id: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            signed_in_at: UnixMillis(1_000),
            last_seen_at: UnixMillis(1_000),
        };
        let mut record = Record {
            id: Id::default(),
            data: [(AUTH_KEY.to_owned(), serde_json::to_value(&auth).unwrap())].into(),
            expiry_date: time::OffsetDateTime::from_unix_timestamp(4_000_000_000).unwrap(),
        };
        let sessions =
            WebSessionStore::new(store.clone(), Arc::new(ManualClock::new(UnixMillis(1_000))));
        sessions.create(&mut record).await.unwrap();
        let rename = |name: &'static str| {
            let store = store.clone();
            let id = user.id.clone();
            async move {
                sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                    .bind(name)
                    .bind(id.0.as_str())
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
        };
        let name_of = |user: Option<crate::store::UserRecord>| user.unwrap().card.display_name;
        with_one_epoch(async {
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            rename("Renamed").await;
            let first = store
                .user_for_session(&user.id, &user.tenant_id)
                .await
                .unwrap();
            assert_eq!(name_of(first), "Megan Bowen", "read with the session");
            let again = store
                .user_for_session(&user.id, &user.tenant_id)
                .await
                .unwrap();
            assert_eq!(name_of(again), "Renamed", "used once, then read");
        })
        .await;
        // A write of the request empties the slot: what was read before
        // it may have changed.
        with_one_epoch(async {
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            rename("Renamed again").await;
            drop(store.write_gate().await.unwrap());
            let after = store
                .user_for_session(&user.id, &user.tenant_id)
                .await
                .unwrap();
            assert_eq!(name_of(after), "Renamed again");
        })
        .await;
        // A session whose account was removed keeps no user: the caller is
        // read, and is gone.
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user.id.0.as_str())
            .execute(store.pool())
            .await
            .unwrap();
        with_one_epoch(async {
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            let gone = store
                .user_for_session(&user.id, &user.tenant_id)
                .await
                .unwrap();
            assert!(gone.is_none());
        })
        .await;
    }

    /// A request reads the configuration epoch with its web session: a
    /// settings change made after the session's load (moving the epoch)
    /// is not seen by that request, which reads no epoch of its own; the
    /// next request sees it. A request that read an epoch before keeps
    /// that one.
    #[tokio::test]
    async fn a_request_reads_the_configuration_epoch_with_its_web_session() {
        let (store, user) = demo_with_megan().await;
        let scope = crate::auth::TenantScope::for_tests(user.tenant_id.clone());
        let mut record = Record {
            id: Id::default(),
            data: std::collections::HashMap::new(),
            expiry_date: time::OffsetDateTime::from_unix_timestamp(4_000_000_000).unwrap(),
        };
        let sessions =
            WebSessionStore::new(store.clone(), Arc::new(ManualClock::new(UnixMillis(1_000))));
        sessions.create(&mut record).await.unwrap();
        let flip = || async {
            sqlx::query("UPDATE tenant_settings SET chat_enabled = 1 - chat_enabled")
                .execute(store.pool())
                .await
                .unwrap();
        };
        let chat = || async { store.settings(&scope).await.unwrap().chat_enabled };
        let before = chat().await;
        with_one_epoch(async {
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            flip().await;
            assert_eq!(chat().await, before, "the epoch read with the session");
        })
        .await;
        with_one_epoch(async {
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            assert_ne!(chat().await, before, "the next request sees the change");
        })
        .await;
        // An epoch the request read before its session is the one it keeps.
        let now = chat().await;
        with_one_epoch(async {
            assert_eq!(chat().await, now);
            flip().await;
            assert!(sessions.load(&record.id).await.unwrap().is_some());
            assert_eq!(chat().await, now, "one configuration for the request");
        })
        .await;
    }
}
