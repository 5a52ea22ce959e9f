//! Typed configuration: defaults, then a TOML file, then `TANDEM_*`
//! environment variables, then the command line; later sources win.

use clap::Parser;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The server's settings. Every field can be set as `TANDEM_<FIELD>` (upper
/// case), e.g. `TANDEM_BIND=0.0.0.0:443`, or as a key in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on. Port 0 picks a free port; the chosen
    /// address is printed on stdout as `listening on http://ADDR`.
    pub bind: SocketAddr,
    /// Directory for the embedded database and keys. Created if missing.
    pub data_dir: PathBuf,
    /// Database URL. Default: the SQLite file `tandem.db` in `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    /// The Trunk-built console (`dist/`).
    pub dist_dir: PathBuf,
    /// The URL users reach the server at. Cookies are `Secure` when it is https.
    pub public_url: Option<String>,
    /// Seed a demo tenant into an empty database at start.
    pub seed_demo: bool,
    /// Allow demo seeding on a non-loopback bind address. Never in production.
    pub force_demo_seed: bool,
    /// Sign a web session out after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// Sign a web session out this many minutes after sign-in, whatever happens.
    pub session_absolute_minutes: u32,
    /// `tracing` filter, e.g. `info,tandem_server=debug`.
    pub log: String,
    /// Reverse proxies in front of the server whose `X-Forwarded-For` is
    /// believed for the login limits (file only).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Organization identity providers (file only: `[[oidc]]` tables).
    pub oidc: Vec<OidcProviderConfig>,
    /// STUN/TURN servers handed to both browsers (file only: `[[ice_servers]]`).
    pub ice_servers: Vec<crate::domain::ice::StaticIceServer>,
    /// A TURN server with ephemeral credentials in the TURN REST style
    /// (coturn `use-auth-secret`), file only: `[turn_rest]`.
    pub turn_rest: Option<crate::domain::ice::TurnRest>,
    /// How long a dropped participant may take to come back without a new
    /// approval, in seconds.
    pub reconnect_seconds: u32,
    /// A server-wide bound on how long a security code lives, in seconds,
    /// below every tenant's own setting (in minutes). Unset: the tenant's
    /// setting alone.
    pub code_lifetime_max_seconds: Option<u32>,
    /// Agents older than this version are told to update (e.g. "0.2.0").
    pub min_agent_version: Option<String>,
    /// Close a connection that has not sent a whole request head within
    /// this many seconds (also how long a keep-alive connection may idle).
    pub header_read_timeout_seconds: u32,
    /// Open connections allowed from one client address (trusted proxies
    /// are exempt); more are closed at once.
    pub max_connections_per_address: u32,
    /// `/metrics` on an address of its own (no token asked there), e.g.
    /// `127.0.0.1:9090` for a Prometheus on the same host or network.
    pub metrics_bind: Option<SocketAddr>,
    /// `/metrics` on the main address to a scraper that sends
    /// `Authorization: Bearer <token>` (at least 32 characters). With
    /// neither this nor `metrics_bind`, there is no `/metrics`.
    pub metrics_token: Option<MetricsToken>,
    /// TLS without a proxy: the certificate chain (PEM, leaf first) and its
    /// private key (PEM). Both or neither; reloaded on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// On SIGTERM, how long the server waits for its consoles' and agents'
    /// sockets to close (and its requests to finish) before it exits.
    pub drain_seconds: u32,
    /// Code redemptions a tenant's people may try per minute, together: a
    /// brute-force bound (the codes' space is 32^8). Raise it only for a
    /// benchmark.
    pub code_redemptions_per_minute: u32,
}

/// A database URL; printed without its password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `scheme://user:password@host/…`: keep the scheme and what follows
        // the last `@`.
        match (self.0.split_once("://"), self.0.rsplit_once('@')) {
            (Some((scheme, _)), Some((_, place))) => write!(f, "{scheme}://<redacted>@{place}"),
            _ => f.write_str(&self.0),
        }
    }
}

/// The bearer token a scraper presents for `/metrics`; never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

fn default_tenant_claim() -> String {
    "tid".to_owned()
}

/// One OpenID Connect identity provider, e.g. an Entra ID app registration.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Short id used in URLs, e.g. `contoso`.
    pub id: String,
    /// Shown on the sign-in button: "Sign in with {name}".
    pub name: String,
    /// The issuer, exactly as the provider's discovery document says it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The ID-token claim naming the user's organization (Entra: `tid`).
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
    /// Allowed organizations: the IdP's tenant id → Tandem's tenant id.
    /// Users of any other organization are refused.
    pub tenants: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for OidcProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProviderConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("tenants", &self.tenants)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            dist_dir: PathBuf::from("dist"),
            public_url: None,
            seed_demo: false,
            force_demo_seed: false,
            session_idle_minutes: 30,
            session_absolute_minutes: 12 * 60,
            log: "info,tower_http=info,sqlx=warn".to_owned(),
            oidc: Vec::new(),
            trusted_proxies: Vec::new(),
            ice_servers: Vec::new(),
            turn_rest: None,
            reconnect_seconds: 120,
            code_lifetime_max_seconds: None,
            min_agent_version: None,
            header_read_timeout_seconds: 10,
            max_connections_per_address: 64,
            metrics_bind: None,
            metrics_token: None,
            tls_cert: None,
            tls_key: None,
            drain_seconds: 10,
            code_redemptions_per_minute: crate::sessions::DEFAULT_CODE_REDEMPTIONS_PER_MINUTE,
        }
    }
}

