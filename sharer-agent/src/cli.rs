//! The agent's command line.

use clap::Parser;
use std::path::PathBuf;

/// Tandem sharer agent: lets a helper see (and, with consent, control)
/// this device.
#[derive(Debug, Parser)]
#[command(name = "tandem-agent", version)]
pub struct Cli {
    /// The Tandem server, e.g. https://help.example.com
    #[arg(long, value_name = "URL", value_parser = parse_server_url)]
    pub server: String,
    /// Enrollment token from an administrator; without it the device
    /// registers as unenrolled.
    #[arg(long, value_name = "TOKEN")]
    pub enroll: Option<String>,
    /// Where the device key and id are kept.
    #[arg(long, value_name = "DIR", env = "TANDEM_AGENT_STATE")]
    pub state_dir: Option<PathBuf>,
    /// The program that opens the sharer page (default: xdg-open).
    #[arg(long, value_name = "PROGRAM", env = "TANDEM_AGENT_BROWSER")]
    pub browser: Option<String>,
    /// Print the sharer page's link instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
}

impl Cli {
    /// The state directory: `--state-dir`, else `$XDG_STATE_HOME/tandem`,
    /// else `~/.local/state/tandem`.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.state_dir {
            return dir.clone();
        }
        if let Some(state) = std::env::var_os("XDG_STATE_HOME") {
            return PathBuf::from(state).join("tandem");
        }
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".local/state/tandem")
    }
}

fn parse_server_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim_end_matches('/');
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() > "https://".len();
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(format!("{text:?} is not an http(s) URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_and_optional_token() {
        let cli = Cli::try_parse_from(["tandem-agent", "--server", "https://h.test/"]).unwrap();
        assert_eq!(cli.server, "https://h.test");
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
    }

    #[test]
    fn rejects_a_missing_or_bad_server() {
        assert!(Cli::try_parse_from(["tandem-agent"]).is_err());
        assert!(Cli::try_parse_from(["tandem-agent", "--server", "ftp://x"]).is_err());
        assert!(Cli::try_parse_from(["tandem-agent", "--server", "https://"]).is_err());
    }
}
