//! coturn (Debian's `turnserver`) in the server site, with TURN REST
//! credentials (`use-auth-secret`), as production runs it.

use crate::HarnessError;
use crate::network::{Inside, SERVER_ADDRESS};
use crate::process::GroupChild;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// The port coturn listens on, UDP and TCP.
pub const TURN_PORT: u16 = 3478;
/// The port of the second coturn, for TURN over TCP ("TURN's 443").
pub const TURN_TCP_PORT: u16 = 443;
const READY_WITHIN: Duration = Duration::from_secs(20);

/// The production's `denied-peer-ip` list (README, "TURN"): no relaying
/// into loopback, link-local, private, CGNAT or multicast ranges.
pub const DENIED_PEER_RANGES: &[&str] = &[
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.168.0.0-192.168.255.255",
    "224.0.0.0-255.255.255.255",
    "::1",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

/// A running coturn; stopped on drop.
pub struct Coturn {
    process: GroupChild,
    log: std::path::PathBuf,
    site: Inside,
    port: u16,
    relay_ports: (u16, u16),
    dir: TempDir,
}

impl Coturn {
    /// Starts coturn in `site` on [`SERVER_ADDRESS`], accepting credentials
    /// made with `secret`; returns once it answers STUN.
    pub fn start(site: &Inside, secret: &str) -> Result<Self, HarnessError> {
        Self::start_on(site, secret, TURN_PORT, (49152, 49352))
    }

    /// [`Coturn::start`] on `port`, relaying from the `relay_ports` range.
    pub fn start_on(
        site: &Inside,
        secret: &str,
        port: u16,
        relay_ports: (u16, u16),
    ) -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-coturn-")
            .tempdir()?;
        let log = dir.path().join("turn.log");
        let process = spawn(site, secret, port, relay_ports, dir.path())?;
        Ok(Self {
            process,
            log,
            site: site.clone(),
            port,
            relay_ports,
            dir,
        })
    }

    /// Stops this coturn and starts it again with `secret` (a rotation):
    /// same port and log, allocations gone.
    pub fn restart_with_secret(&mut self, secret: &str) -> Result<(), HarnessError> {
        self.process.kill_now();
        self.process = spawn(
            &self.site,
            secret,
            self.port,
            self.relay_ports,
            self.dir.path(),
        )?;
        Ok(())
    }

    /// What coturn logged so far (allocations, refused credentials).
    pub fn log(&self) -> String {
        // --simple-log writes to the named file as is.
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts `turnserver` in `site` with `secret` and waits until it answers
/// STUN; it logs to `dir/turn.log` (appending).
fn spawn(
    site: &Inside,
    secret: &str,
    port: u16,
    relay_ports: (u16, u16),
    dir: &std::path::Path,
) -> Result<GroupChild, HarnessError> {
    let log = dir.join("turn.log");
    let mut command = Command::new("turnserver");
    command
        .args([
            "-n",
            "--use-auth-secret",
            "--realm=tandem.test",
            "--fingerprint",
        ])
        .arg(format!("--static-auth-secret={secret}"))
        .arg(format!("--listening-ip={SERVER_ADDRESS}"))
        .arg(format!("--relay-ip={SERVER_ADDRESS}"))
        .arg(format!("--listening-port={port}"))
        .arg(format!("--min-port={}", relay_ports.0))
        .arg(format!("--max-port={}", relay_ports.1))
        .args(["--no-cli", "--no-tls", "--no-dtls", "--no-multicast-peers"])
        .args([
            "--user-quota=12",
            "--total-quota=1200",
            "--simple-log",
            "--verbose",
        ])
        .args(
            DENIED_PEER_RANGES
                .iter()
                .map(|r| format!("--denied-peer-ip={r}")),
        )
        .arg(format!("--log-file={}", log.display()))
        .arg(format!("--pidfile={}", dir.join("turn.pid").display()))
        .arg(format!("--db={}", dir.join("turndb").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    site.wrap(&mut command)?;
    let mut process = GroupChild::spawn("turnserver", command)?;
    let address = SocketAddr::from((SERVER_ADDRESS, port));
    if !site.stun_answers(address, READY_WITHIN) {
        return Err(HarnessError::NotReady {
            what: "coturn",
            seconds: READY_WITHIN.as_secs(),
            details: format!(
                " (exit: {:?}); log:\n{}",
                process.exited(),
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        });
    }
    Ok(process)
}