/// Command-line flags. Each overrides the file and the environment.
#[derive(Debug, Default, Parser, Serialize)]
#[command(name = "tandem-server", version, about = "Tandem remote-help server")]
pub struct Cli {
    /// TOML config file (default: `tandem.toml` if present, or $TANDEM_CONFIG).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    /// Directory for the database and keys.
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Directory of the built console.
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dist_dir: Option<PathBuf>,
    /// Seed the demo tenant into an empty database.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub seed_demo: bool,
    /// Allow demo seeding on a non-loopback address.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub force_demo_seed: bool,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("{0}")]
    Rejected(String),
}

impl Config {
    /// Loads defaults ← file ← `env` (an iterator of `TANDEM_*` pairs) ← `cli`.
    pub fn load(cli: &Cli, env: Option<&[(&str, &str)]>) -> Result<Self, ConfigError> {
        let file = cli
            .config
            .clone()
            .or_else(|| std::env::var_os("TANDEM_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("tandem.toml"));
        let env_provider = match env {
            // Tests pass the environment explicitly instead of mutating the process's.
            Some(pairs) => Figment::from(Serialized::defaults(env_map(pairs))),
            None => {
                let known = Self::keys();
                warn_about_unknown_env(&known);
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                Figment::from(Env::prefixed("TANDEM_").only(&known))
            }
        };
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(env_provider)
            .merge(Serialized::defaults(cli))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// A configuration file's text alone, over the defaults, checked as
    /// [`Config::load`] checks it (for `tandem-server --check-config`-like
    /// tools and the config fuzz target).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.oidc.is_empty() && self.public_url.is_none() && self.bind.ip().is_unspecified() {
            return Err(ConfigError::Rejected(format!(
                "set public_url: with [[oidc]] providers, the redirect URI is built from it, and \
                 {} is not an address users can reach",
                self.bind
            )));
        }
        let mut ids = std::collections::BTreeSet::new();
        for provider in &self.oidc {
            if !ids.insert(provider.id.as_str()) {
                return Err(ConfigError::Rejected(format!(
                    "two [[oidc]] providers have the id {:?}",
                    provider.id
                )));
            }
            if provider.tenants.is_empty() {
                return Err(ConfigError::Rejected(format!(
                    "[[oidc]] provider {:?} allows no tenant; list them in `tenants`",
                    provider.id
                )));
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Rejected(
                "set both tls_cert and tls_key, or neither".into(),
            ));
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|token| token.0.chars().count() < 32)
        {
            return Err(ConfigError::Rejected(
                "metrics_token must be at least 32 characters".into(),
            ));
        }
        if self.session_idle_minutes == 0 || self.session_absolute_minutes == 0 {
            return Err(ConfigError::Rejected(
                "session timeouts must be at least one minute".into(),
            ));
        }
        if self.seed_demo && !self.bind.ip().is_loopback() && !self.force_demo_seed {
            return Err(ConfigError::Rejected(format!(
                "refusing to seed demo accounts with known passwords on non-loopback address {}; \
                 bind to 127.0.0.1 or set TANDEM_FORCE_DEMO_SEED=true if you really mean it",
                self.bind
            )));
        }
        Ok(())
    }

    /// The configuration keys, as spelled in the file (lower case).
    fn keys() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .map(|url| url.0)
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir.join("tandem.db").display()
                )
            })
    }

    /// The base URL users reach the server at (no trailing slash).
    pub fn base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{}", self.scheme(), self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// `https` when the server terminates TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Whether session cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.tls_cert.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
    }
}

/// Environment variables that start with `TANDEM_` but are not settings.
const NON_SETTING_ENV: &[&str] = &["TANDEM_CONFIG"];

/// A typo in a `TANDEM_*` variable would silently do nothing; say so.
fn warn_about_unknown_env(known: &[String]) {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let Some(key) = name.strip_prefix("TANDEM_") else {
            continue;
        };
        let is_setting = known.iter().any(|k| k.eq_ignore_ascii_case(key));
        if !is_setting && !NON_SETTING_ENV.contains(&name) && !name.starts_with("TANDEM_TEST_") {
            eprintln!("warning: ignoring unknown environment variable {name}");
        }
    }
}

