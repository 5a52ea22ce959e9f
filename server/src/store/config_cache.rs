//! What the settings and the RBAC resolver read, kept in memory while the
//! configuration epoch is unchanged.
//!
//! The epoch is one number in the database (`config_epoch`) that triggers
//! on every table behind [`Store::settings`], [`Store::policy`] and
//! [`Store::user_membership`] move forward in the changing transaction
//! itself, so no write path can forget it, and a change made on any
//! replica (or by hand in SQL) is seen by the next read everywhere. Each
//! read costs one primary-key lookup of the epoch instead of up to eight
//! statements; a session setup ran about 25 of them.
//!
//! An entry is stored under the epoch read *before* it was loaded, so what
//! it holds is never older than that epoch, and it is used only for that
//! epoch: any other one empties the cache.
//!
//! A request reads the epoch with its web session (`web_sessions.rs`), in
//! the same statement, so most requests never read it on its own.

use super::{Store, StoreResult};
use crate::auth::TenantScope;
use crate::domain::rbac::{Membership, Policy};
use std::collections::HashMap;
use std::sync::Mutex;
use tandem_protocol::settings::TenantSettings;
use tandem_protocol::{TenantId, UserId};

/// People whose groups are kept; past it the memberships start over.
const MAX_MEMBERSHIPS: usize = 50_000;

tokio::task_local! {
    /// The epoch the current request read, until it writes.
    static REQUEST_EPOCH: std::cell::Cell<Option<i64>>;
}

/// Runs one request so that its configuration reads share one read of the
/// epoch: the request sees one configuration throughout, and after a write
/// of its own (any [`Store::write_gate`]) it reads the epoch again, so it
/// sees what it changed. Work outside such a scope (sockets, streams,
/// housekeeping) reads the epoch every time.
///
/// The scope also keeps the user that the request's web session names,
/// read with the session, for the request's authentication
/// (`web_sessions::take_session_user`).
pub async fn with_one_epoch<F: std::future::Future>(work: F) -> F::Output {
    let work = super::web_sessions::with_session_user_slot(work);
    REQUEST_EPOCH.scope(std::cell::Cell::new(None), work).await
}

/// The epoch as a statement of the current request read it with something
/// else (its web session): its configuration reads use it, unless it
/// already read one. Outside a request nothing is kept.
pub(super) fn note_request_epoch(epoch: i64) {
    let _ = REQUEST_EPOCH.try_with(|kept| {
        if kept.get().is_none() {
            kept.set(Some(epoch));
        }
    });
}

/// The current request wrote: its next configuration read reads the epoch.
pub(super) fn forget_request_epoch() {
    // Outside a request there is nothing to forget.
    let _ = REQUEST_EPOCH.try_with(|epoch| epoch.set(None));
}

#[derive(Debug, Default)]
pub(super) struct ConfigCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    epoch: i64,
    settings: HashMap<TenantId, TenantSettings>,
    policies: HashMap<TenantId, Policy>,
    memberships: HashMap<(TenantId, UserId), Membership>,
}

impl Entries {
    /// Moves to `epoch` if it is another one (forgetting everything):
    /// newer after a change, or older for a request that read it before
    /// the change, or after the database was restored from a backup.
    fn at(&mut self, epoch: i64) {
        if epoch != self.epoch {
            *self = Entries {
                epoch,
                ..Entries::default()
            };
        }
    }
}

impl ConfigCache {
    fn get<T>(&self, epoch: i64, pick: impl FnOnce(&Entries) -> Option<T>) -> Option<T> {
        // A poisoned lock is a miss: the database answers instead.
        let mut entries = self.entries.lock().ok()?;
        entries.at(epoch);
        pick(&entries)
    }

    fn put(&self, epoch: i64, keep: impl FnOnce(&mut Entries)) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.at(epoch);
            keep(&mut entries);
        }
    }
}

impl Store {
    /// The configuration epoch now.
    pub(super) async fn config_epoch(&self) -> StoreResult<i64> {
        if let Ok(Some(epoch)) = REQUEST_EPOCH.try_with(std::cell::Cell::get) {
            return Ok(epoch);
        }
        let epoch = sqlx::query_scalar("SELECT version FROM config_epoch WHERE id = 1")
            .fetch_one(self.conn().await?.connection()?)
            .await?;
        // Outside a request nothing is kept.
        let _ = REQUEST_EPOCH.try_with(|kept| kept.set(Some(epoch)));
        Ok(epoch)
    }

