//! A throwaway PostgreSQL cluster for one test run: `initdb` into a fresh
//! directory, started with a Unix socket in that directory only (no TCP
//! port, so two runs on one machine never meet), stopped and deleted when
//! the run ends, whether it passed or not. Nothing else is touched: no
//! system cluster, no shared database.

use crate::cmd::{Result, command, run};
use std::path::{Path, PathBuf};

/// Debian's PostgreSQL 15 server binaries.
pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// The port only names the socket file (`.s.PGSQL.5432`) in our directory.
const PORT: u16 = 5432;
/// Where the tests find the cluster's URL (read by `Store::open_scratch`
/// and the end-to-end suites).
pub const CLUSTER_VARIABLE: &str = "TANDEM_TEST_PG_CLUSTER";
/// Set to `postgres` to run the store, router and session suites on the
/// cluster instead of in-memory SQLite.
pub const BACKEND_VARIABLE: &str = "TANDEM_TEST_BACKEND";
/// The cluster's superuser; the tests connect as it, trusted on the socket.
const USER: &str = "tandem";

/// Whether commits are flushed to disk (`fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// As in production: the benchmarks compare it with SQLite's
    /// `synchronous = FULL`.
    ToDisk,
    /// For the tests: faster, and as safe against a killed server.
    Skipped,
}

/// A running cluster. Dropping it stops it (`-m immediate`) and deletes it.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    started: bool,
}

impl Cluster {
    /// Creates and starts a cluster in a new directory under the system
    /// temp directory. `flush` keeps `fsync` on, as in production (the
    /// benchmarks); the tests turn it off.
    pub fn start(flush: Flush) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "tandem-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut cluster = Self {
            dir,
            started: false,
        };
        // initdb refuses to run as root: the cluster belongs to `postgres`.
        if crate::tools::is_root() {
            let mut chown = command("chown");
            chown.args(["postgres:postgres"]).arg(&cluster.dir);
            run(chown)?;
        }
        let data = cluster.dir.join("data");
        let mut initdb = as_owner("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", USER, "-E", "UTF8"])
            .args(["--locale=C.UTF-8", "--no-sync"]);
        run(initdb)?;
        // Synchronous commit stays on, so what the tests see committed is
        // committed; the tests skip only the flush to disk, which a killed
        // *server* process never needs.
        let fsync = match flush {
            Flush::ToDisk => "on",
            Flush::Skipped => "off",
        };
        let options = format!(
            "-k {} -p {PORT} -c listen_addresses='' -c fsync={fsync} -c max_connections=300",
            cluster.dir.display()
        );
        let mut start = as_owner("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.join("log"))
            .args(["-w", "start"]);
        run(start)?;
        cluster.started = true;
        Ok(cluster)
    }

    /// The URL of the cluster's maintenance database `postgres`; the tests
    /// create their own databases from it. Tests find it in
    /// [`CLUSTER_VARIABLE`].
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}@localhost/postgres?host={}&port={PORT}",
            self.dir.display()
        )
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let mut stop = as_owner("pg_ctl");
            stop.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"]);
            if let Err(error) = run(stop) {
                eprintln!("warning: the test cluster did not stop: {error}");
            }
        }
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("warning: cannot remove {}: {error}", self.dir.display());
        }
    }
}

/// `program` from [`BIN_DIR`], run as `postgres` when we are root.
fn as_owner(program: &str) -> std::process::Command {
    let path = Path::new(BIN_DIR).join(program);
    if crate::tools::is_root() {
        let mut c = command("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        std::process::Command::new(path)
    }
}
