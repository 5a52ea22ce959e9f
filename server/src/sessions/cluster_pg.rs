//! The bus between replicas over PostgreSQL: two tasks per replica.
//!
//! - The **sender** owns the lifeline (`store/replicas.rs`): it writes this
//!   replica's presence rows and sends what the hub and the agents'
//!   registry publish, one after the other, so other replicas see them in
//!   order. Every second it beats the heart, tries to take the
//!   housekeeping lock, and looks for dead replicas.
//! - The **listener** receives the other replicas' messages and applies
//!   them to this replica's hub and registry. When its connection dropped
//!   (messages may be lost), it reads the truth again from the tables.

use super::Sessions;
use super::cluster::{BusMessage, Cluster, Envelope};
use super::service::Inner;
use crate::auth::TenantScope;
use crate::store::replicas::{DeadReplica, Lifeline, Presence};
use crate::store::{Store, StoreResult};
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::time::Duration;
use tandem_protocol::UnixMillis;
use tandem_protocol::session::Party;
use tandem_protocol::signal::ServerMessage;
use tokio::sync::{mpsc, oneshot};

/// How often a replica says it is alive and looks for dead ones.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A replica not seen for this long is dead, even if its connection
/// lingers (a frozen process). A killed one is found at once, by its
/// lifeline process being gone.
pub const LEASE_MILLIS: i64 = 10_000;
/// How long a large message stays readable in `bus_payloads`.
const PAYLOAD_KEEP_MILLIS: i64 = 60_000;

/// A replica joined to the bus, before its tasks run.
pub(super) struct Joined {
    pub cluster: Cluster,
    lifeline: Lifeline,
    outgoing: mpsc::Receiver<BusMessage>,
    listener: PgListener,
}

/// Registers this process as a new replica and starts listening, so that
/// nothing sent from now on is missed; takes the housekeeping lock if it
/// is free.
pub(super) async fn join(store: &Store, now: UnixMillis) -> StoreResult<Joined> {
    let replica = uuid::Uuid::new_v4().simple().to_string();
    let mut lifeline = store.lifeline().await?;
    lifeline.register(&replica, now).await?;
    let listener = store.bus_listener(lifeline.channel()).await?;
    let (tx, outgoing) = mpsc::channel(super::cluster::BUS_QUEUE_DEPTH);
    let cluster = Cluster::shared(replica, tx);
    cluster.set_leader(lifeline.try_lead().await?);
    tracing::info!(
        replica = cluster.replica(),
        leader = cluster.is_leader(),
        "joined the replicas of this database"
    );
    Ok(Joined {
        cluster,
        lifeline,
        outgoing,
        listener,
    })
}

/// Reads who is connected elsewhere, then runs the two tasks.
pub(super) async fn run(sessions: Sessions, joined: Joined) -> StoreResult<()> {
    resync(&sessions).await?;
    // The tasks hold the service weakly: they end when it is dropped.
    let weak = sessions.downgrade();
    let listener = tokio::spawn(listen(weak.clone(), joined.listener));
    let (leave, left) = oneshot::channel();
    sessions.cluster().on_leave(leave);
    let replica = sessions.cluster().replica().to_owned();
    drop(sessions);
    tokio::spawn(async move {
        let lifeline = send(weak, Some(joined.lifeline), joined.outgoing, left).await;
        listener.abort();
        if let Some((mut line, done)) = lifeline {
            if let Err(error) = line.forget_replica(&replica).await {
                tracing::warn!(%error, "leaving the other replicas failed");
            }
            drop(line);
            let _ = done.send(());
        }
    });
    Ok(())
}

/// Sends until asked to leave; returns the lifeline and whom to tell.
async fn send(
    weak: Weak<Inner>,
    mut lifeline: Option<Lifeline>,
    mut outgoing: mpsc::Receiver<BusMessage>,
    mut leave: oneshot::Receiver<oneshot::Sender<()>>,
) -> Option<(Lifeline, oneshot::Sender<()>)> {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Queued messages go out before a leave is heard: a draining
        // replica's last "left" messages are not lost.
        tokio::select! {
            biased;
            message = outgoing.recv() => {
                let message = message?;
                let sessions = Sessions::upgrade(&weak)?;
                if let Some(line) = lifeline.as_mut()
                    && let Err(error) = deliver(&sessions, line, &message).await
                {
                    tracing::warn!(%error, "sending to the other replicas failed; reconnecting");
                    lifeline = None;
                    sessions.cluster().set_leader(false);
                }
            }
            request = &mut leave => {
                return match (lifeline, request) {
                    (Some(line), Ok(done)) => Some((line, done)),
                    _ => None,
                };
            }
            _ = beat.tick() => {
                let sessions = Sessions::upgrade(&weak)?;
                if lifeline.is_none() {
                    lifeline = reconnect(&sessions).await;
                }
                if let Some(line) = lifeline.as_mut()
                    && let Err(error) = heartbeat(&sessions, line).await
                {
                    tracing::warn!(%error, "the replica heartbeat failed; reconnecting");
                    lifeline = None;
                    sessions.cluster().set_leader(false);
                }
            }
        }
    }
}

