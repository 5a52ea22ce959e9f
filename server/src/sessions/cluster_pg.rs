//! The bus between replicas over PostgreSQL: two tasks per replica.
//!
//! - The **sender** owns the lifeline (`store/replicas.rs`): it writes this
//!   replica's presence rows and sends what the hub and the agents'
//!   registry publish, one after the other, so other replicas see them in
//!   order. Every second it beats the heart, tries to take the
//!   housekeeping lock, and looks for dead replicas. When a message was
//!   lost (a full queue, or the lifeline was down), it starts over: it
//!   tells everyone to forget its sockets (`Reset`) and announces them
//!   again.
//! - The **listener** receives the other replicas' messages and applies
//!   them to this replica's hub and registry. When its connection drops
//!   (messages may be lost), it listens again on a new one and then reads
//!   the truth from the tables.

use super::Sessions;
use super::cluster::{BusMessage, Envelope};
use super::hub::Learnt;
use super::service::Inner;
use crate::auth::TenantScope;
use crate::store::replicas::{DeadReplica, Lifeline, Presence};
use crate::store::{Store, StoreResult};
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::time::Duration;
use tandem_protocol::session::Party;
use tandem_protocol::signal::ServerMessage;
use tandem_protocol::{SessionId, TenantId, UnixMillis};
use tokio::sync::{mpsc, oneshot};

/// How often a replica says it is alive and looks for dead ones.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A replica not seen for this long (by the database's clock) is dead,
/// even if its connection lingers (a frozen process, a vanished host). A
/// killed one is found at once, by its lifeline's process being gone.
pub const LEASE_MILLIS: i64 = 10_000;
/// How long a large message stays readable in `bus_payloads`.
const PAYLOAD_KEEP_MILLIS: i64 = 60_000;
/// How often the leader reads every live session again (a `Changed`
/// message lost on the way must not leave a session unwatched).
const RETRACK_EVERY_BEATS: u32 = 30;

