//! A real OpenID Connect provider for the tests: panva's `oidc-provider`
//! (tests/idp), started with `node` on a free loopback port.

use crate::HarnessError;
use crate::process::GroupChild;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The client id and secret the server is registered with.
pub const CLIENT_ID: &str = "tandem";
pub const CLIENT_SECRET: &str = "tandem-secret";
/// The password of every IdP account.
pub const IDP_PASSWORD: &str = "idp-pass";

/// An account at the IdP.
#[derive(Debug, Clone)]
pub struct IdpAccount {
    pub sub: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub tid: &'static str,
    pub groups: &'static [&'static str],
    pub job_title: &'static str,
}

pub struct TestIdp {
    // Field order: the process stops before its config dir goes.
    _process: GroupChild,
    issuer: String,
    _dir: TempDir,
}

fn idp_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idp/idp.mjs")
}

impl TestIdp {
    /// Starts the IdP with `accounts` and one client whose redirect URI is
    /// `redirect_uri`. ID tokens for subjects in `tamper` get a corrupted
    /// signature.
    pub async fn start(
        redirect_uri: &str,
        accounts: &[IdpAccount],
        tamper: &[&str],
    ) -> Result<Self, HarnessError> {
        let script = idp_script();
        if !script.with_file_name("node_modules/oidc-provider").is_dir() {
            return Err(HarnessError::Missing {
                what: "the test IdP's packages",
                path: script.with_file_name("node_modules"),
                hint: "install them with `npm ci --prefix tests/idp` (cargo xtask test does)",
            });
        }
        let dir = tempfile::Builder::new().prefix("tandem-idp-").tempdir()?;
        let accounts: Vec<Value> = accounts
            .iter()
            .map(|a| {
                let (given, family) = a.name.split_once(' ').unwrap_or((a.name, ""));
                json!({
                    "sub": a.sub, "password": IDP_PASSWORD, "email": a.email,
                    "email_verified": true, "name": a.name, "given_name": given,
                    "family_name": family, "tid": a.tid, "oid": format!("oid-{}", a.sub),
                    "groups": a.groups, "jobTitle": a.job_title,
                    "companyName": a.email.split('@').nth(1).unwrap_or_default(),
                    "verified_domain": a.email.split('@').nth(1).unwrap_or_default(),
                })
            })
            .collect();
        let config = json!({
            "port": 0,
            "exit_on_stdin_eof": true,
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [redirect_uri],
            }],
            "accounts": accounts,
            "tamper_id_token_subs": tamper,
        });
        let config_path = dir.path().join("idp.json");
        std::fs::write(&config_path, config.to_string())?;
        let log = std::fs::File::create(dir.path().join("idp.log"))?;
        let mut command = Command::new("node");
        command
            .arg(&script)
            .arg(&config_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut process = GroupChild::spawn("oidc-provider", command)?;
        let pid = process.child_mut().id();
        let line = match process.stdout_line("ready ", READY_TIMEOUT).await {
            Some(line) => line,
            None => {
                let log = std::fs::read_to_string(dir.path().join("idp.log")).unwrap_or_default();
                return Err(HarnessError::NotReady {
                    what: "oidc-provider",
                    seconds: READY_TIMEOUT.as_secs(),
                    details: format!(" (exit: {:?}); log:\n{log}", process.exited()),
                });
            }
        };
        // `ready <issuer> pid=<pid>`: make sure it is our own process talking.
        let mut words = line.split_whitespace();
        let (Some(issuer), Some(said_pid)) = (words.next(), words.next()) else {
            return Err(HarnessError::NotReady {
                what: "oidc-provider",
                seconds: 0,
                details: format!(": unexpected first line {line:?}"),
            });
        };
        if said_pid != format!("pid={pid}") {
            return Err(HarnessError::NotReady {
                what: "oidc-provider",
                seconds: 0,
                details: format!(": {said_pid} answered, but we started pid {pid}"),
            });
        }
        Ok(Self {
            _process: process,
            issuer: issuer.to_owned(),
            _dir: dir,
        })
    }

    /// The issuer, exactly as discovery advertises it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}
