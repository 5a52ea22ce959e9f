//! Persistence. Callers see this module's API only, never SQL or pool types.
//!
//! The store runs on `sqlx`'s `Any` driver with runtime-checked queries and
//! `$N` placeholders, which SQLite and PostgreSQL both accept; each backend
//! has its own migrations folder. Adding PostgreSQL means adding its driver
//! feature and `migrations/postgres`, not rewriting callers.

mod agents;
mod assignments;
mod audit;
mod devices;
mod directory;
mod directory_pages;
mod graph;
mod groups;
mod idp_users;
mod import;
mod party_column;
mod rbac;
mod remote_sessions;
mod report_monitor;
mod report_queries;
mod report_writes;
mod settings;
mod web_sessions;

pub use agents::{AgentDevice, DeviceKeyRecord, PairRefusal};
pub use devices::NewDevice;
pub use directory::{NewUser, UserRecord};
pub use graph::{DeviceNode, DirectoryGraph, UserNode};
pub use idp_users::{IdpProfile, IdpUserError};
pub use import::ImportOf;
pub(crate) use import::{Line as ImportLine, MAX_IMPORT_LINES, check as check_import};
pub use rbac::RbacChangeError;
pub use remote_sessions::{Change, SessionEventRecord, SessionRecord, from_hex, to_hex};
pub use report_monitor::PersonDay;
pub use report_queries::ReportContext;
pub use report_writes::{CodeFailure, OUTSIDER_ID, outcome_of, segment_of};
pub use web_sessions::WebSessionStore;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Everything that can go wrong below the store's API. Callers log it and
/// turn it into a generic 500; its text never reaches a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL scheme in {0:?}; use sqlite:")]
    UnsupportedUrl(String),
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("duplicate {what}")]
    Duplicate { what: &'static str },
}

pub type StoreResult<T> = Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Handle to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `sqlite::memory:`) and
    /// applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        let in_memory = url.contains(":memory:");
        let options = if in_memory {
            // Every connection to :memory: is its own database: keep exactly one.
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            AnyPoolOptions::new().max_connections(8)
        };
        let pool = options
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // synchronous = FULL: a commit is on disk when it
                    // returns, so an acknowledged session transition
                    // survives even a power cut, not only a killed process.
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                         PRAGMA synchronous = FULL;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        if !in_memory {
            // Persistent in the file: readers never block the writer.
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// A fresh in-memory database, migrated. For tests.
    pub async fn open_in_memory() -> StoreResult<Self> {
        Self::open("sqlite::memory:").await
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Whether any tenant exists yet (false on a brand-new database).
    pub async fn has_tenants(&self) -> StoreResult<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        id: &tandem_protocol::TenantId,
        name: &str,
        now: tandem_protocol::UnixMillis,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.0.as_str())
            .bind(name)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, "tenant"))?;
        sqlx::query("INSERT INTO tenant_settings (tenant_id, updated_at) VALUES ($1, $2)")
            .bind(id.0.as_str())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Maps a unique-constraint violation to [`StoreError::Duplicate`].
pub(crate) fn unique_violation(error: sqlx::Error, what: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate { what },
        _ => StoreError::Database(error),
    }
}

/// Reads an INTEGER 0/1 column as a bool.
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::{TenantId, UnixMillis};

    #[tokio::test]
    async fn migrations_apply_and_tenants_are_unique() {
        let store = Store::open_in_memory().await.unwrap();
        assert!(!store.has_tenants().await.unwrap());
        let id = TenantId::from("t1");
        store
            .create_tenant(&id, "One", UnixMillis(1))
            .await
            .unwrap();
        assert!(store.has_tenants().await.unwrap());
        let again = store.create_tenant(&id, "One", UnixMillis(2)).await;
        assert!(matches!(
            again,
            Err(StoreError::Duplicate { what: "tenant" })
        ));
    }

    #[tokio::test]
    async fn other_backends_are_refused_clearly() {
        let err = Store::open("mysql://localhost/x").await.unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl(_)));
    }

    #[tokio::test]
    async fn file_database_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        {
            let store = Store::open(&url).await.unwrap();
            store
                .create_tenant(&TenantId::from("t1"), "One", UnixMillis(1))
                .await
                .unwrap();
        }
        let reopened = Store::open(&url).await.unwrap();
        assert!(reopened.has_tenants().await.unwrap());
    }
}