/// A replica joined to the bus, before its tasks run.
pub(super) struct Joined {
    pub cluster: super::cluster::Cluster,
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
    let cluster = super::cluster::Cluster::shared(replica, tx);
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

/// Reads who is connected elsewhere, then runs the two tasks. They hold
/// the service weakly: they end when it is dropped.
pub(super) async fn run(sessions: Sessions, joined: Joined) -> StoreResult<()> {
    resync(&sessions).await?;
    let weak = sessions.downgrade();
    let channel = joined.lifeline.channel().to_owned();
    let listener = tokio::spawn(listen(weak.clone(), joined.listener, channel));
    let (leave, left) = oneshot::channel();
    sessions.cluster().on_leave(leave);
    let replica = sessions.cluster().replica().to_owned();
    drop(sessions);
    tokio::spawn(async move {
        let leaving = send(weak, Some(joined.lifeline), joined.outgoing, left).await;
        listener.abort();
        if let Some((mut line, done, at)) = leaving {
            // Others forget this replica's sockets at once (those still
            // open at the drain's deadline too), then its rows go.
            let reset = BusMessage::Reset { at };
            if let Err(error) = notify(&mut line, &replica, &reset).await {
                tracing::warn!(%error, "telling the other replicas of leaving failed");
            }
            if let Err(error) = line.unregister(&replica).await {
                tracing::warn!(%error, "leaving the other replicas failed");
            }
            drop(line);
            let _ = done.send(());
        }
    });
    Ok(())
}

/// The wall clock, where the service's clock is out of reach (it is being
/// dropped), and for a row's age in `bus_payloads`.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Sends until asked to leave; returns the lifeline and whom to tell.
async fn send(
    weak: Weak<Inner>,
    mut lifeline: Option<Lifeline>,
    mut outgoing: mpsc::Receiver<BusMessage>,
    mut leave: oneshot::Receiver<oneshot::Sender<()>>,
) -> Option<(Lifeline, oneshot::Sender<()>, UnixMillis)> {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats = 0u32;
    loop {
        // Queued messages go out before a leave is heard: a draining
        // replica's last "left" messages are not lost.
        tokio::select! {
            biased;
            message = outgoing.recv() => {
                let message = message?;
                let sessions = Sessions::upgrade(&weak)?;
                // With the lifeline down the message is lost: its return
                // announces everything anyway.
                if let Some(line) = lifeline.as_mut()
                    && let Err(error) = deliver(&sessions, line, &message).await
                {
                    tracing::warn!(%error, "sending to the other replicas failed; reconnecting");
                    lifeline = None;
                    sessions.cluster().set_leader(false);
                    sessions.cluster().mark_dirty();
                }
            }
            request = &mut leave => {
                let at = Sessions::upgrade(&weak).map_or(UnixMillis(now_millis()), |s| s.now());
                return match (lifeline, request) {
                    (Some(line), Ok(done)) => Some((line, done, at)),
                    _ => None,
                };
            }
            _ = beat.tick() => {
                let sessions = Sessions::upgrade(&weak)?;
                beats = beats.wrapping_add(1);
                if lifeline.is_none() {
                    lifeline = reconnect(&sessions).await;
                }
                if let Some(line) = lifeline.as_mut()
                    && let Err(error) = heartbeat(&sessions, line, beats).await
                {
                    tracing::warn!(%error, "the replica heartbeat failed; reconnecting");
                    lifeline = None;
                    sessions.cluster().set_leader(false);
                    sessions.cluster().mark_dirty();
                }
            }
        }
    }
}

/// Sends one message, as this replica, in order with the others.
async fn notify(line: &mut Lifeline, me: &str, message: &BusMessage) -> StoreResult<()> {
    let envelope = Envelope {
        from: me.to_owned(),
        body: message.clone(),
    };
    let text =
        serde_json::to_string(&envelope).map_err(|error| crate::store::StoreError::Corrupt {
            table: "bus",
            reason: error.to_string(),
        })?;
    line.notify(&text, UnixMillis(now_millis())).await
}

/// Writes a presence change, then notifies everyone.
async fn deliver(
    sessions: &Sessions,
    line: &mut Lifeline,
    message: &BusMessage,
) -> StoreResult<()> {
    let me = sessions.cluster().replica().to_owned();
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
            line.add_presence(&me, *conn, &presence, *at).await?;
        }
        BusMessage::AgentOnline { device, conn } => {
            let presence = Presence::Agent {
                device: device.clone(),
            };
            line.add_presence(&me, *conn, &presence, sessions.now())
                .await?;
        }
        BusMessage::Left { conn, .. } | BusMessage::AgentOffline { conn, .. } => {
            line.remove_presence(&me, *conn).await?;
        }
        _ => {}
    }
    notify(line, &me, message).await
}

/// Starts over: registers again (which deletes this replica's presence
/// rows), tells everyone to forget its sockets, and announces the ones
/// open now. After a broken lifeline, a lost message, or when another
/// replica took this one for dead.
async fn announce_again(sessions: &Sessions, line: &mut Lifeline) -> StoreResult<()> {
    // Anything lost from here on is after the snapshot below, and marks
    // the replica again.
    let _ = sessions.cluster().take_dirty();
    let me = sessions.cluster().replica().to_owned();
    let now = sessions.now();
    line.register(&me, now).await?;
    notify(line, &me, &BusMessage::Reset { at: now }).await?;
    for (session, tenant, party, conn) in sessions.hub().local_sockets() {
        let message = BusMessage::Joined {
            tenant,
            session,
            party,
            conn,
            at: now,
        };
        deliver(sessions, line, &message).await?;
    }
    for (device, conn) in sessions.agents().local_sockets() {
        deliver(sessions, line, &BusMessage::AgentOnline { device, conn }).await?;
    }
    Ok(())
}

