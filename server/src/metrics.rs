//! Prometheus metrics, served at `/metrics` in the text format.
//!
//! Counters and socket gauges live in one process-wide registry, moved
//! where things happen (`count_*` below); what the database knows (active
//! sessions by mode, the pool's connections) is read at each scrape, so
//! that it is true across restarts. Every label has a
//! closed set of values: a route template, a method, a status, a reason
//! name. Nothing an outsider sends becomes a label.

use crate::domain::machine::State;
use crate::store::{SessionRecord, Store};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;
use tandem_protocol::problem::ProblemKind;
use tandem_protocol::session::{Mode, Refusal};

/// Why `/metrics` could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics registry: {0}")]
    Registry(#[from] prometheus::Error),
    #[error("the metrics registry could not be built")]
    Unavailable,
}

/// Which long-lived socket a gauge counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// A console's or a sharer page's signaling WebSocket.
    Signaling,
    /// A sharer agent's control WebSocket.
    Agent,
}

impl SocketKind {
    fn label(self) -> &'static str {
        match self {
            SocketKind::Signaling => "signaling",
            SocketKind::Agent => "agent",
        }
    }
}

/// What a lockout locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    /// Too many wrong security codes by one sharer.
    Code,
    /// Too many failed sign-ins (per address, account or overall).
    Login,
    /// Too many agent registrations with one token or from one address.
    Registration,
}

impl Lockout {
    fn label(self) -> &'static str {
        match self {
            Lockout::Code => "code",
            Lockout::Login => "login",
            Lockout::Registration => "registration",
        }
    }
}

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    session_setups: IntCounterVec,
    setup_seconds: Histogram,
    refusals: IntCounterVec,
    sockets: IntGaugeVec,
    lockouts: IntCounterVec,
    sessions_active: IntGaugeVec,
    db_connections: IntGaugeVec,
    db_up: prometheus::IntGauge,
}

impl Metrics {
    fn build() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("tandem".into()), None)?;
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let setup_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "session_setup_seconds",
                "From the security code (or the device page's start) to the first consented picture.",
            )
            .buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
        )?;
        registry.register(Box::new(setup_seconds.clone()))?;
        let db_up = prometheus::IntGauge::new(
            "db_up",
            "1 when the database answered this scrape, 0 when it did not (the database figures are then the last ones read).",
        )?;
        registry.register(Box::new(db_up.clone()))?;
        Ok(Self {
            http_requests: counter(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
                &["route", "method", "status"],
            )?,
            session_setups: counter(
                "session_setups_total",
                "Sessions that reached their first consented mode (started) or ended before it (not_started).",
                &["result"],
            )?,
            setup_seconds,
            refusals: counter(
                "refusals_total",
                "Session requests refused, by reason (a policy refusal or a code failure).",
                &["reason"],
            )?,
            sockets: gauge(
                "sockets",
                "Open signaling and agent WebSockets on this server.",
                &["kind"],
            )?,
            lockouts: counter(
                "lockouts_total",
                "Requests refused because a rate limit locked them out.",
                &["kind"],
            )?,
            sessions_active: gauge(
                "sessions_active",
                "Live sessions in the database, by mode (pending: not consented yet).",
                &["mode"],
            )?,
            db_connections: gauge(
                "db_pool_connections",
                "This server's database pool connections, by state.",
                &["state"],
            )?,
            db_up,
            registry,
        })
    }
}

impl Metrics {
    /// Every series with a closed label set exists from the start, at 0, so
    /// that rates and alerts work before the first event.
    fn with_zero_series(self) -> Self {
        for result in ["started", "not_started"] {
            self.session_setups.with_label_values(&[result]);
        }
        for refusal in Refusal::ALL {
            self.refusals.with_label_values(&[refusal.name()]);
        }
        for kind in CODE_AND_PERMISSION_REFUSALS {
            self.refusals.with_label_values(&[kind.slug()]);
        }
        for kind in [Lockout::Code, Lockout::Login, Lockout::Registration] {
            self.lockouts.with_label_values(&[kind.label()]);
        }
        for kind in [SocketKind::Signaling, SocketKind::Agent] {
            self.sockets.with_label_values(&[kind.label()]);
        }
        self
    }
}

