//! One signaling connection, generic over any `Sink` of server messages and
//! `Stream` of client frames: the WebSocket handler adapts a socket to
//! these, and tests drive it with channels.
//!
//! The connection first joins a session it takes part in. After that it
//! relays SDP and ICE to the other participant only, and only once a mode
//! was consented; it pings, and gives a silent peer up.

use super::SessionError;
use super::frame_rate::{FrameBudget, FrameRate, Verdict};
use super::hub::OUTBOX_DEPTH;
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::domain::ice::TurnUser;
use crate::domain::machine::Event;
use crate::store::{DeviceKeyRecord, UserRecord};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::time::Duration;
use tandem_protocol::problem::ProblemKind;
use tandem_protocol::session::Party;
use tandem_protocol::signal::{ClientMessage, FrameError, IceTransportPolicy, ServerMessage};
use tandem_protocol::{Problem, SessionId, UserId};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Liveness of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    pub ping_every: Duration,
    pub dead_after: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(tandem_protocol::signal::PING_EVERY_SECONDS),
            dead_after: Duration::from_secs(tandem_protocol::signal::DEAD_AFTER_SECONDS),
        }
    }
}

pub(super) fn problem(kind: ProblemKind, detail: impl Into<String>) -> ServerMessage {
    ServerMessage::Error {
        problem: Problem::new(kind, Some(detail.into())),
    }
}

/// Milliseconds since `opened`, for [`FrameRate`].
pub(crate) fn millis_since(opened: Instant) -> u64 {
    u64::try_from(opened.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Who is on the other end of `party`'s connection.
pub(super) fn others(party: Party) -> &'static [Party] {
    match party {
        Party::Helper => &[Party::Sharer, Party::Agent],
        _ => &[Party::Helper],
    }
}

/// Who opened a signaling connection: a signed-in person, or a device's
/// agent (authenticated by its device key).
#[derive(Debug, Clone)]
pub enum Caller {
    User(UserRecord),
    Agent(DeviceKeyRecord),
}

impl Caller {
    fn label(&self) -> &str {
        match self {
            Caller::User(user) => &user.id.0,
            Caller::Agent(key) => &key.device_id.0,
        }
    }

    /// Whom the caller's TURN credentials name.
    fn turn_user(&self) -> TurnUser<'_> {
        match self {
            Caller::User(user) => TurnUser::Person(&user.id),
            Caller::Agent(key) => TurnUser::Device(&key.device_id),
        }
    }

    /// The person acting, for the session log (agents act as themselves).
    fn user_id(&self) -> Option<&UserId> {
        match self {
            Caller::User(user) => Some(&user.id),
            Caller::Agent(_) => None,
        }
    }
}

/// Who this connection is, once joined.
pub(super) struct Joined {
    pub(super) session: SessionId,
    pub(super) scope: TenantScope,
    pub(super) party: Party,
    conn: u64,
    /// The tenant's "relay only" at join: only relay candidates pass.
    pub(super) policy: IceTransportPolicy,
}

