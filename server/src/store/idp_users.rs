//! Users who sign in through an organization IdP: found by (issuer,
//! subject), linked by e-mail to an existing account of the same tenant on
//! first sign-in, or created; their IdP group memberships are synced.

use super::{Store, StoreError, UserRecord};
use tandem_protocol::{TenantId, UnixMillis, UserId};

/// The most groups of one sign-in's claim whose unchanged memberships are
/// left alone (a statement binds each name; an IdP's overage limit is in
/// the hundreds). A longer claim is synced by writing it all again.
const MAX_CLAIMED_GROUPS: usize = 1_000;

/// What the IdP says about a user, after the ID token was verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdpProfile {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub verified_domain: Option<String>,
    pub photo_url: Option<String>,
    /// Names (or ids) of the groups the IdP says the user is in.
    pub groups: Vec<String>,
}

/// Why an IdP user could not be signed in.
#[derive(Debug, thiserror::Error)]
pub enum IdpUserError {
    #[error("the e-mail address {0} belongs to a user of another tenant")]
    EmailOfAnotherTenant(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IdpUserError {
    fn from(error: sqlx::Error) -> Self {
        IdpUserError::Store(StoreError::Database(error))
    }
}

impl Store {
    /// Finds, links or creates the user for `profile` in `tenant`, brings
    /// the identity card up to date, and syncs IdP group memberships.
    pub(crate) async fn sign_in_idp_user(
        &self,
        tenant: &TenantId,
        profile: &IdpProfile,
        now: UnixMillis,
    ) -> Result<UserRecord, IdpUserError> {
        let email = profile.email.trim().to_lowercase();
        let (_gate, mut tx) = self.begin_write().await?;
        let by_identity: Option<(String, String)> = sqlx::query_as(
            "SELECT id, tenant_id FROM users WHERE idp_issuer = $1 AND idp_subject = $2",
        )
        .bind(profile.issuer.as_str())
        .bind(profile.subject.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let by_email: Option<(String, String)> =
            sqlx::query_as("SELECT id, tenant_id FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let existing = by_identity.or(by_email);
        if let Some((_, other)) = &existing
            && other != &tenant.0
        {
            return Err(IdpUserError::EmailOfAnotherTenant(email));
        }
        let id = match existing {
            Some((id, _)) => {
                sqlx::query(
                    "UPDATE users SET idp_issuer = $1, idp_subject = $2, email = $3, \
                     display_name = $4, given_name = $5, family_name = $6, job_title = $7, \
                     company = $8, verified_domain = $9, photo_url = $10 WHERE id = $11",
                )
                .bind(profile.issuer.as_str())
                .bind(profile.subject.as_str())
                .bind(email.as_str())
                .bind(profile.display_name.as_str())
                .bind(profile.given_name.clone())
                .bind(profile.family_name.clone())
                .bind(profile.job_title.clone())
                .bind(profile.company.clone())
                .bind(profile.verified_domain.clone())
                .bind(profile.photo_url.clone())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO users (id, tenant_id, email, display_name, given_name, \
                     family_name, job_title, company, verified_domain, photo_url, \
                     password_hash, created_at, idp_issuer, idp_subject) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13)",
                )
                .bind(id.as_str())
                .bind(tenant.0.as_str())
                .bind(email.as_str())
                .bind(profile.display_name.as_str())
                .bind(profile.given_name.clone())
                .bind(profile.family_name.clone())
                .bind(profile.job_title.clone())
                .bind(profile.company.clone())
                .bind(profile.verified_domain.clone())
                .bind(profile.photo_url.clone())
                .bind(now.0)
                .bind(profile.issuer.as_str())
                .bind(profile.subject.as_str())
                .execute(&mut *tx)
                .await?;
                id
            }
        };

        // Sync the memberships the IdP owns: the groups claim names groups of
        // the tenant (by name); memberships managed in the console stay.
        // Only what changed is written, so that a sign-in with the same
        // groups leaves the configuration epoch (and every server's cached
        // RBAC reads) alone.
        let names: Vec<&str> = profile.groups.iter().map(String::as_str).collect();
        // Past the bound (a statement binds each name), all the IdP's
        // memberships are written again, which moves the epoch once.
        let stale = if names.is_empty() || names.len() > MAX_CLAIMED_GROUPS {
            "DELETE FROM group_members WHERE user_id = $1 AND source = 'idp'".to_owned()
        } else {
            let claimed: Vec<String> = (0..names.len()).map(|i| format!("${}", i + 3)).collect();
            format!(
                "DELETE FROM group_members WHERE user_id = $1 AND source = 'idp' \
                 AND group_id NOT IN (SELECT id FROM groups WHERE tenant_id = $2 AND name IN ({}))",
                claimed.join(", ")
            )
        };
        let mut delete = sqlx::query(&stale).bind(id.as_str());
        if !names.is_empty() && names.len() <= MAX_CLAIMED_GROUPS {
            delete = delete.bind(tenant.0.as_str());
            for name in &names {
                delete = delete.bind(*name);
            }
        }
        delete.execute(&mut *tx).await?;
        for name in &names {
            sqlx::query(
                "INSERT INTO group_members (group_id, user_id, source) \
                 SELECT g.id, $1, 'idp' FROM groups g WHERE g.tenant_id = $2 AND g.name = $3 \
                 ON CONFLICT (group_id, user_id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(tenant.0.as_str())
            .bind(*name)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let user = self
            .user_for_session(&UserId(id), tenant)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "users",
                reason: "user vanished right after sign-in".into(),
            })?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Authorized;
    use crate::auth::TenantScope;
    use crate::store::NewUser;

    fn profile(subject: &str, email: &str, groups: &[&str]) -> IdpProfile {
        IdpProfile {
            issuer: "https://idp.test".into(),
            subject: subject.into(),
            email: email.into(),
            display_name: "Ann Lee".into(),
            job_title: Some("Engineer".into()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..IdpProfile::default()
        }
    }

    #[tokio::test]
    async fn creates_then_finds_then_syncs_groups() {
        let store = Store::open_scratch().await.unwrap();
        let t = TenantId::from("t");
        store.create_tenant(&t, "T", UnixMillis(0)).await.unwrap();
        store
            .create_group(&Authorized::system(t.clone(), "test"), "Help Desk", &[])
            .await
            .unwrap();
        store
            .create_group(&Authorized::system(t.clone(), "test"), "Finance", &[])
            .await
            .unwrap();

        let first = store
            .sign_in_idp_user(
                &t,
                &profile("s1", "ann@t.test", &["Help Desk", "Nope"]),
                UnixMillis(1),
            )
            .await
            .unwrap();
        assert_eq!(first.card.job_title.as_deref(), Some("Engineer"));
        assert!(first.password_hash.is_none());
        let scope = TenantScope::for_tests(t.clone());
        assert_eq!(
            store
                .user_membership(&scope, &first.id)
                .await
                .unwrap()
                .groups
                .len(),
            1
        );

        let again = store
            .sign_in_idp_user(
                &t,
                &profile("s1", "ann@t.test", &["Finance"]),
                UnixMillis(2),
            )
            .await
            .unwrap();
        assert_eq!(again.id, first.id, "same identity, same user");
        let groups = store
            .user_membership(&scope, &first.id)
            .await
            .unwrap()
            .groups;
        assert_eq!(groups.len(), 1, "IdP memberships follow the claim");

        // The same claim again writes nothing: the configuration epoch,
        // and with it every server's cached RBAC reads, stays.
        let epoch = store.config_epoch().await.unwrap();
        store
            .sign_in_idp_user(
                &t,
                &profile("s1", "ann@t.test", &["Finance"]),
                UnixMillis(3),
            )
            .await
            .unwrap();
        assert_eq!(store.config_epoch().await.unwrap(), epoch);
        assert_eq!(
            store
                .user_membership(&scope, &first.id)
                .await
                .unwrap()
                .groups,
            groups
        );

        // No groups claimed: the IdP's memberships go, and the epoch moves.
        store
            .sign_in_idp_user(&t, &profile("s1", "ann@t.test", &[]), UnixMillis(4))
            .await
            .unwrap();
        assert!(store.config_epoch().await.unwrap() > epoch);
        assert!(
            store
                .user_membership(&scope, &first.id)
                .await
                .unwrap()
                .groups
                .is_empty()
        );
    }

    #[tokio::test]
    async fn links_by_email_within_the_tenant_only() {
        let store = Store::open_scratch().await.unwrap();
        let (a, b) = (TenantId::from("a"), TenantId::from("b"));
        store.create_tenant(&a, "A", UnixMillis(0)).await.unwrap();
        store.create_tenant(&b, "B", UnixMillis(0)).await.unwrap();
        let local = NewUser {
            email: "ann@a.test".into(),
            display_name: "Ann".into(),
            ..NewUser::default()
        };
        let id = store
            .create_user(
                &Authorized::system(a.clone(), "test"),
                &local,
                UnixMillis(0),
            )
            .await
            .unwrap();

        let linked = store
            .sign_in_idp_user(&a, &profile("s1", "ANN@a.test", &[]), UnixMillis(1))
            .await
            .unwrap();
        assert_eq!(linked.id, id);
        assert_eq!(
            linked.card.display_name, "Ann Lee",
            "card updated from the IdP"
        );

        let foreign = store
            .sign_in_idp_user(&b, &profile("s2", "ann@a.test", &[]), UnixMillis(1))
            .await;
        assert!(matches!(
            foreign,
            Err(IdpUserError::EmailOfAnotherTenant(_))
        ));
    }
}