    /// What `get` finds for the epoch now, or what `load` reads, then kept
    /// by `keep` for that epoch.
    async fn cached<T: Clone, F>(
        &self,
        get: impl FnOnce(&Entries) -> Option<T>,
        load: impl FnOnce() -> F,
        keep: impl FnOnce(&mut Entries, T),
    ) -> StoreResult<T>
    where
        F: std::future::Future<Output = StoreResult<T>>,
    {
        let epoch = self.config_epoch().await?;
        if let Some(found) = self.config.get(epoch, get) {
            return Ok(found);
        }
        let loaded = load().await?;
        self.config.put(epoch, |e| keep(e, loaded.clone()));
        Ok(loaded)
    }

    /// The caller's tenant settings (defaults if none were ever saved).
    pub async fn settings(&self, scope: &TenantScope) -> StoreResult<TenantSettings> {
        let tenant = scope.tenant_id();
        self.cached(
            |e| e.settings.get(tenant).cloned(),
            || self.load_settings(scope),
            |e, loaded| {
                e.settings.insert(tenant.clone(), loaded);
            },
        )
        .await
    }

    /// The tenant's roles and assignments, for the resolver.
    pub async fn policy(&self, scope: &TenantScope) -> StoreResult<Policy> {
        let tenant = scope.tenant_id();
        self.cached(
            |e| e.policies.get(tenant).cloned(),
            || self.load_policy(scope),
            |e, loaded| {
                e.policies.insert(tenant.clone(), loaded);
            },
        )
        .await
    }

