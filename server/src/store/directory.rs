//! Users and groups of a tenant's directory.

use super::audit::{AuditEntry, record};
use super::report_writes::{RECORD_FACTS, RecordFacts};
use super::{RbacChangeError, Store, StoreError, StoreResult, unique_violation};
use crate::auth::{Authorized, ManageRoles, TenantScope};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tandem_protocol::admin::UserDraft;
use tandem_protocol::auth::UserCard;
use tandem_protocol::directory::UserRow;
use tandem_protocol::{GroupId, SessionId, TenantId, UnixMillis, UserId};

/// A user as stored. `password_hash` never leaves the server.
#[derive(Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub card: UserCard,
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.card.email)
            .finish_non_exhaustive()
    }
}

/// What it takes to create a user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub verified_domain: Option<String>,
    pub photo_url: Option<String>,
    pub password_hash: Option<String>,
}

pub(super) const USER_COLUMNS: &str = "id, tenant_id, email, display_name, job_title, company, \
     verified_domain, photo_url, password_hash";

/// The users `$1` and `$2` (part 0) and the record facts of session `$3`
/// (part 1), as rows of one shape.
static SESSION_VIEW_READS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let user_blanks = USER_COLUMNS
        .split(',')
        .map(|column| match column.trim() {
            "id" => "session_id AS id".to_owned(),
            "tenant_id" => "tenant_id".to_owned(),
            "email" | "display_name" => format!("'' AS {}", column.trim()),
            other => format!("NULL AS {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let fact_blanks = RECORD_FACTS
        .split(',')
        .map(|column| match column.trim() {
            "ticket" => "NULL AS ticket".to_owned(),
            count => format!("CAST(0 AS BIGINT) AS {count}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT CAST(0 AS BIGINT) AS part, {USER_COLUMNS}, {fact_blanks} FROM users \
         WHERE id = $1 OR id = $2 \
         UNION ALL \
         SELECT CAST(1 AS BIGINT) AS part, {user_blanks}, {RECORD_FACTS} FROM session_reports \
         WHERE session_id = $3"
    )
});

pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<UserRecord> {
    let id = UserId(row.try_get("id")?);
    Ok(UserRecord {
        tenant_id: TenantId(row.try_get("tenant_id")?),
        card: UserCard {
            id: id.clone(),
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
            job_title: row.try_get("job_title")?,
            company: row.try_get("company")?,
            verified_domain: row.try_get("verified_domain")?,
            photo_url: row.try_get("photo_url")?,
        },
        password_hash: row.try_get("password_hash")?,
        id,
    })
}

impl Store {
    /// Creates a user in the authorized tenant, for the server's own
    /// seeding and tests (administrators go through `create_user_as`, which
    /// audits). E-mail addresses are unique and compared case-insensitively.
    pub(crate) async fn create_user(
        &self,
        auth: &Authorized<ManageRoles>,
        user: &NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserId> {
        let tenant = auth.scope().tenant_id();
        let id = UserId(uuid::Uuid::new_v4().to_string());
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, display_name, given_name, family_name, \
             job_title, company, verified_domain, photo_url, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id.0.as_str())
        .bind(tenant.0.as_str())
        .bind(user.email.trim().to_lowercase())
        .bind(user.display_name.as_str())
        .bind(user.given_name.clone())
        .bind(user.family_name.clone())
        .bind(user.job_title.clone())
        .bind(user.company.clone())
        .bind(user.verified_domain.clone())
        .bind(user.photo_url.clone())
        .bind(user.password_hash.clone())
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| unique_violation(e, "user e-mail"))?;
        Ok(id)
    }

    /// Looks a user up by e-mail for sign-in. Only authentication may call
    /// this: it crosses tenants because the e-mail names the tenant.
    pub(crate) async fn user_by_email_for_sign_in(
        &self,
        email: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Loads the user a web session belongs to. Only authentication may call
    /// this, with ids it wrote into the session itself.
    pub(crate) async fn user_for_session(
        &self,
        id: &UserId,
        tenant: &TenantId,
    ) -> StoreResult<Option<UserRecord>> {
        // By the primary key alone, the tenant checked here (every request
        // reads its caller this way): with the tenant in the WHERE clause,
        // PostgreSQL may plan a growing table through `users_tenant` and
        // scan the tenant's users (as it did for sessions, see
        // `Store::session`).
        // Read with the web session, if the request's session was loaded
        // in this request's scope (`web_sessions::take_session_user`).
        let user = match super::web_sessions::take_session_user(id) {
            Some(user) => Some(user),
            None => {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(id.0.as_str())
                    .fetch_optional(self.conn().await?.connection()?)
                    .await?;
                row.as_ref().map(user_from_row).transpose()?
            }
        };
        Ok(user.filter(|u| &u.tenant_id == tenant))
    }

    /// What every view of a session shows from the database, in one read:
    /// its helper and its sharer (when it has one), of `tenant`, by primary
    /// key, and the facts of its record.
    pub(crate) async fn session_view_reads(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        helper: &UserId,
        sharer: Option<&UserId>,
    ) -> StoreResult<(Option<UserRecord>, Option<UserRecord>, RecordFacts)> {
        let rows = sqlx::query(&SESSION_VIEW_READS)
            .bind(helper.0.as_str())
            .bind(sharer.unwrap_or(helper).0.as_str())
            .bind(session.0.as_str())
            .fetch_all(self.conn().await?.connection()?)
            .await?;
        let (mut users, mut facts) = (Vec::new(), RecordFacts::default());
        for row in &rows {
            if row.try_get::<i64, _>("part")? == 0 {
                users.push(user_from_row(row)?);
            } else {
                facts = super::report_writes::record_facts_from_row(row)?;
            }
        }
        let pick = |id: &UserId| {
            users
                .iter()
                .find(|u| &u.id == id && &u.tenant_id == tenant)
                .cloned()
        };
        Ok((pick(helper), sharer.and_then(pick), facts))
    }

    /// The name of the caller's tenant.
    pub async fn tenant_name(&self, scope: &TenantScope) -> StoreResult<String> {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
            .bind(scope.tenant_id().0.as_str())
            .fetch_optional(self.conn().await?.connection()?)
            .await?;
        name.ok_or_else(|| StoreError::Corrupt {
            table: "tenants",
            reason: format!("signed-in user's tenant {} is missing", scope.tenant_id()),
        })
    }

    /// Creates a group in the authorized tenant with the given members, for
    /// the server's own seeding and tests (administrators go through
    /// `create_group_as`).
    pub(crate) async fn create_group(
        &self,
        auth: &Authorized<ManageRoles>,
        name: &str,
        members: &[UserId],
    ) -> StoreResult<GroupId> {
        let tenant = auth.scope().tenant_id();
        let id = uuid::Uuid::new_v4().to_string();
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query("INSERT INTO groups (id, tenant_id, name) VALUES ($1, $2, $3)")
            .bind(id.as_str())
            .bind(tenant.0.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, "group name"))?;
        for member in members {
            sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)")
                .bind(id.as_str())
                .bind(member.0.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(GroupId(id))
    }
}

/// What the audit log keeps of a user: the account, never the password.
#[derive(Serialize)]
struct UserAudit<'a> {
    email: &'a str,
    display_name: &'a str,
    job_title: Option<&'a str>,
    company: Option<&'a str>,
    password_set: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    password_changed: bool,
}

impl<'a> UserAudit<'a> {
    fn of(row: &'a UserRow) -> Self {
        Self {
            email: &row.email,
            display_name: &row.display_name,
            job_title: row.job_title.as_deref(),
            company: row.company.as_deref(),
            password_set: row.password_set,
            password_changed: false,
        }
    }
}

fn email_taken(error: sqlx::Error, email: &str) -> RbacChangeError {
    match unique_violation(error, "user e-mail") {
        StoreError::Duplicate { .. } => {
            RbacChangeError::Conflict(format!("The e-mail address {email} is already in use."))
        }
        other => RbacChangeError::Store(other),
    }
}

impl Store {
    /// Creates a user with a Tandem account in the caller's tenant, from a
    /// checked draft; `password_hash` is the draft's password, hashed.
    pub async fn create_user_as(
        &self,
        auth: &Authorized<ManageRoles>,
        draft: &UserDraft,
        password_hash: Option<&str>,
        now: UnixMillis,
    ) -> Result<UserRow, RbacChangeError> {
        draft.validate().map_err(RbacChangeError::Invalid)?;
        let id = UserId(uuid::Uuid::new_v4().to_string());
        let email = draft.email.trim().to_lowercase();
        let (job_title, company) = (draft.job_title(), draft.company());
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, display_name, job_title, company, \
             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.0.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .bind(email.as_str())
        .bind(draft.display_name.trim())
        .bind(job_title.clone())
        .bind(company.clone())
        .bind(password_hash)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| email_taken(e, &email))?;
        let after = UserAudit {
            email: &email,
            display_name: draft.display_name.trim(),
            job_title: job_title.as_deref(),
            company: company.as_deref(),
            password_set: password_hash.is_some(),
            password_changed: false,
        };
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry::<(), _> {
                action: "user.create",
                object_type: "user",
                object_id: &id.0,
                before: None,
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        self.user_row(auth.scope(), &id)
            .await?
            .ok_or(RbacChangeError::NotFound)
    }

    /// Edits a user with a Tandem account; `password_hash` replaces the
    /// password when given. Users of the organization's identity provider
    /// are kept up to date by it and are refused here.
    pub async fn update_user(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &UserId,
        draft: &UserDraft,
        password_hash: Option<&str>,
        now: UnixMillis,
    ) -> Result<UserRow, RbacChangeError> {
        let before = self
            .user_row(auth.scope(), id)
            .await?
            .ok_or(RbacChangeError::NotFound)?;
        if before.from_idp {
            return Err(RbacChangeError::Conflict(format!(
                "{} signs in through your organization's identity provider, which keeps \
                 their name and e-mail address up to date: change them there.",
                before.display_name
            )));
        }
        draft.validate().map_err(RbacChangeError::Invalid)?;
        let email = draft.email.trim().to_lowercase();
        let (job_title, company) = (draft.job_title(), draft.company());
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET email = $1, display_name = $2, job_title = $3, company = $4, \
             password_hash = coalesce($5, password_hash) WHERE id = $6 AND tenant_id = $7",
        )
        .bind(email.as_str())
        .bind(draft.display_name.trim())
        .bind(job_title.clone())
        .bind(company.clone())
        .bind(password_hash)
        .bind(id.0.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| email_taken(e, &email))?;
        let after = UserAudit {
            email: &email,
            display_name: draft.display_name.trim(),
            job_title: job_title.as_deref(),
            company: company.as_deref(),
            password_set: before.password_set || password_hash.is_some(),
            password_changed: password_hash.is_some(),
        };
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry {
                action: "user.update",
                object_type: "user",
                object_id: &id.0,
                before: Some(&UserAudit::of(&before)),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        self.user_row(auth.scope(), id)
            .await?
            .ok_or(RbacChangeError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn emails_are_unique_case_insensitively() {
        let store = Store::open_scratch().await.unwrap();
        let t = TenantId::from("t1");
        store.create_tenant(&t, "One", UnixMillis(0)).await.unwrap();
        let user = NewUser {
            email: "Ann@Example.test".into(),
            display_name: "Ann".into(),
            ..NewUser::default()
        };
        let id = store
            .create_user(&Authorized::system(t.clone(), "test"), &user, UnixMillis(0))
            .await
            .unwrap();
        let found = store
            .user_by_email_for_sign_in(" ann@example.TEST ")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.card.email, "ann@example.test");
        let dup = store
            .create_user(&Authorized::system(t.clone(), "test"), &user, UnixMillis(0))
            .await;
        assert!(matches!(dup, Err(StoreError::Duplicate { .. })));
    }

    #[tokio::test]
    async fn session_lookup_is_bound_to_the_tenant() {
        let store = Store::open_scratch().await.unwrap();
        let (a, b) = (TenantId::from("a"), TenantId::from("b"));
        store.create_tenant(&a, "A", UnixMillis(0)).await.unwrap();
        store.create_tenant(&b, "B", UnixMillis(0)).await.unwrap();
        let user = NewUser {
            email: "x@a.test".into(),
            display_name: "X".into(),
            ..NewUser::default()
        };
        let id = store
            .create_user(&Authorized::system(a.clone(), "test"), &user, UnixMillis(0))
            .await
            .unwrap();
        assert!(store.user_for_session(&id, &a).await.unwrap().is_some());
        assert!(store.user_for_session(&id, &b).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_sessions_parties_are_read_together_and_only_from_its_tenant() {
        let store = Store::open_scratch().await.unwrap();
        let (a, b) = (TenantId::from("a"), TenantId::from("b"));
        store.create_tenant(&a, "A", UnixMillis(0)).await.unwrap();
        store.create_tenant(&b, "B", UnixMillis(0)).await.unwrap();
        let add = |tenant: &TenantId, email: &str| {
            let (store, tenant) = (store.clone(), tenant.clone());
            let user = NewUser {
                email: email.into(),
                display_name: email.into(),
                ..NewUser::default()
            };
            async move {
                store
                    .create_user(&Authorized::system(tenant, "test"), &user, UnixMillis(0))
                    .await
                    .unwrap()
            }
        };
        let helper = add(&a, "helper@a.test").await;
        let sharer = add(&a, "sharer@a.test").await;
        let foreign = add(&b, "sharer@b.test").await;
        let email = |user: Option<UserRecord>| user.map(|u| u.card.email);
        let session = SessionId("none".into());
        let (h, s, facts) = store
            .session_view_reads(&a, &session, &helper, Some(&sharer))
            .await
            .unwrap();
        // No record yet: nothing counted, no ticket.
        assert_eq!(facts, RecordFacts::default());
        assert_eq!(
            (email(h), email(s)),
            (Some("helper@a.test".into()), Some("sharer@a.test".into()))
        );
        let (h, s, _) = store
            .session_view_reads(&a, &session, &helper, None)
            .await
            .unwrap();
        assert_eq!((email(h), email(s)), (Some("helper@a.test".into()), None));
        // A user of another tenant is never read as a party.
        let (h, s, _) = store
            .session_view_reads(&a, &session, &helper, Some(&foreign))
            .await
            .unwrap();
        assert_eq!((email(h), email(s)), (Some("helper@a.test".into()), None));
        let (h, s, _) = store
            .session_view_reads(&b, &session, &helper, Some(&foreign))
            .await
            .unwrap();
        assert_eq!((email(h), email(s)), (None, Some("sharer@b.test".into())));
    }

    #[tokio::test]
    async fn group_members_must_exist() {
        let store = Store::open_scratch().await.unwrap();
        let t = TenantId::from("t");
        store.create_tenant(&t, "T", UnixMillis(0)).await.unwrap();
        let bad = store
            .create_group(
                &Authorized::system(t.clone(), "test"),
                "G",
                &[UserId::from("nobody")],
            )
            .await;
        assert!(bad.is_err(), "foreign key on members is enforced");
        // The failed transaction left no half-made group behind.
        assert!(
            store
                .create_group(&Authorized::system(t.clone(), "test"), "G", &[])
                .await
                .is_ok()
        );
    }
}