/// Writes a presence change, then notifies everyone.
async fn deliver(
    sessions: &Sessions,
    line: &mut Lifeline,
    message: &BusMessage,
) -> StoreResult<()> {
    let cluster = sessions.cluster();
    let me = cluster.replica();
    match message {
        BusMessage::Joined {
            tenant,
            session,
            party,
            conn,
            at,
        } => {
            let presence = Presence::Session {
                tenant: tenant.clone(),
                session: session.clone(),
                party: *party,
            };
            line.add_presence(me, *conn, &presence, *at).await?;
        }
        BusMessage::AgentOnline { device, conn } => {
            let presence = Presence::Agent {
                device: device.clone(),
            };
            line.add_presence(me, *conn, &presence, sessions.now())
                .await?;
        }
        BusMessage::Left { conn, .. } | BusMessage::AgentOffline { conn, .. } => {
            line.remove_presence(me, *conn).await?;
        }
        _ => {}
    }
    let envelope = Envelope {
        from: me.to_owned(),
        body: message.clone(),
    };
    let text =
        serde_json::to_string(&envelope).map_err(|error| crate::store::StoreError::Corrupt {
            table: "bus",
            reason: error.to_string(),
        })?;
    line.notify(&text, sessions.now()).await
}

/// A new lifeline after the old one broke: registered again, with this
/// replica's sockets announced again (other replicas may have taken it
/// for dead meanwhile).
async fn reconnect(sessions: &Sessions) -> Option<Lifeline> {
    let store = sessions.store();
    let me = sessions.cluster().replica().to_owned();
    let attempt = async {
        let mut line = store.lifeline().await?;
        line.register(&me, sessions.now()).await?;
        for (session, tenant, party, conn) in sessions.hub().local_sockets() {
            let message = BusMessage::Joined {
                tenant,
                session,
                party,
                conn,
                at: sessions.now(),
            };
            deliver(sessions, &mut line, &message).await?;
        }
        for (device, conn) in sessions.agents().local_sockets() {
            deliver(
                sessions,
                &mut line,
                &BusMessage::AgentOnline { device, conn },
            )
            .await?;
        }
        StoreResult::Ok(line)
    };
    match attempt.await {
        Ok(line) => {
            tracing::info!(replica = me, "reconnected to the other replicas");
            Some(line)
        }
        Err(error) => {
            tracing::warn!(%error, "reconnecting to the other replicas failed");
            None
        }
    }
}

async fn heartbeat(sessions: &Sessions, line: &mut Lifeline) -> StoreResult<()> {
    let cluster = sessions.cluster();
    let now = sessions.now();
    line.heartbeat(cluster.replica(), now).await?;
    if !cluster.is_leader() {
        cluster.set_leader(line.try_lead().await?);
    }
    for dead in settle(sessions).await? {
        if cluster.is_leader() {
            line.forget_replica(&dead.id).await?;
        }
    }
    if cluster.is_leader() {
        line.purge_payloads(UnixMillis(now.0 - PAYLOAD_KEEP_MILLIS))
            .await?;
    }
    Ok(())
}

/// Finds the replicas that died and forgets their sockets here; their
/// participants count as gone since the replica was last seen, so the
/// reconnect window runs and their return is a reconnect.
pub(super) async fn settle(sessions: &Sessions) -> StoreResult<Vec<DeadReplica>> {
    let now = sessions.now();
    let cluster = sessions.cluster();
    let dead = sessions
        .store()
        .dead_replicas(cluster.replica(), UnixMillis(now.0 - LEASE_MILLIS))
        .await?;
    for replica in &dead {
        let gone = sessions.hub().drop_replica(&replica.id, replica.seen_at);
        sessions.agents().drop_remote(Some(&replica.id));
        if !gone.is_empty() {
            tracing::info!(
                replica = replica.id,
                sockets = gone.len(),
                "a replica died; its participants may reconnect here"
            );
        }
        for (session, party) in gone {
            tell_gone(sessions, &session, party).await;
        }
    }
    Ok(dead)
}

