//! The agent's main loop: register once, keep the control connection
//! (reconnecting with backoff), open pairing links and help requests in
//! the browser, and start a [`crate::session`] task for each session bound
//! to this device. What the sessions ask of the server (the sharer's
//! Pause, Resume and Stop on the indicator) goes out on the control
//! connection, kept across reconnects.

use crate::cli::Cli;
use crate::client::{self, ClientError};
use crate::error::AgentError;
use crate::gate::Status;
use crate::identity::Identity;
use crate::journal::DeviceLog;
use crate::session::{Finish, SessionContext};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_protocol::SessionId;
use tandem_protocol::agent::{AgentClientMessage, AgentServerMessage};
use tandem_protocol::grant::GrantKey;
use tandem_protocol::routes::AGENT_CONNECT;
use tokio::sync::{mpsc, watch};

/// Messages of the session tasks for the control connection that may wait
/// for it.
const OUTGOING_DEPTH: usize = 16;

/// Shared by the control loop and the session tasks.
struct Shared {
    cli: Cli,
    /// `--server`, checked once.
    server: String,
    log: Arc<dyn DeviceLog>,
    identity: Arc<Identity>,
    /// Set when the agent is stopping (Ctrl+C): sessions end at once.
    stop: watch::Receiver<bool>,
    /// Sessions with a running task: the server names them again after a
    /// reconnect, and each gets one task only.
    following: Mutex<HashSet<SessionId>>,
    /// Sessions the sharer stopped on this device: never followed again,
    /// even if the server names them before it has heard of the stop.
    stopped: Mutex<HashSet<SessionId>>,
    /// For the control connection (see [`SessionContext::to_server`]).
    to_server: mpsc::Sender<AgentClientMessage>,
}

/// Prints the agent's state on its terminal.
fn show(status: &Status) {
    println!("tandem-agent: {status}");
}

/// Loads (or makes) the device key in `state_dir` and registers it with
/// `server`, enrolling it with `token` if given. Prints what it became.
pub async fn register_device(
    server: &str,
    state_dir: &Path,
    token: Option<String>,
) -> Result<Identity, AgentError> {
    let mut identity = Identity::load_or_create(state_dir)?;
    let registration = client::register(server, &mut identity, token).await?;
    println!(
        "tandem-agent: registered as {} ({})",
        registration.device,
        if registration.enrolled {
            "enrolled"
        } else {
            "unenrolled"
        }
    );
    Ok(identity)
}

/// Runs until Ctrl+C (or until the service is stopped).
pub async fn run(cli: Cli) -> Result<(), AgentError> {
    let server = cli.server()?.to_owned();
    let identity = register_device(&server, &cli.state_dir(), cli.enroll.clone()).await?;
    let (stop_tx, stop) = watch::channel(false);
    let (to_server, outgoing) = mpsc::channel(OUTGOING_DEPTH);
    let shared = Arc::new(Shared {
        server,
        log: crate::platform::device_log(),
        cli,
        identity: Arc::new(identity),
        stop,
        following: Mutex::new(HashSet::new()),
        stopped: Mutex::new(HashSet::new()),
        to_server,
    });
    let control = tokio::spawn(control_loop(shared.clone(), outgoing));
    let _ = tokio::signal::ctrl_c().await;
    println!("tandem-agent: stopping; any sharing ends now");
    let _ = stop_tx.send(true);
    // Give session tasks a moment to tell the server.
    tokio::time::sleep(Duration::from_millis(300)).await;
    control.abort();
    Ok(())
}

/// What the session tasks asked to send, and the one message a broken
/// connection failed to send (sent first on the next).
struct Outgoing {
    queue: mpsc::Receiver<AgentClientMessage>,
    unsent: Option<AgentClientMessage>,
}