/// A new lifeline after the old one broke.
async fn reconnect(sessions: &Sessions) -> Option<Lifeline> {
    let attempt = async {
        let mut line = sessions.store().lifeline().await?;
        announce_again(sessions, &mut line).await?;
        StoreResult::Ok(line)
    };
    match attempt.await {
        Ok(line) => {
            tracing::info!(
                replica = sessions.cluster().replica(),
                "reconnected to the other replicas"
            );
            Some(line)
        }
        Err(error) => {
            tracing::warn!(%error, "reconnecting to the other replicas failed");
            None
        }
    }
}

async fn heartbeat(sessions: &Sessions, line: &mut Lifeline, beats: u32) -> StoreResult<()> {
    let cluster = sessions.cluster();
    let me = cluster.replica().to_owned();
    // Unseen past the lease (others may have forgotten its sockets), its
    // row gone, or a presence message lost: everyone forgets this
    // replica's sockets and hears them again.
    let unseen = line.heartbeat(&me).await?;
    if unseen.is_none_or(|millis| millis > LEASE_MILLIS) || cluster.take_dirty() {
        tracing::info!(replica = me, "announcing this replica's sockets again");
        announce_again(sessions, line).await?;
    }
    if !cluster.is_leader() {
        cluster.set_leader(line.try_lead().await?);
    }
    // Looking for the dead reads through the pool: its failure is not the
    // lifeline's, and costs nothing but this beat's look.
    let dead = match settle(sessions).await {
        Ok(dead) => dead,
        Err(error) => {
            tracing::warn!(%error, "looking for dead replicas failed");
            Vec::new()
        }
    };
    // Every replica forgets the dead (it is conditional, so safe twice):
    // a vanished leader's lingering backend holds the lock, and only
    // ending it lets another replica lead.
    for replica in &dead {
        if let Err(error) = line.forget_dead(replica, LEASE_MILLIS).await {
            tracing::warn!(%error, replica = replica.id, "forgetting a dead replica failed");
        }
    }
    if cluster.is_leader() {
        line.purge_payloads(UnixMillis(now_millis() - PAYLOAD_KEEP_MILLIS))
            .await?;
        if beats.is_multiple_of(RETRACK_EVERY_BEATS) {
            let sessions = sessions.clone();
            tokio::spawn(async move {
                if let Err(error) = retrack(&sessions).await {
                    tracing::warn!(%error, "reading the live sessions again failed");
                }
            });
        }
    }
    Ok(())
}

/// Tracks every live session again (the leader, now and then).
async fn retrack(sessions: &Sessions) -> StoreResult<()> {
    let now = sessions.now();
    for record in sessions.store().live_sessions().await? {
        // A room's newer state is kept (versions order them); an older one
        // is mended (a `Changed` lost on a full queue).
        sessions.hub().track_record(&record, now, true);
    }
    Ok(())
}

/// Finds the replicas that died and forgets their sockets here; their
/// participants count as gone since the replica was last seen, so the
/// reconnect window runs and their return is a reconnect. The people
/// still here are told in a task of their own.
pub(super) async fn settle(sessions: &Sessions) -> StoreResult<Vec<DeadReplica>> {
    let cluster = sessions.cluster();
    let dead = sessions
        .store()
        .dead_replicas(cluster.replica(), LEASE_MILLIS)
        .await?;
    for replica in &dead {
        let at = UnixMillis(sessions.now().0 - replica.unseen_millis);
        forget_sockets_of(sessions, &replica.id, at);
    }
    Ok(dead)
}

/// Forgets every socket `replica` held, and tells the participants here
/// about the parties that left with them.
fn forget_sockets_of(sessions: &Sessions, replica: &str, at: UnixMillis) {
    let gone = sessions.hub().drop_replica(replica, at);
    sessions.agents().drop_remote(Some(replica));
    if gone.is_empty() {
        return;
    }
    tracing::info!(
        replica,
        sockets = gone.len(),
        "a replica's sockets are gone; their participants may reconnect here"
    );
    for (session, party) in gone {
        tell(sessions, session, party, false);
    }
}

