//! Tandem's server: sign-in, directory, sessions, signaling and reports
//! behind one axum router. `main.rs` only parses the command line and calls
//! [`serve`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod connections;
pub mod domain;
pub mod enrollment;
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod reports;
pub mod seed;
pub mod sessions;
pub mod store;
pub mod tls;

use crate::auth::SessionPolicy;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::http::AppState;
use crate::store::{Store, WebSessionStore};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot seed the demo tenant: {0}")]
    Seed(#[from] seed::SeedError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up OIDC: {0}")]
    Oidc(String),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// How often expired web sessions are swept from the database.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    serve_reloading(config, None).await
}

/// Reads the configuration again (on SIGHUP).
pub type Reload = Box<dyn Fn() -> Result<Config, config::ConfigError> + Send + Sync>;

/// [`serve`], reading the ICE servers and the TURN secret again from
/// `reload` on every SIGHUP (as the TLS certificate).
pub async fn serve_reloading(config: Config, reload: Option<Reload>) -> Result<(), ServeError> {
    // One crypto provider for every rustls user (the TLS listener, the OIDC
    // client), chosen here rather than by whichever feature set a build
    // unifies.
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::open(&config.database_url()).await?;
    if config.seed_demo && seed::seed_demo(&store, clock.now()).await? {
        tracing::info!("seeded the demo tenants into the new database");
    }

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr()?;
    http::warn_if_origin_trusts_host(addr, config.public_url.as_deref());
    // With port 0 the real port is known only now.
    let base_url = match &config.public_url {
        Some(_) => config.base_url(),
        None => format!("{}://{addr}", config.scheme()),
    };
    let certificate = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::ReloadingCert::load(cert, key)?),
        _ => None,
    };
    let acceptor = certificate.clone().map(tls::acceptor).transpose()?;
    let oidc =
        auth::oidc::OidcProviders::new(config.oidc.clone(), &base_url).map_err(ServeError::Oidc)?;
    let sessions = sessions::Sessions::start(
        store.clone(),
        clock.clone(),
        domain::ice::IceConfig {
            servers: config.ice_servers.clone(),
            turn_rest: config.turn_rest.clone(),
        },
        sessions::Timing {
            reconnect_millis: i64::from(config.reconnect_seconds) * 1000,
            code_lifetime_max_millis: config
                .code_lifetime_max_seconds
                .map(|seconds| i64::from(seconds) * 1000),
            code_redemptions_per_minute: config.code_redemptions_per_minute,
            ..sessions::Timing::default()
        },
    )
    .await?;
    if let Some(version) = &config.min_agent_version {
        sessions.devices().set_min_agent_version(version.clone());
    }
    let state = AppState {
        sessions: sessions.clone(),
        store: store.clone(),
        clock: clock.clone(),
        policy: SessionPolicy::from_minutes(
            config.session_idle_minutes,
            config.session_absolute_minutes,
        ),
        oidc,
        throttle: Arc::new(auth::throttle::LoginThrottle::new(
            auth::throttle::Limits::default(),
            clock.clone(),
            store.clone(),
            "login",
        )),
        hasher: Arc::new(auth::PasswordHasher::new(auth::HashLimits::default())?),
        public_origin: config.public_url.as_ref().map(|_| config.base_url().into()),
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    let cookies = http::CookiePolicy {
        secure: config.secure_cookies(),
    };
    let metrics_access = match &config.metrics_token {
        Some(token) => http::operations::MetricsAccess::token(&token.0),
        None => http::operations::MetricsAccess::Off,
    };
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some((
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?,
            http::metrics_router(state.clone()),
        )),
        None => None,
    };
    let app = http::router(state, &config.dist_dir, cookies, metrics_access);

    announce(config.scheme(), &addr, config.seed_demo);
    let reloader = tokio::spawn(reload_on_sighup(certificate, reload, sessions.clone()));

    let retention = tokio::spawn(reports::retention::run(store.clone(), clock.clone()));
    let sweeper = tokio::spawn(sweep_sessions(WebSessionStore::new(store, clock)));
    let housekeeping = tokio::spawn(session_housekeeping(sessions.clone()));
    let header_read_timeout = Duration::from_secs(config.header_read_timeout_seconds.max(1).into());
    // The metrics listener gets the same limits as the main one (it may be
    // reachable by more than the scraper).
    let metrics_server = metrics_listener.map(|(listener, router)| {
        let limits = connections::ConnectionLimits {
            header_read_timeout,
            ..connections::ConnectionLimits::default()
        };
        tokio::spawn(async move {
            let forever = std::future::pending::<()>();
            if let Err(error) = connections::serve(listener, router, limits, None, forever).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        })
    });
    let leaving = sessions.cluster().clone();
    let closing = sessions.clone();
    let drain = Duration::from_secs(config.drain_seconds.into());
    let drain_deadline = Arc::new(std::sync::OnceLock::new());
    let limits = connections::ConnectionLimits {
        header_read_timeout,
        per_address: config.max_connections_per_address.max(1) as usize,
        exempt: config.trusted_proxies.clone().into(),
        drain_deadline: drain_deadline.clone(),
    };
    let result = connections::serve(listener, app, limits, acceptor, async move {
        shutdown_signal().await;
        // One deadline for the whole drain: sockets, then requests.
        let deadline = tokio::time::Instant::now() + drain;
        let _ = drain_deadline.set(deadline);
        drain_sockets(&closing, deadline).await;
    })
    .await;
    reloader.abort();
    if let Some(task) = metrics_server {
        task.abort();
    }
    sweeper.abort();
    retention.abort();
    housekeeping.abort();
    // After the drain: the other replicas see this one's participants gone
    // at once, and one of them takes over the housekeeping.
    leaving.leave().await;
    result?;
    tracing::info!("stopped");
    Ok(())
}