    /// The groups a user of the tenant is a member of.
    pub async fn user_membership(
        &self,
        scope: &TenantScope,
        user: &UserId,
    ) -> StoreResult<Membership> {
        let key = (scope.tenant_id().clone(), user.clone());
        self.cached(
            |e| e.memberships.get(&key).cloned(),
            || self.load_user_membership(scope, user),
            |e, loaded| {
                if e.memberships.len() >= MAX_MEMBERSHIPS {
                    e.memberships.clear();
                }
                e.memberships.insert(key.clone(), loaded);
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rbac::Membership;

    fn tenant() -> TenantId {
        TenantId::from("t1")
    }

    fn membership(group: &str) -> Membership {
        Membership {
            groups: [tandem_protocol::GroupId(group.into())].into(),
        }
    }

    fn cached(cache: &ConfigCache, epoch: i64) -> Option<Membership> {
        let key = (tenant(), UserId("u".into()));
        cache.get(epoch, |e| e.memberships.get(&key).cloned())
    }

    fn keep(cache: &ConfigCache, epoch: i64, group: &str) {
        cache.put(epoch, |e| {
            e.memberships
                .insert((tenant(), UserId("u".into())), membership(group));
        });
    }

    /// The demo tenant on a scratch database, with Megan (a helper).
    async fn demo_with_megan() -> (Store, crate::store::UserRecord, TenantScope) {
        let store = Store::open_scratch().await.unwrap();
        crate::seed::seed_demo(&store, tandem_protocol::UnixMillis(1_000))
            .await
            .unwrap();
        let megan = store
            .user_by_email_for_sign_in("megan@contoso.test")
            .await
            .unwrap()
            .unwrap();
        let scope = TenantScope::for_tests(megan.tenant_id.clone());
        (store, megan, scope)
    }

    /// Every change behind the cached reads, even one made in SQL that no
    /// store method knows of (as another replica's or an operator's), is
    /// seen by the next read: the triggers move the epoch. Runs on both
    /// backends.
    #[tokio::test]
    async fn a_change_made_anywhere_is_seen_by_the_next_read() {
        let (store, megan, scope) = demo_with_megan().await;
        let exec = |sql: &'static str| {
            let store = store.clone();
            async move {
                sqlx::query(sql).execute(store.pool()).await.unwrap();
            }
        };

        let before = store.config_epoch().await.unwrap();
        let settings = store.settings(&scope).await.unwrap();
        assert_eq!(store.settings(&scope).await.unwrap(), settings);
        exec("UPDATE tenant_settings SET chat_enabled = 1 - chat_enabled").await;
        let after = store.settings(&scope).await.unwrap();
        assert_ne!(after.chat_enabled, settings.chat_enabled);
        assert!(store.config_epoch().await.unwrap() > before);

        let membership = store.user_membership(&scope, &megan.id).await.unwrap();
        assert!(
            !membership.groups.is_empty(),
            "the demo puts Megan in groups"
        );
        exec("DELETE FROM group_members WHERE user_id IN (SELECT id FROM users WHERE email = 'megan@contoso.test')").await;
        assert!(
            store
                .user_membership(&scope, &megan.id)
                .await
                .unwrap()
                .groups
                .is_empty()
        );

        let policy = store.policy(&scope).await.unwrap();
        assert!(
            policy.assignments.len() > 1,
            "the demo has several assignments"
        );
        let before = store.config_epoch().await.unwrap();
        exec("DELETE FROM assignments").await;
        assert!(store.policy(&scope).await.unwrap().assignments.is_empty());
        // On PostgreSQL a transaction moves the epoch once, however many
        // rows it changes (SQLite's one writer moves it per row).
        let moved = store.config_epoch().await.unwrap() - before;
        match store.backend() {
            super::super::Backend::Postgres => assert_eq!(moved, 1),
            super::super::Backend::Sqlite => assert!(moved > 1),
        }

        // A read changes nothing: the epoch stays, and the cache answers.
        let epoch = store.config_epoch().await.unwrap();
        store.policy(&scope).await.unwrap();
        store.settings(&scope).await.unwrap();
        assert_eq!(store.config_epoch().await.unwrap(), epoch);
        let tenant = scope.tenant_id();
        assert!(
            store
                .config
                .get(epoch, |e| e.policies.get(tenant).cloned())
                .is_some()
        );
        assert!(
            store
                .config
                .get(epoch, |e| e.settings.get(tenant).cloned())
                .is_some()
        );
    }

    /// Within one request the epoch is read once, until the request writes
    /// (a count in the rate windows does not count); outside one, every
    /// read reads it.
    #[tokio::test]
    async fn a_request_reads_the_epoch_once_until_it_writes() {
        let (store, _megan, scope) = demo_with_megan().await;
        let flip = "UPDATE tenant_settings SET chat_enabled = 1 - chat_enabled";
        let chat = || async { store.settings(&scope).await.unwrap().chat_enabled };
        let before = chat().await;
        with_one_epoch(async {
            assert_eq!(chat().await, before);
            // Changed behind the request's back: it keeps one configuration.
            sqlx::query(flip).execute(store.pool()).await.unwrap();
            assert_eq!(chat().await, before);
            // A rate window's count is no configuration: still the same.
            let at = tandem_protocol::UnixMillis(5_000);
            store.count_in_windows(&[("k", 60_000)], at).await.unwrap();
            store.uncount("k").await.unwrap();
            assert_eq!(chat().await, before);
            // After a write of its own, it reads the epoch again.
            drop(store.write_gate().await.unwrap());
            assert_ne!(chat().await, before);
        })
        .await;
        // Outside a request, every read sees the latest.
        sqlx::query(flip).execute(store.pool()).await.unwrap();
        assert_eq!(chat().await, before);
    }

    #[test]
    fn an_entry_serves_its_own_epoch_only() {
        let cache = ConfigCache::default();
        keep(&cache, 3, "a");
        assert_eq!(cached(&cache, 3), Some(membership("a")));
        // A newer epoch forgets it, and going back does not bring it back.
        assert_eq!(cached(&cache, 4), None);
        assert_eq!(cached(&cache, 3), None);
    }

    #[test]
    fn what_was_loaded_under_another_epoch_is_never_served() {
        let cache = ConfigCache::default();
        keep(&cache, 5, "new");
        // A request that read the epoch before the change, or a database
        // restored from a backup: an older epoch starts over too.
        keep(&cache, 4, "old");
        assert_eq!(cached(&cache, 5), None);
        assert_eq!(cached(&cache, 4), None);
        keep(&cache, 4, "restored");
        assert_eq!(cached(&cache, 4), Some(membership("restored")));
    }
}