/// Tells this replica's participants of `session` that `party` arrived or
/// left on another replica, at once and in the order it happened; the
/// fresh view (a read and the views) follows in a task of its own, so the
/// listener never waits on it. Each replica tells its own.
fn tell(sessions: &Sessions, session: SessionId, party: Party, connected: bool) {
    let peer = ServerMessage::Peer { party, connected };
    for other in super::signaling::others(party) {
        sessions.hub().send_here(&session, *other, &peer);
    }
    let Some(tenant) = sessions.hub().tenant_of(&session) else {
        return;
    };
    let sessions = sessions.clone();
    tokio::spawn(async move {
        match sessions
            .store()
            .session(&TenantScope::of_record(&tenant), &session)
            .await
        {
            Ok(Some(record)) => sessions.publish_here(&record).await,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, %session, "reading a session after a peer moved failed")
            }
        }
    });
}

async fn listen(weak: Weak<Inner>, listener: PgListener, channel: String) {
    let mut listener = Some(listener);
    loop {
        let Some(current) = listener.as_mut() else {
            // Listening again first, then reading the truth: nothing sent
            // after the read is missed.
            tokio::time::sleep(HEARTBEAT).await;
            let Some(sessions) = Sessions::upgrade(&weak) else {
                return;
            };
            match sessions.store().bus_listener(&channel).await {
                Ok(fresh) => match resync(&sessions).await {
                    Ok(()) => {
                        tracing::info!("the bus listener is back; live state read again");
                        listener = Some(fresh);
                    }
                    Err(error) => tracing::warn!(%error, "reading live state again failed"),
                },
                Err(error) => tracing::warn!(%error, "the bus listener cannot reconnect yet"),
            }
            continue;
        };
        let received = current.try_recv().await;
        let Some(sessions) = Sessions::upgrade(&weak) else {
            return;
        };
        match received {
            Ok(Some(notification)) => receive(&sessions, notification.payload()).await,
            // Lost its connection, or cannot reconnect: messages may be
            // lost, so start over on a new one.
            Ok(None) => {
                tracing::warn!("the bus listener lost its connection");
                listener = None;
            }
            Err(error) => {
                tracing::warn!(%error, "the bus listener failed");
                listener = None;
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
    let rows = store.presence_elsewhere(&me, LEASE_MILLIS).await?;
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

/// The text of a notification (a large one is read from its table).
async fn payload_text(sessions: &Sessions, payload: &str) -> Option<String> {
    let Some(Ok(id)) = payload.strip_prefix('@').map(str::parse::<i64>) else {
        return Some(payload.to_owned());
    };
    match sessions.store().bus_payload(id).await {
        Ok(Some(body)) => Some(body),
        Ok(None) => {
            tracing::warn!(id, "a large bus message was gone before it was read");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "reading a large bus message failed");
            None
        }
    }
}

/// Applies one message of another replica.
pub(super) async fn receive(sessions: &Sessions, payload: &str) {
    let Some(text) = payload_text(sessions, payload).await else {
        return;
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
            if hub.remote_attach(&session, party, (from, conn)) {
                tell(sessions, session, party, true);
            }
        }
        BusMessage::Left {
            session,
            party,
            conn,
            at,
        } => {
            if hub.remote_detach(&session, party, &(from, conn), at) {
                tell(sessions, session, party, false);
            }
        }
        BusMessage::Deliver {
            session,
            party,
            message,
        } => {
            hub.send_here(&session, party, &message);
        }
        BusMessage::Changed {
            tenant,
            session,
            tracked,
        } => {
            match tracked {
                Some(facts) => {
                    hub.follow(&session, &facts, (sessions.now(), false), Learnt::Bus);
                }
                None => track(sessions, &tenant, &session).await,
            }
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
        BusMessage::Reset { at } => forget_sockets_of(sessions, &from, at),
    }
}

/// Reads a session another replica changed, so housekeeping and relaying
/// here know its state.
async fn track(sessions: &Sessions, tenant: &TenantId, session: &SessionId) {
    let scope = TenantScope::of_record(tenant);
    match sessions.store().session(&scope, session).await {
        Ok(Some(record)) => {
            sessions.hub().follow_record(&record, sessions.now());
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, %session, "reading a session another replica changed failed")
        }
    }
}