/// The problems counted as refusals besides the policy's own
/// ([`Refusal`]): codes that do not work, and permissions not held.
pub const CODE_AND_PERMISSION_REFUSALS: [ProblemKind; 8] = [
    ProblemKind::WrongCode,
    ProblemKind::CodeExpired,
    ProblemKind::CodeUsed,
    ProblemKind::CodeWithdrawn,
    ProblemKind::OwnCode,
    ProblemKind::RemoteHelpDisabled,
    ProblemKind::Forbidden,
    ProblemKind::ForeignDevice,
];

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match Metrics::build() {
    Ok(metrics) => Some(metrics.with_zero_series()),
    Err(error) => {
        tracing::error!(%error, "metrics are unavailable");
        None
    }
});

fn with(f: impl FnOnce(&Metrics)) {
    if let Some(metrics) = METRICS.as_ref() {
        f(metrics);
    }
}

/// An HTTP request answered: `route` is the matched route template.
pub fn count_request(route: &str, method: &str, status: u16) {
    with(|m| {
        m.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
    });
}

/// A refusal, by its closed reason name.
pub fn count_refusal(reason: &str) {
    with(|m| m.refusals.with_label_values(&[reason]).inc());
}

/// A lockout of `kind`.
pub fn count_lockout(kind: Lockout) {
    with(|m| m.lockouts.with_label_values(&[kind.label()]).inc());
}

/// A transition from `before` to `record.state`: counts a session that
/// reached its first consented mode (and how long that took since its
/// record was made), or one that ended before it.
pub fn count_transition(before: &State, record: &SessionRecord, now_millis: i64) {
    let never_started = matches!(
        before,
        State::Created
            | State::CodeIssued
            | State::Redeemed
            | State::ConsentPending { current: None, .. }
    );
    if !never_started {
        return;
    }
    with(|m| match record.state {
        State::Active { .. } => {
            m.session_setups.with_label_values(&["started"]).inc();
            let millis = (now_millis - record.created_at.0).max(0);
            #[allow(clippy::cast_precision_loss)] // milliseconds well below 2^52
            m.setup_seconds.observe(millis as f64 / 1000.0);
        }
        State::Ended { .. } => m.session_setups.with_label_values(&["not_started"]).inc(),
        _ => {}
    });
}

/// Counts an open socket until the guard is dropped.
#[derive(Debug)]
pub struct SocketGuard(SocketKind);

impl SocketGuard {
    pub fn open(kind: SocketKind) -> Self {
        with(|m| m.sockets.with_label_values(&[kind.label()]).inc());
        Self(kind)
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        with(|m| m.sockets.with_label_values(&[self.0.label()]).dec());
    }
}

/// The text exposition of every metric, with the database's figures read
/// now.
pub async fn render(store: &Store) -> Result<String, MetricsError> {
    let metrics = METRICS.as_ref().ok_or(MetricsError::Unavailable)?;
    // The counters are worth reading while the database is down: its
    // figures then keep their last values and `db_up` says 0.
    match store.live_sessions().await {
        Ok(live) => {
            let mut by_mode = [("pending", 0), ("view", 0), ("control", 0), ("paused", 0)];
            for record in live {
                let index = match record.state {
                    State::Active { mode: Mode::View } => 1,
                    State::Active {
                        mode: Mode::Control,
                    } => 2,
                    State::Paused { .. } => 3,
                    State::Ended { .. } => continue,
                    _ => 0,
                };
                by_mode[index].1 += 1;
            }
            for (mode, count) in by_mode {
                metrics
                    .sessions_active
                    .with_label_values(&[mode])
                    .set(count);
            }
            metrics.db_up.set(1);
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: the database did not answer");
            metrics.db_up.set(0);
        }
    }
    let (size, idle) = store.pool_use();
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    metrics
        .db_connections
        .with_label_values(&["idle"])
        .set(idle);
    metrics
        .db_connections
        .with_label_values(&["in_use"])
        .set(i64::from(size) - idle);
    let mut text = Vec::new();
    TextEncoder::new().encode(&metrics.registry.gather(), &mut text)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}