/// Tells this replica's participants of `session` that `party` is gone,
/// with a fresh view (only here: every replica does it for its own).
async fn tell_gone(sessions: &Sessions, session: &tandem_protocol::SessionId, party: Party) {
    let gone = ServerMessage::Peer {
        party,
        connected: false,
    };
    for other in super::signaling::others(party) {
        sessions.hub().send_here(session, *other, &gone);
    }
    let Some(tenant) = sessions.hub().tenant_of(session) else {
        return;
    };
    match sessions
        .store()
        .session(&TenantScope::of_record(&tenant), session)
        .await
    {
        Ok(Some(record)) => sessions.publish_here(&record).await,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, %session, "reading a session after a replica died failed")
        }
    }
}

async fn listen(weak: Weak<Inner>, mut listener: PgListener) {
    loop {
        let received = listener.try_recv().await;
        let Some(sessions) = Sessions::upgrade(&weak) else {
            return;
        };
        match received {
            Ok(Some(notification)) => receive(&sessions, notification.payload()).await,
            Ok(None) => {
                tracing::warn!("the bus listener lost its connection; reading live state again");
                if let Err(error) = resync(&sessions).await {
                    tracing::warn!(%error, "reading live state again failed");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the bus listener cannot reconnect yet");
                tokio::time::sleep(HEARTBEAT).await;
            }
        }
    }
}

/// Forgets what other replicas hold and reads it again from the tables,
/// with every live session.
async fn resync(sessions: &Sessions) -> StoreResult<()> {
    let now = sessions.now();
    let store = sessions.store();
    let me = sessions.cluster().replica().to_owned();
    for record in store.live_sessions().await? {
        sessions.hub().track_record(&record, now, true);
    }
    let rows = store
        .presence_elsewhere(&me, UnixMillis(now.0 - LEASE_MILLIS))
        .await?;
    // Forgotten and read again with no wait between: nobody who is
    // connected elsewhere looks absent to a join meanwhile.
    sessions.hub().clear_remote(now);
    sessions.agents().drop_remote(None);
    for row in rows {
        let conn = (row.replica, row.conn);
        match row.presence {
            Presence::Session { session, party, .. } => {
                sessions.hub().remote_attach(&session, party, conn);
            }
            Presence::Agent { device } => sessions.agents().remote_attach(&device, conn),
        }
    }
    Ok(())
}

/// Applies one message of another replica.
async fn receive(sessions: &Sessions, payload: &str) {
    let text = match payload.strip_prefix('@').map(str::parse::<i64>) {
        Some(Ok(id)) => match sessions.store().bus_payload(id).await {
            Ok(Some(body)) => body,
            Ok(None) => {
                tracing::warn!(id, "a large bus message was gone before it was read");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "reading a large bus message failed");
                return;
            }
        },
        _ => payload.to_owned(),
    };
    let envelope = match serde_json::from_str::<Envelope>(&text) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(%error, "ignoring a bus message this version does not know");
            return;
        }
    };
    if envelope.from == sessions.cluster().replica() {
        return;
    }
    let from = envelope.from;
    let hub = sessions.hub();
    match envelope.body {
        BusMessage::Joined {
            tenant,
            session,
            party,
            conn,
            ..
        } => {
            if !hub.knows(&session) {
                track(sessions, &tenant, &session).await;
            }
            hub.remote_attach(&session, party, (from, conn));
        }
        BusMessage::Left {
            session,
            party,
            conn,
            at,
        } => {
            hub.remote_detach(&session, party, &(from, conn), at);
        }
        BusMessage::Deliver {
            session,
            party,
            message,
        } => {
            hub.send_here(&session, party, &message);
        }
        BusMessage::Changed { tenant, session } => {
            track(sessions, &tenant, &session).await;
            sessions.live_feed().notify(&tenant);
        }
        BusMessage::AgentOnline { device, conn } => {
            sessions.agents().remote_attach(&device, (from, conn));
        }
        BusMessage::AgentOffline { device, conn } => {
            sessions.agents().remote_detach(&device, &(from, conn));
        }
        BusMessage::AgentDeliver { device, message } => {
            sessions.agents().send_here(&device, &message);
        }
    }
}

/// Reads a session another replica changed, so housekeeping and relaying
/// here know its state.
async fn track(
    sessions: &Sessions,
    tenant: &tandem_protocol::TenantId,
    session: &tandem_protocol::SessionId,
) {
    let scope = TenantScope::of_record(tenant);
    match sessions.store().session(&scope, session).await {
        Ok(Some(record)) => {
            let hub = sessions.hub();
            hub.track_record(&record, sessions.now(), false);
            if record.state.is_ended() {
                hub.forget_if_idle(&record.id);
            }
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, %session, "reading a session another replica changed failed")
        }
    }
}