/// Turns `TANDEM_DATA_DIR=x` pairs into `{ "data_dir": "x" }` for figment.
/// Values are parsed as figment's `Env` parses them (`true` is a bool).
fn env_map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, figment::value::Value> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("TANDEM_")?.to_ascii_lowercase();
            let value = v
                .parse()
                .unwrap_or_else(|never: std::convert::Infallible| match never {});
            Some((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::parse_from(std::iter::once("tandem-server").chain(args.iter().copied()))
    }

    #[test]
    fn env_overrides_defaults_and_cli_overrides_env() {
        let env = [
            ("TANDEM_BIND", "127.0.0.1:9000"),
            ("TANDEM_DATA_DIR", "/tmp/x"),
        ];
        let from_env = Config::load(&cli(&["--config", "/nonexistent.toml"]), Some(&env)).unwrap();
        assert_eq!(from_env.bind.port(), 9000);
        assert_eq!(from_env.data_dir, PathBuf::from("/tmp/x"));

        let both = Config::load(
            &cli(&["--config", "/nonexistent.toml", "--bind", "127.0.0.1:9100"]),
            Some(&env),
        )
        .unwrap();
        assert_eq!(both.bind.port(), 9100);
        assert_eq!(both.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn file_sits_between_defaults_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:7000\"\nlog = \"debug\"\n").unwrap();
        let args = ["--config", file.to_str().unwrap()];
        let config = Config::load(&cli(&args), Some(&[])).unwrap();
        assert_eq!(config.bind.port(), 7000);
        assert_eq!(config.log, "debug");
        let env = [("TANDEM_BIND", "127.0.0.1:7001")];
        assert_eq!(
            Config::load(&cli(&args), Some(&env)).unwrap().bind.port(),
            7001
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "bnd = \"typo\"\n").unwrap();
        let args = ["--config", file.to_str().unwrap()];
        assert!(Config::load(&cli(&args), Some(&[])).is_err());
        let env = [("TANDEM_BIND", "not-an-address")];
        assert!(Config::load(&cli(&["--config", "/none"]), Some(&env)).is_err());
    }

    #[test]
    fn demo_seed_is_refused_off_loopback_unless_forced() {
        let public = [
            ("TANDEM_BIND", "0.0.0.0:8080"),
            ("TANDEM_SEED_DEMO", "true"),
        ];
        let err = Config::load(&cli(&["--config", "/none"]), Some(&public)).unwrap_err();
        assert!(err.to_string().contains("refusing to seed"));
        let forced = [
            ("TANDEM_BIND", "0.0.0.0:8080"),
            ("TANDEM_SEED_DEMO", "true"),
            ("TANDEM_FORCE_DEMO_SEED", "true"),
        ];
        assert!(Config::load(&cli(&["--config", "/none"]), Some(&forced)).is_ok());
        let loopback = [("TANDEM_SEED_DEMO", "true")];
        assert!(Config::load(&cli(&["--config", "/none"]), Some(&loopback)).is_ok());
    }

    #[test]
    fn oidc_providers_come_from_the_file_and_secrets_are_not_logged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(
            &file,
            r#"
[[oidc]]
id = "contoso"
name = "Contoso"
issuer = "https://login.example.test/x/v2.0"
client_id = "abc"
client_secret = "s3cret"
tenants = { "idp-tid" = "contoso" }
"#,
        )
        .unwrap();
        let config = Config::load(&cli(&["--config", file.to_str().unwrap()]), Some(&[])).unwrap();
        assert_eq!(config.oidc[0].tenant_claim, "tid");
        assert_eq!(config.oidc[0].tenants["idp-tid"], "contoso");
        assert!(!format!("{config:?}").contains("s3cret"));
        // Nor a database password, nor the metrics token.
        let secret_config = Config {
            database_url: Some(DatabaseUrl(
                "postgres://tandem:pa55word@db.internal/tandem".into(),
            )),
            metrics_token: Some(MetricsToken(
                "t0ken-of-at-least-thirty-two-characters".into(),
            )),
            ..config
        };
        let printed = format!("{secret_config:?}");
        assert!(
            !printed.contains("pa55word") && !printed.contains("t0ken"),
            "{printed}"
        );
        assert!(
            printed.contains("postgres://<redacted>@db.internal/tandem"),
            "{printed}"
        );

        let wildcard = [("TANDEM_BIND", "0.0.0.0:443")];
        let err =
            Config::load(&cli(&["--config", file.to_str().unwrap()]), Some(&wildcard)).unwrap_err();
        assert!(err.to_string().contains("set public_url"), "{err}");

        std::fs::write(&file, "[[oidc]]\nid = \"x\"\nname = \"X\"\nissuer = \"https://i\"\nclient_id = \"c\"\nclient_secret = \"s\"\ntenants = {}\n").unwrap();
        let err = Config::load(&cli(&["--config", file.to_str().unwrap()]), Some(&[])).unwrap_err();
        assert!(err.to_string().contains("allows no tenant"));
    }

    #[test]
    fn cookies_are_secure_only_behind_https() {
        let mut config = Config::default();
        assert!(!config.secure_cookies());
        config.public_url = Some("https://help.example.test".into());
        assert!(config.secure_cookies());
    }
}
