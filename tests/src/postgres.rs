//! A PostgreSQL cluster of one test's own, for what the run's shared
//! cluster must not go through: being stopped and started again. Made
//! with `initdb` into a temporary directory, listening only on a Unix
//! socket there; stopped and deleted on drop.

use crate::HarnessError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
const PORT: u16 = 5432;
const USER: &str = "tandem";

pub struct OwnCluster {
    dir: tempfile::TempDir,
    running: bool,
}

/// Whether this process runs as root (the owner of its `/proc/self`).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` of PostgreSQL's, as the cluster's owner.
fn as_owner(program: &str) -> Command {
    let path = Path::new(BIN_DIR).join(program);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(what: &'static str, mut command: Command) -> Result<(), HarnessError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| HarnessError::Spawn { what, source })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HarnessError::NoCluster(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

impl OwnCluster {
    /// Makes and starts a new cluster.
    pub fn start() -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-own-pg-")
            .tempdir()?;
        if is_root() {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(dir.path());
            run("chown", chown)?;
        }
        let mut cluster = Self {
            dir,
            running: false,
        };
        let mut initdb = as_owner("initdb");
        initdb
            .arg("-D")
            .arg(cluster.data())
            .args(["-A", "trust", "-U", USER, "-E", "UTF8"])
            .args(["--locale=C.UTF-8", "--no-sync"]);
        run("initdb", initdb)?;
        cluster.start_again()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The maintenance database's URL.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}@localhost/postgres?host={}&port={PORT}",
            self.dir.path().display()
        )
    }

    /// Stops the cluster (`-m fast`: open connections are cut).
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        let mut stop = as_owner("pg_ctl");
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"]);
        run("pg_ctl stop", stop)?;
        self.running = false;
        Ok(())
    }

    /// Starts the stopped cluster again.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        let options = format!(
            "-k {} -p {PORT} -c listen_addresses='' -c fsync=off",
            self.dir.path().display()
        );
        let mut start = as_owner("pg_ctl");
        start
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-w", "start"]);
        run("pg_ctl start", start)?;
        self.running = true;
        Ok(())
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if self.running {
            let mut stop = as_owner("pg_ctl");
            stop.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = run("pg_ctl stop", stop);
        }
    }
}
