//! The agent's command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Tandem sharer agent: lets a helper see (and, with consent, control)
/// this device.
#[derive(Debug, Parser)]
#[command(name = "tandem-agent", version)]
pub struct Cli {
    /// The Tandem server, e.g. https://help.example.com
    #[arg(long, value_name = "URL", value_parser = parse_server_url, global = true)]
    pub server: Option<String>,
    /// Enrollment token from an administrator; without it the device
    /// registers as unenrolled. `--enroll=TOKEN` works for any token.
    #[arg(long, value_name = "TOKEN", global = true)]
    pub enroll: Option<String>,
    /// Trust only this CA (PEM) for an https:// server, e.g. an
    /// organization's private CA; without it, the system's root
    /// certificates.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca: Option<PathBuf>,
    /// Where the device key and id are kept.
    #[arg(long, value_name = "DIR", env = "TANDEM_AGENT_STATE", global = true)]
    pub state_dir: Option<PathBuf>,
    /// The program that opens the sharer page (default: xdg-open).
    #[arg(long, value_name = "PROGRAM", env = "TANDEM_AGENT_BROWSER")]
    pub browser: Option<String>,
    /// Print the sharer page's link instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// After a session that used elevation with full control, the sharer
    /// is warned this many seconds before being signed out.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, global = true)]
    pub sign_out_after: u64,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Windows: run the agent as a service, so a helper with Elevation can
    /// answer UAC prompts and send Ctrl+Alt+Del (administrators only).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ServiceAction {
    /// Register and start the service with this command line's options.
    Install,
    /// Stop and remove the service.
    Uninstall,
    /// What the service manager starts (not for people).
    Run,
}

impl Cli {
    /// The state directory: `--state-dir`, else the platform's
    /// (`$XDG_STATE_HOME/tandem` or `~/.local/state/tandem` on Linux,
    /// `%LOCALAPPDATA%\Tandem` on Windows, `%ProgramData%\Tandem` for the
    /// service).
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(crate::platform::default_state_dir)
    }

    /// The server, which every mode but `service uninstall` needs.
    pub fn server(&self) -> Result<&str, CliError> {
        self.server.as_deref().ok_or(CliError::NoServer)
    }

    /// The options the service passes on to the agent it starts, with the
    /// state in `state_dir`. No enrollment token: `service install`
    /// enrolls the device itself, so the token is never stored in the
    /// service's command line (which every local user can read).
    pub fn service_args(&self, state_dir: &std::path::Path) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(server) = &self.server {
            args.extend(["--server".to_owned(), server.clone()]);
        }
        if self.ca.is_some() {
            // `service install` copies the CA there first.
            let ca = state_dir.join(SERVICE_CA_FILE);
            args.extend(["--ca".to_owned(), ca.display().to_string()]);
        }
        args.extend([
            "--state-dir".to_owned(),
            state_dir.display().to_string(),
            "--sign-out-after".to_owned(),
            self.sign_out_after.to_string(),
        ]);
        args
    }
}

/// The service's copy of `--ca`, in its state folder.
pub const SERVICE_CA_FILE: &str = "server-ca.pem";

/// What is wrong with the command line beyond what clap checks.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("--server URL is required")]
    NoServer,
    #[error("{0:?} is not an http(s) URL")]
    NotHttp(String),
}

fn parse_server_url(text: &str) -> Result<String, CliError> {
    let trimmed = text.trim_end_matches('/');
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() > "https://".len();
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(CliError::NotHttp(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_and_optional_token() {
        let cli = Cli::try_parse_from(["tandem-agent", "--server", "https://h.test/"]).unwrap();
        assert_eq!(cli.server().ok(), Some("https://h.test"));
        assert_eq!(cli.sign_out_after, 60);
        assert_eq!(cli.enroll, None);
        let cli = Cli::try_parse_from([
            "tandem-agent",
            "--server",
            "http://127.0.0.1:8080",
            "--enroll",
            "tok",
            "--state-dir",
            "/tmp/x",
        ])
        .unwrap();
        assert_eq!(cli.enroll.as_deref(), Some("tok"));
        assert_eq!(cli.state_dir(), PathBuf::from("/tmp/x"));
        // Tokens made before they always began with a letter may begin
        // with `-`: the `=` form takes them.
        let cli = Cli::try_parse_from(["tandem-agent", "--enroll=-Wx9"]).unwrap();
        assert_eq!(cli.enroll.as_deref(), Some("-Wx9"));
    }

    #[test]
    fn rejects_a_missing_or_bad_server() {
        let cli = Cli::try_parse_from(["tandem-agent"]).unwrap();
        assert!(cli.server().is_err());
        assert!(Cli::try_parse_from(["tandem-agent", "--server", "ftp://x"]).is_err());
        assert!(Cli::try_parse_from(["tandem-agent", "--server", "https://"]).is_err());
    }

    #[test]
    fn service_install_keeps_the_agent_options() {
        let cli = Cli::try_parse_from([
            "tandem-agent",
            "service",
            "install",
            "--server",
            "https://h.test",
            "--enroll",
            "tok",
            "--state-dir",
            "C:/ProgramData/Tandem",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Service {
                action: ServiceAction::Install
            })
        ));
        assert_eq!(cli.enroll.as_deref(), Some("tok"));
        let args = cli.service_args(std::path::Path::new("C:/ProgramData/Tandem"));
        assert_eq!(
            args,
            [
                "--server",
                "https://h.test",
                "--state-dir",
                "C:/ProgramData/Tandem",
                "--sign-out-after",
                "60"
            ]
        );
        assert!(!args.iter().any(|a| a.contains("tok")), "no token");
        // A --ca as typed is replaced by the service's own copy.
        let cli = Cli::try_parse_from([
            "tandem-agent",
            "service",
            "install",
            "--server",
            "https://h.test",
            "--ca",
            "ca.pem",
        ])
        .unwrap();
        let args = cli.service_args(std::path::Path::new("/state"));
        let at = args.iter().position(|a| a == "--ca").unwrap();
        assert_eq!(
            std::path::Path::new(&args[at + 1]),
            std::path::Path::new("/state").join(SERVICE_CA_FILE)
        );
    }
}