/// Serves one signaling connection until it closes, goes silent, or the
/// server shuts down.
pub async fn serve_connection<S, R>(
    sessions: Sessions,
    caller: Caller,
    scope: TenantScope,
    mut sink: S,
    mut stream: R,
    heartbeat: Heartbeat,
) where
    S: Sink<ServerMessage> + Unpin,
    R: Stream<Item = Result<String, FrameError>> + Unpin,
{
    let (outbox, mut inbox) = mpsc::channel::<ServerMessage>(OUTBOX_DEPTH);
    let mut outbox = Some(outbox);
    let mut joined: Option<Joined> = None;
    let mut last_heard = Instant::now();
    // The first ping goes out one period in, not before the client joined.
    let mut ping =
        tokio::time::interval_at(Instant::now() + heartbeat.ping_every, heartbeat.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut nonce = 0u64;
    let mut refused = 0u32;
    let opened = Instant::now();
    let mut rate = FrameRate::new(FrameBudget::SIGNALING, 0);
    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break };
                last_heard = Instant::now();
                match rate.admit(millis_since(opened)) {
                    Verdict::Admit => {}
                    Verdict::Drop => continue,
                    Verdict::DropAndWarn => {
                        let warning = problem(ProblemKind::TooFast, "Messages are arriving too fast; some were dropped.");
                        if sink.send(warning).await.is_err() { break }
                        continue;
                    }
                    Verdict::Close => {
                        tracing::info!(caller = caller.label(), "closing a signaling connection that sends too fast");
                        let _ = sink.send(problem(ProblemKind::TooFast, "Messages kept arriving too fast; the connection is closed.")).await;
                        break;
                    }
                }
                let reply = match frame.map_err(|e| e.to_string()).and_then(|text| {
                    ClientMessage::parse(&text).map_err(|e| e.to_string())
                }) {
                    Ok(ClientMessage::Join { session }) if joined.is_none() => {
                        match join(&sessions, &caller, &scope, &session, outbox.take()).await {
                            Ok((attached, messages)) => {
                                joined = Some(attached);
                                let mut failed = false;
                                for message in messages {
                                    failed |= sink.send(message).await.is_err();
                                }
                                if failed { break }
                                None
                            }
                            Err(reply) => {
                                let _ = sink.send(reply).await;
                                break;
                            }
                        }
                    }
                    Ok(ClientMessage::Join { .. }) => Some(problem(ProblemKind::AlreadyJoined, "This connection has already joined a session.")),
                    Ok(ClientMessage::Pong { .. }) => None,
                    Ok(ClientMessage::Chat { text }) => match &joined {
                        Some(j) => chat(&sessions, j, text).await,
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Ok(ClientMessage::ElevationUsed) => match &joined {
                        Some(j) => elevation_used(&sessions, j).await,
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Ok(ClientMessage::ClipboardUsed { direction }) => match &joined {
                        Some(j) => super::tools::clipboard_used(&sessions, j, direction).await,
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Ok(ClientMessage::AnnotationUsed) => match &joined {
                        Some(j) => super::tools::annotation_used(&sessions, j).await,
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Ok(message @ (ClientMessage::FileNotice { .. }
                    | ClientMessage::FileAnswer { .. }
                    | ClientMessage::FileMoved { .. })) => match &joined {
                        Some(j) => super::files::on_message(&sessions, j, message).await,
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Ok(message) => match &joined {
                        Some(j) => super::relay::relay(&sessions, j, message),
                        None => Some(problem(ProblemKind::NotJoined, "Join a session first.")),
                    },
                    Err(why) => {
                        refused += 1;
                        tracing::debug!(caller = caller.label(), refused, %why, "refused a signaling frame");
                        Some(problem(ProblemKind::BadMessage, why))
                    }
                };
                if let Some(reply) = reply
                    && sink.send(reply).await.is_err()
                {
                    break;
                }
            }
            message = inbox.recv(), if joined.is_some() => {
                let Some(message) = message else { break };
                if sink.send(message).await.is_err() { break }
            }
            () = sessions.until_draining() => {
                tracing::info!(caller = caller.label(), "draining: closing a signaling connection");
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > heartbeat.dead_after {
                    tracing::info!(caller = caller.label(), "signaling peer went silent");
                    break;
                }
                nonce += 1;
                if sink.send(ServerMessage::Ping { nonce }).await.is_err() { break }
            }
        }
    }
    let _ = sink.close().await;
    if let Some(j) = joined {
        leave(&sessions, &j).await;
    }
}

/// Attaches the connection; returns what to send first.
async fn join(
    sessions: &Sessions,
    caller: &Caller,
    scope: &TenantScope,
    session: &SessionId,
    outbox: Option<mpsc::Sender<ServerMessage>>,
) -> Result<(Joined, Vec<ServerMessage>), ServerMessage> {
    let not_found = || {
        problem(
            ProblemKind::NotFound,
            "No such session, or you do not take part in it.",
        )
    };
    let found = match caller {
        Caller::User(user) => sessions.participant(user, scope, session).await,
        Caller::Agent(key) => sessions.agent_participant(key, scope, session).await,
    };
    let (mut record, party) = found.map_err(|error| match error {
        // The caller is not to blame, and "no such session" would be a lie.
        SessionError::Store(error) => {
            tracing::error!(%error, %session, "joining a session failed in the store");
            problem(
                ProblemKind::Internal,
                "Something went wrong on the server. It has been logged.",
            )
        }
        _ => not_found(),
    })?;
    let outbox = outbox.ok_or_else(not_found)?;
    // Relay only is the organization's rule: unknown means no session,
    // not a direct path.
    let ice_transport_policy = match sessions.store().settings(scope).await {
        Ok(settings) if settings.relay_only => IceTransportPolicy::Relay,
        Ok(_) => IceTransportPolicy::All,
        Err(error) => {
            tracing::error!(%error, %session, "reading the tenant settings failed");
            return Err(problem(
                ProblemKind::Internal,
                "Something went wrong on the server. It has been logged.",
            ));
        }
    };
    // Sockets of this party on a replica that died meanwhile are gone:
    // coming back here is then a reconnect.
    if sessions.hub().held_elsewhere(&record.id, party) {
        sessions.settle_replicas().await;
    }
    let now = sessions.now();
    sessions.hub().track_record(&record, now, false);
    let attached = sessions
        .hub()
        .attach(&record.id, party, outbox, now, &record.state);
    // This replica tells its own participants; another replica tells
    // its own when it hears of the join (`cluster_pg.rs`).
    for other in others(party) {
        sessions.hub().send_here(
            &record.id,
            *other,
            &ServerMessage::Peer {
                party,
                connected: true,
            },
        );
    }
    // Recording a reconnect publishes the new state to both sides itself.
    let mut published = false;
    if attached.returning && record.state.has_participants() {
        match sessions
            .apply(&record, party, caller.user_id(), Event::Reconnect, None)
            .await
        {
            Ok(updated) => {
                record = updated;
                published = true;
            }
            Err(error) => tracing::warn!(%error, "recording a reconnect failed"),
        }
    }
    if !published {
        sessions.publish(&record).await;
    }
    if party == super::media_party(record.via_agent) {
        sessions.hub().reset_grant(&record.id);
        sessions.send_grant_if_due(&record, now).await;
    }
    let first = vec![ServerMessage::Joined {
        you: party,
        ice_servers: sessions
            .ice()
            .servers_for(caller.turn_user(), &record.id, now),
        ice_transport_policy,
    }];
    Ok((
        Joined {
            session: record.id,
            scope: scope.clone(),
            party,
            conn: attached.conn,
            policy: ice_transport_policy,
        },
        first,
    ))
}

/// The agent reports that the helper's input reached an elevation prompt.
async fn elevation_used(sessions: &Sessions, joined: &Joined) -> Option<ServerMessage> {
    if joined.party != Party::Agent {
        return Some(problem(
            ProblemKind::WrongParty,
            "Only the device's agent reports elevation.",
        ));
    }
    match sessions
        .elevation_used(&joined.scope, &joined.session)
        .await
    {
        Ok(true) => None,
        Ok(false) => Some(problem(
            ProblemKind::NotNow,
            "Elevation is recorded only in full control by a helper who holds Elevation.",
        )),
        Err(error) => {
            tracing::warn!(%error, session = %joined.session, "recording elevation failed");
            Some(problem(
                ProblemKind::Internal,
                "Elevation could not be recorded.",
            ))
        }
    }
}

/// Passes a chat line to the other person (helper ↔ sharer) while both
/// take part and the tenant allows chat. The text is never stored or
/// logged; the record keeps only that chat was used.
async fn chat(sessions: &Sessions, joined: &Joined, text: String) -> Option<ServerMessage> {
    let to = match joined.party {
        Party::Helper => Party::Sharer,
        Party::Sharer => Party::Helper,
        Party::Agent | Party::System => {
            return Some(problem(
                ProblemKind::WrongParty,
                "Only the helper and the sharer chat.",
            ));
        }
    };
    let hub = sessions.hub();
    if !hub
        .state(&joined.session)
        .is_some_and(|s| s.has_participants())
    {
        return Some(problem(
            ProblemKind::NotNow,
            "Chat is open while both of you take part in the session.",
        ));
    }
    match sessions.store().settings(&joined.scope).await {
        Ok(settings) if settings.chat_enabled => {}
        Ok(_) => {
            return Some(problem(
                ProblemKind::ChatDisabled,
                "Chat is turned off for your organization.",
            ));
        }
        Err(error) => {
            tracing::warn!(%error, "reading the chat setting failed");
            return Some(problem(
                ProblemKind::Internal,
                "Chat is not available right now.",
            ));
        }
    }
    let line = ServerMessage::Chat {
        from: joined.party,
        text,
        at: sessions.now(),
    };
    if hub.send(&joined.session, to, &line) == 0 {
        return Some(problem(
            ProblemKind::ChatUndelivered,
            "The other person is not connected right now; the message was not delivered.",
        ));
    }
    if let Err(error) = sessions.store().mark_chat_used(&joined.session).await {
        tracing::warn!(%error, session = %joined.session, "recording that chat was used failed");
    }
    None
}

/// Detaches the connection and tells the other side if its party is gone.
async fn leave(sessions: &Sessions, joined: &Joined) {
    let now = sessions.now();
    let hub = sessions.hub();
    if hub.detach(&joined.session, joined.party, joined.conn, now) {
        for other in others(joined.party) {
            hub.send_here(
                &joined.session,
                *other,
                &ServerMessage::Peer {
                    party: joined.party,
                    connected: false,
                },
            );
        }
        match sessions
            .store()
            .session(&joined.scope, &joined.session)
            .await
        {
            Ok(Some(record)) => {
                sessions.publish(&record).await;
                if record.state.is_ended() {
                    hub.forget_ended(&record.id, record.version);
                }
            }
            Ok(None) => {}
            // The other side was told above; only the fresh view is missing.
            Err(error) => {
                tracing::error!(%error, session = %joined.session, "reading a session after a leave failed");
            }
        }
    }
}