/// Drains the server: `/readyz` turns 503 and new sessions and sockets are
/// refused at once; the open sockets are closed, so that consoles and
/// agents reconnect (to this server once it is back; their sessions wait
/// in the database within the reconnect window); then waits, until
/// `deadline` at most, until none is left. Requests keep being answered
/// meanwhile (a load balancer may still send some).
async fn drain_sockets(sessions: &sessions::Sessions, deadline: tokio::time::Instant) {
    sessions.drain();
    while sessions.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tracing::info!(
        left = sessions.open_sockets(),
        "drained; closing the listener"
    );
}

/// Prints where the server listens (scripts read this line) and, for the
/// demo, how to sign in.
fn announce(scheme: &str, addr: &std::net::SocketAddr, demo: bool) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {scheme}://{addr}");
    if demo {
        let _ = write!(out, "{}", seed::demo_banner());
    }
    let _ = out.flush();
}

/// On every SIGHUP: reads the TLS certificate and key again (a renewed
/// certificate; open connections keep theirs), and the ICE servers and
/// TURN secret (a rotated secret; running sessions keep their
/// credentials). Other settings take effect at a restart.
async fn reload_on_sighup(
    cert: Option<std::sync::Arc<tls::ReloadingCert>>,
    reload: Option<Reload>,
    sessions: sessions::Sessions,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!(
            "cannot listen for SIGHUP; the TLS certificate and TURN secret reload only at restart"
        );
        return;
    };
    while hangups.recv().await.is_some() {
        if let Some(cert) = &cert {
            match cert.reload() {
                Ok(()) => tracing::info!("reloaded the TLS certificate"),
                Err(error) => {
                    tracing::warn!(%error, "TLS reload failed; keeping the old certificate")
                }
            }
        }
        match reload.as_ref().map(|reload| reload()) {
            Some(Ok(config)) => {
                sessions.set_ice(domain::ice::IceConfig {
                    servers: config.ice_servers,
                    turn_rest: config.turn_rest,
                });
                tracing::info!("reloaded the ICE servers and the TURN secret");
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "configuration reload failed; keeping the ICE servers");
            }
            None => {}
        }
    }
}

async fn sweep_sessions(sessions: WebSessionStore) {
    let mut every = tokio::time::interval(SESSION_SWEEP_EVERY);
    loop {
        every.tick().await;
        match sessions.delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(n, "swept expired web sessions"),
            Err(error) => tracing::warn!(%error, "sweeping web sessions failed"),
        }
    }
}

/// How often codes expire, reconnect windows close and grants renew.
const SESSION_HOUSEKEEPING_EVERY: Duration = Duration::from_secs(1);

async fn session_housekeeping(sessions: sessions::Sessions) {
    let mut every = tokio::time::interval(SESSION_HOUSEKEEPING_EVERY);
    loop {
        every.tick().await;
        if let Err(error) = sessions.sweep().await {
            tracing::warn!(%error, "session housekeeping failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
