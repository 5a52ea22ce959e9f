//! Persistence. Callers see this module's API only, never SQL or pool types.
//!
//! The store runs on `sqlx`'s `Any` driver with runtime-checked queries and
//! `$N` placeholders, which SQLite and PostgreSQL both accept; each backend
//! has its own migrations folder (`migrations/sqlite`, `migrations/postgres`).
//! The SQL is written once in the subset both accept: integers and 0/1
//! flags are BIGINT (decoded as `i64`), case-insensitive order is
//! `lower(..)`, conflicts are `ON CONFLICT`. Where the two must differ,
//! [`Backend`] says which one this is.

mod agents;
mod assignments;
mod audit;
#[cfg(test)]
mod concurrency_tests;
mod config_cache;
mod devices;
mod directory;
mod directory_pages;
mod graph;
mod groups;
mod held;
mod idp_users;
mod import;
pub mod live_limits;
mod party_column;
mod rbac;
mod remote_sessions;
pub mod replicas;
mod report_monitor;
mod report_queries;
mod report_writes;
mod scratch;
mod session_writes;
mod settings;
pub(crate) mod web_sessions;

pub use agents::{AgentDevice, DeviceKeyRecord, PairRefusal};
pub use config_cache::with_one_epoch;
pub use devices::NewDevice;
pub use directory::{NewUser, UserRecord};
pub use graph::{DeviceNode, DirectoryGraph, UserNode};
pub use held::holding_a_connection;
pub use idp_users::{IdpProfile, IdpUserError};
pub use import::ImportOf;
pub(crate) use import::{Line as ImportLine, MAX_IMPORT_LINES, check as check_import};
pub use rbac::RbacChangeError;
pub use remote_sessions::{SessionEventRecord, SessionRecord, from_hex, to_hex};
pub use report_monitor::PersonDay;
pub use report_queries::ReportContext;
pub use report_writes::{CodeFailure, OUTSIDER_ID, RecordFacts, outcome_of, segment_of};
pub use session_writes::Change;
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
    #[error("unsupported database URL scheme {0:?}; use sqlite: or postgres:")]
    UnsupportedUrl(String),
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error(
        "TANDEM_TEST_BACKEND=postgres needs TANDEM_TEST_PG_CLUSTER, as cargo xtask test sets it"
    )]
    NoTestCluster,
    #[error("duplicate {what}")]
    Duplicate { what: &'static str },
    #[error("several replicas need PostgreSQL; this database is for one server")]
    SingleServer,
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, the
    /// pool exhausted past its wait), as opposed to a query that failed:
    /// the caller answers 503 and the pool reconnects by itself.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => match error {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_) => true,
                // SQLSTATE class 08 (connection exception), 57P01-57P03
                // (the server shutting down or starting).
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
                _ => false,
            },
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file beside the server.
    Sqlite,
    /// A PostgreSQL server the organization already runs and backs up.
    Postgres,
}

impl Backend {
    /// The backend a database URL names, by its scheme.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            // Only the scheme: the rest may hold a password.
            let scheme = url.split(':').next().unwrap_or_default();
            Err(StoreError::UnsupportedUrl(scheme.to_owned()))
        }
    }
}

/// The longest a writer waits for its turn (SQLite), as long as for a
/// pooled connection.
const WRITE_TURN_WAIT: Duration = Duration::from_secs(10);