async fn control_loop(shared: Arc<Shared>, queue: mpsc::Receiver<AgentClientMessage>) {
    let mut backoff = Duration::from_millis(500);
    let mut first = true;
    let mut outgoing = Outgoing {
        queue,
        unsent: None,
    };
    loop {
        match control_once(&shared, first, &mut outgoing).await {
            Ok(()) => backoff = Duration::from_millis(500),
            Err(error) => tracing::warn!(%error, "control connection failed"),
        }
        first = false;
        println!(
            "tandem-agent: offline; reconnecting in {} ms",
            backoff.as_millis()
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn control_once(
    shared: &Arc<Shared>,
    first: bool,
    outgoing: &mut Outgoing,
) -> Result<(), ClientError> {
    let (mut sink, mut stream) = client::open::<AgentClientMessage, AgentServerMessage>(
        &shared.server,
        AGENT_CONNECT,
        &shared.identity,
    )
    .await?;
    let mut grant_key: Option<GrantKey> = None;
    if let Some(message) = outgoing.unsent.take() {
        send_or_keep(&mut sink, message, outgoing).await?;
    }
    let silence = Duration::from_secs(tandem_protocol::signal::DEAD_AFTER_SECONDS);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            Some(message) = outgoing.queue.recv() => {
                send_or_keep(&mut sink, message, outgoing).await?;
                continue;
            }
            // The server pings every few seconds: silence this long means
            // the connection is dead (a network change, a cut), even
            // though no error said so.
            () = tokio::time::sleep_until(last_heard + silence) => {
                println!("tandem-agent: the server went silent; reconnecting");
                break;
            }
        };
        last_heard = tokio::time::Instant::now();
        let Some(message) = message else { break };
        match message {
            AgentServerMessage::Welcome {
                device_name,
                required_version,
                grant_key: key,
                ..
            } => {
                grant_key = Some(key);
                show(&Status::Idle);
                println!(
                    "tandem-agent: this device is {}",
                    tandem_protocol::text::printable(&device_name)
                );
                if let Some(version) = required_version {
                    println!(
                        "tandem-agent: version {version} is required; please update this agent"
                    );
                }
                if first {
                    sink.send(AgentClientMessage::Pair).await?;
                }
            }
            AgentServerMessage::Pairing { path, .. } => {
                crate::browser::open(
                    &format!("{}{path}", shared.server),
                    shared.cli.browser.as_deref(),
                    shared.cli.no_browser,
                );
            }
            AgentServerMessage::HelpRequest { helper, path, .. } => {
                println!(
                    "tandem-agent: {} wants to help you; the sharer page opens now",
                    tandem_protocol::text::printable(&helper.display_name)
                );
                crate::browser::open(
                    &format!("{}{path}", shared.server),
                    shared.cli.browser.as_deref(),
                    shared.cli.no_browser,
                );
            }
            AgentServerMessage::SessionBound { session } => {
                let stopped = shared
                    .stopped
                    .lock()
                    .is_ok_and(|stopped| stopped.contains(&session));
                let new = !stopped
                    && shared
                        .following
                        .lock()
                        .is_ok_and(|mut following| following.insert(session.clone()));
                if let (true, Some(key)) = (new, grant_key.clone()) {
                    let context = SessionContext {
                        server: shared.server.clone(),
                        identity: shared.identity.clone(),
                        stop: shared.stop.clone(),
                        show,
                        log: shared.log.clone(),
                        sign_out_after: Duration::from_secs(shared.cli.sign_out_after),
                        to_server: shared.to_server.clone(),
                        state_dir: shared.cli.state_dir(),
                    };
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let finish = crate::session::follow(context, session.clone(), key).await;
                        if finish == Finish::StoppedOnDevice
                            && let Ok(mut stopped) = shared.stopped.lock()
                        {
                            stopped.insert(session.clone());
                        }
                        if let Ok(mut following) = shared.following.lock() {
                            following.remove(&session);
                        }
                    });
                }
            }
            AgentServerMessage::Ping { nonce } => {
                sink.send(AgentClientMessage::Pong { nonce }).await?;
            }
            AgentServerMessage::Error { message } => {
                tracing::warn!(%message, "the server refused a control message");
                println!("tandem-agent: the server refused: {message}");
            }
        }
    }
    Ok(())
}

/// Sends `message`; if the connection is broken, keeps it for the next one.
async fn send_or_keep(
    sink: &mut (impl futures_util::Sink<AgentClientMessage, Error = ClientError> + Unpin),
    message: AgentClientMessage,
    outgoing: &mut Outgoing,
) -> Result<(), ClientError> {
    if let Err(error) = sink.send(message.clone()).await {
        outgoing.unsent = Some(message);
        return Err(error);
    }
    Ok(())
}