/// The bound on one PostgreSQL statement.
const STATEMENT_TIMEOUT: &str = "SET statement_timeout = 30000";
/// A pooled PostgreSQL connection idle this long is checked (a round trip)
/// before use: the database may have restarted meanwhile. One in steady
/// use is not: sqlx's own check before every statement doubled the round
/// trips of a request. A connection that broke in use is found when it is
/// returned (sqlx checks it then, and drops it if it fails).
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Handle to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: its writers queue here, in order, instead of in
    /// SQLite's busy handler, which sleeps in growing steps (up to 100 ms
    /// a try) and made the tail of concurrent session setups. PostgreSQL
    /// commits concurrent writers itself.
    writers: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Settings and RBAC reads while the configuration epoch holds.
    config: std::sync::Arc<config_cache::ConfigCache>,
    /// PostgreSQL only: where the replicas' bus connects (see `replicas.rs`).
    url: Option<replicas::SecretUrl>,
    /// Statements run on a request's held connection (`held.rs`).
    held_reuses: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or
    /// `postgres://user@host/db`) and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        match Backend::of_url(url)? {
            Backend::Sqlite => Self::open_sqlite(url).await,
            Backend::Postgres => Self::open_postgres(url).await,
        }
    }

    async fn open_postgres(url: &str) -> StoreResult<Self> {
        // Migrations run without the statement timeout (one that rebuilds
        // a large table may take longer), on a connection of their own.
        let migrating = AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        POSTGRES_MIGRATIONS.run(&migrating).await?;
        migrating.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_WHEN_IDLE_FOR {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // A statement that hangs (a lock held by a stuck client,
                    // a server that stopped answering mid-query) fails
                    // instead of holding a request and a connection forever.
                    conn.execute(STATEMENT_TIMEOUT).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            backend: Backend::Postgres,
            writers: None,
            config: std::sync::Arc::default(),
            url: Some(replicas::SecretUrl(url.into())),
            held_reuses: std::sync::Arc::default(),
        })
    }

    async fn open_sqlite(url: &str) -> StoreResult<Self> {
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
        // A connection to a file cannot go stale the way a network one
        // can: sqlx's check before each statement would only add a hop to
        // the connection's worker thread.
        let pool = options
            .test_before_acquire(false)
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
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
            writers: Some(std::sync::Arc::default()),
            config: std::sync::Arc::default(),
            url: None,
            held_reuses: std::sync::Arc::default(),
        })
    }

    /// A fresh in-memory database, migrated.
    pub async fn open_in_memory() -> StoreResult<Self> {
        Self::open("sqlite::memory:").await
    }

    /// A fresh, empty, migrated database for one test: in memory, or, when
    /// `TANDEM_TEST_BACKEND=postgres`, a new database on the throwaway
    /// cluster named by `TANDEM_TEST_PG_CLUSTER`. That is how `cargo xtask
    /// test` runs the store, router and session suites a second time, on
    /// PostgreSQL (see `xtask/src/postgres.rs`).
    #[doc(hidden)]
    pub async fn open_scratch() -> StoreResult<Self> {
        if std::env::var("TANDEM_TEST_BACKEND").as_deref() != Ok("postgres") {
            return Self::open_in_memory().await;
        }
        let cluster =
            std::env::var("TANDEM_TEST_PG_CLUSTER").map_err(|_| StoreError::NoTestCluster)?;
        install_default_drivers();
        Self::open(&scratch::database(&cluster).await?).await
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers now, within `within`.
    pub async fn ping(&self, within: Duration) -> StoreResult<()> {
        let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool);
        match tokio::time::timeout(within, ping).await {
            Ok(answer) => answer.map(|_| ()).map_err(StoreError::Database),
            Err(_) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Closes the pool: every later call fails as unavailable (tests of
    /// what a lost database looks like).
    #[doc(hidden)]
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool's connections: (open, idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The pool, for a statement that takes its own connection. A request
    /// holding one gives it back first (`held.rs`: no request waits for a
    /// connection while one sits in its slot).
    pub(crate) fn pool(&self) -> &AnyPool {
        held::give_back_held();
        &self.pool
    }

    /// Waits for this process's turn to write (SQLite), or at once
    /// (PostgreSQL). Hold the gate until the write has committed. The
    /// request's next configuration read reads the epoch again.
    /// A turn not had within [`WRITE_TURN_WAIT`] is the database being
    /// unavailable (a 503), as a pooled connection not had in time is.
    pub(crate) async fn write_gate(&self) -> Result<WriteGate, sqlx::Error> {
        self.write_gate_within(WRITE_TURN_WAIT).await
    }

    /// [`Self::write_gate`] for a write to the rate windows alone, which
    /// hold no configuration and no user: the request keeps the epoch and
    /// the caller it read (`config_epoch` moves only with the tables behind
    /// the configuration, and `rate_windows` is none of them).
    pub(super) async fn write_gate_for_rate_windows(&self) -> Result<WriteGate, sqlx::Error> {
        self.take_turn(WRITE_TURN_WAIT).await
    }

    async fn write_gate_within(&self, wait: Duration) -> Result<WriteGate, sqlx::Error> {
        config_cache::forget_request_epoch();
        web_sessions::forget_session_user();
        self.take_turn(wait).await
    }

    async fn take_turn(&self, wait: Duration) -> Result<WriteGate, sqlx::Error> {
        match &self.writers {
            Some(writers) => {
                let turn = tokio::time::timeout(wait, writers.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?;
                Ok(WriteGate { _turn: Some(turn) })
            }
            None => Ok(WriteGate { _turn: None }),
        }
    }

    /// A transaction that writes, with its turn: `let (_gate, mut tx) =`
    /// keeps the turn until the transaction is committed or dropped. The
    /// one way the store begins a transaction (`cargo xtask test` checks).
    /// Until it commits, use only `&mut tx`: another store call would wait
    /// for a pooled connection the transaction may hold (an in-memory
    /// database has one), and a settings or RBAC read would keep the epoch
    /// from before this write for the rest of the request.
    pub(crate) async fn begin_write(
        &self,
    ) -> StoreResult<(WriteGate, sqlx::Transaction<'static, sqlx::Any>)> {
        let gate = self.write_gate().await?;
        held::give_back_held();
        let tx = match self.writers {
            // SQLite: the file's write lock from the start. A transaction
            // begun DEFERRED reads from a snapshot and, if any write made
            // outside the turns (an autocommit statement) committed since,
            // fails at its first write with "database is locked" at once,
            // without waiting (SQLITE_BUSY_SNAPSHOT). IMMEDIATE waits for
            // such a statement (busy_timeout) and then cannot fail so.
            Some(_) => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            None => self.pool.begin().await?,
        };
        Ok((gate, tx))
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
        let (_gate, mut tx) = self.begin_write().await?;
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

/// A writer's turn (see [`Store::begin_write`]); released when dropped.
#[derive(Debug)]
#[must_use = "the turn ends when the gate is dropped"]
pub(crate) struct WriteGate {
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
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
        let store = Store::open_scratch().await.unwrap();
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
    async fn every_connection_bounds_how_long_it_waits() {
        let store = Store::open_scratch().await.unwrap();
        let (query, expected) = match store.backend() {
            Backend::Postgres => ("SHOW statement_timeout", "30s"),
            // SQLite's wait is for the file's lock.
            Backend::Sqlite => (
                "SELECT CAST(timeout AS TEXT) FROM pragma_busy_timeout",
                "5000",
            ),
        };
        let value: String = sqlx::query_scalar(query)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(value, expected);
    }

    /// A writer that cannot have its turn in time gets "unavailable" (a
    /// 503), never an endless wait behind a stuck one.
    #[tokio::test]
    async fn a_writer_waits_for_its_turn_within_a_bound() {
        let store = Store::open_in_memory().await.unwrap();
        let held = store.write_gate().await.unwrap();
        let wait = Duration::from_millis(50);
        let waited = StoreError::from(store.write_gate_within(wait).await.unwrap_err());
        assert!(waited.is_unavailable(), "{waited}");
        drop(held);
        let turn = store.write_gate_within(wait).await;
        assert!(turn.is_ok(), "the turn is free again");
    }

    /// A transaction that read first and writes after a write made
    /// outside the turns (an autocommit statement on another connection)
    /// still commits: on SQLite it holds the file's write lock from its
    /// start, so the other statement waits for it, instead of the
    /// transaction's write failing at once with "database is locked"
    /// (its snapshot would be older than the file). This failed a pairing
    /// in an e2e run.
    #[tokio::test]
    async fn a_transaction_that_reads_first_survives_a_write_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        for id in ["t1", "t2"] {
            store
                .create_tenant(&TenantId::from(id), id, UnixMillis(1))
                .await
                .unwrap();
        }
        let (gate, mut tx) = store.begin_write().await.unwrap();
        let names: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(names, 2);
        // A write outside the turns, on another pooled connection.
        let beside = {
            let pool = store.pool().clone();
            tokio::spawn(async move {
                sqlx::query("UPDATE tenants SET name = 'beside' WHERE id = 't2'")
                    .execute(&pool)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("UPDATE tenants SET name = 'inside' WHERE id = 't1'")
            .execute(&mut *tx)
            .await
            .expect("the transaction's write");
        tx.commit().await.unwrap();
        drop(gate);
        let beside = beside.await.unwrap().expect("the write beside it");
        assert_eq!(beside.rows_affected(), 1);
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM tenants ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(names, ["inside", "beside"]);
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
