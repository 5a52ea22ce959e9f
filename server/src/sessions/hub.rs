//! Who is connected to which session, right now. In memory: after a
//! restart the rooms are rebuilt from the store with everyone absent, and
//! participants re-attach within the reconnect window.
//!
//! The hub never decides anything: it holds each participant's outboxes,
//! when each was last seen, and the session's last known state so that
//! relaying SDP does not touch the database. With several replicas it also
//! knows the sockets other replicas hold (told over the bus, see
//! `cluster.rs`): they count as connected, and a message for a party with
//! sockets elsewhere is published for those replicas to deliver.

use super::cluster::{BusMessage, Cluster, Tracked};
use super::ended_rooms::EndedRooms;
use super::room::{Room, Slot};
use crate::domain::machine::State;
use crate::store::SessionRecord;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tandem_protocol::session::Party;
use tandem_protocol::signal::ServerMessage;
use tandem_protocol::{SessionId, TenantId, UnixMillis};
use tokio::sync::mpsc;

/// Messages queued per connection before it counts as stuck and is dropped.
pub const OUTBOX_DEPTH: usize = 64;

pub type Outbox = mpsc::Sender<ServerMessage>;

/// A socket another replica holds: its replica and its number there.
pub type RemoteConn = (String, u64);

/// What housekeeping must do for a session now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Its code ran out unused.
    Expire,
    /// A participant did not come back within the reconnect window.
    Disconnect,
    /// Its media end needs a fresh grant.
    Grant,
}

/// The live connections of every session.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    rooms: Arc<Mutex<HashMap<SessionId, Room>>>,
    /// Locked only while `rooms` is, after it.
    ended: Arc<Mutex<EndedRooms>>,
    cluster: Cluster,
}

/// Where the hub learnt a session's state, to order it against the one
/// it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learnt {
    /// Read from the database, or written by this replica: the truth at
    /// its version, kept over an equal one (a replica of an older version
    /// may change the state without moving the count).
    Store,
    /// Announced by another replica: replaces only an older version.
    Bus,
}

/// What attaching found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attached {
    pub conn: u64,
    /// The party had been attached before and dropped: a reconnect.
    pub returning: bool,
}

impl Hub {
    /// A hub that tells the other replicas of `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self {
            cluster,
            ..Self::default()
        }
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<SessionId, Room>> {
        // Plain maps stay consistent even if a holder panicked.
        self.rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ended(&self) -> MutexGuard<'_, EndedRooms> {
        self.ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes sure a room exists for `id`, with `state` if it is new. A new
    /// room starts with both parties absent since `now`; `seen` says
    /// whether they count as having been there (true when rebuilding after
    /// a restart).
    fn room<'a>(
        rooms: &'a mut HashMap<SessionId, Room>,
        id: &SessionId,
        state: &State,
        now: UnixMillis,
        seen: bool,
    ) -> &'a mut Room {
        let absent = || Slot {
            absent_since: Some(now),
            seen,
            ..Slot::default()
        };
        rooms.entry(id.clone()).or_insert_with(|| Room {
            helper: absent(),
            sharer: absent(),
            agent: absent(),
            via_agent: false,
            state: state.clone(),
            version: i64::MIN,
            granted_at: None,
            tenant: None,
            code_expires_at: None,
        })
    }

    /// Records what the hub keeps of a session, unless it holds a newer
    /// state of it already (two replicas' messages may arrive in either
    /// order), or the session ended after it and its room was dropped;
    /// returns whether it did.
    pub fn track_facts(
        &self,
        id: &SessionId,
        facts: &Tracked,
        (now, seen): (UnixMillis, bool),
        learnt: Learnt,
    ) -> bool {
        let mut rooms = self.rooms();
        if !rooms.contains_key(id) && self.ended().is_from_before_the_end(id, facts.version) {
            return false;
        }
        let room = Self::room(&mut rooms, id, &facts.state, now, seen);
        let newer = match learnt {
            Learnt::Store => facts.version >= room.version,
            Learnt::Bus => facts.version > room.version,
        };
        if !newer {
            return false;
        }
        room.state = facts.state.clone();
        room.version = facts.version;
        room.tenant = Some(facts.tenant.clone());
        room.code_expires_at = facts.code_expires_at;
        room.via_agent |= facts.via_agent;
        true
    }

    /// [`Self::track_facts`], then, if the session ended, drops its room
    /// as [`Self::forget_ended`] does: how a replica follows a state it
    /// learnt from elsewhere (the bus, or a read). Returns whether it ended.
    pub fn follow(
        &self,
        id: &SessionId,
        facts: &Tracked,
        at: (UnixMillis, bool),
        learnt: Learnt,
    ) -> bool {
        self.track_facts(id, facts, at, learnt);
        let ended = facts.state.is_ended();
        if ended {
            self.forget_ended(id, facts.version);
        }
        ended
    }

    /// [`Self::follow`] for a session record read from the store.
    pub fn follow_record(&self, record: &SessionRecord, now: UnixMillis) -> bool {
        self.follow(
            &record.id,
            &Tracked::of(record),
            (now, false),
            Learnt::Store,
        )
    }

    /// [`Self::track_facts`] for a session record: its state, and what
    /// housekeeping needs to find it due without reading the store (its
    /// tenant, its code's expiry, whether its agent shares the screen).
    pub fn track_record(&self, record: &SessionRecord, now: UnixMillis, seen: bool) {
        self.track_facts(&record.id, &Tracked::of(record), (now, seen), Learnt::Store);
    }

    /// The sessions housekeeping must act on at `now`, from memory alone:
    /// codes past their expiry, participants gone longer than
    /// `window_millis` (only on the replica that `leads`), and grants
    /// older than `grant_every_millis` where the media end is connected to
    /// this replica. Nothing else is read from the store.
    pub fn due(
        &self,
        now: UnixMillis,
        window_millis: i64,
        grant_every_millis: i64,
        leads: bool,
    ) -> Vec<(SessionId, TenantId, Due)> {
        let gone: std::collections::HashSet<SessionId> = self
            .absent_longer_than(window_millis, now)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let rooms = self.rooms();
        let mut due = Vec::new();
        for (id, room) in rooms.iter() {
            let Some(tenant) = &room.tenant else { continue };
            let what = match &room.state {
                State::CodeIssued if leads && room.code_expires_at.is_none_or(|at| now >= at) => {
                    Some(Due::Expire)
                }
                _ if leads && gone.contains(id) => Some(Due::Disconnect),
                State::Active { .. } => {
                    let media = if room.via_agent {
                        &room.agent
                    } else {
                        &room.sharer
                    };
                    let stale = room
                        .granted_at
                        .is_none_or(|at| now.millis_since(at) >= grant_every_millis);
                    (stale && !media.conns.is_empty()).then_some(Due::Grant)
                }
                _ => None,
            };
            if let Some(what) = what {
                due.push((id.clone(), tenant.clone(), what));
            }
        }
        due
    }

    /// Whether the agent is the media end of this session.
    pub fn via_agent(&self, id: &SessionId) -> bool {
        self.rooms().get(id).is_some_and(|r| r.via_agent)
    }

    /// The last state the hub was told of.
    pub fn state(&self, id: &SessionId) -> Option<State> {
        self.rooms().get(id).map(|r| r.state.clone())
    }

    /// Attaches a connection of `party`; `state` is the session's, kept if
    /// the hub had no room for it yet (a room's state changes only through
    /// [`Self::track_facts`], newer over older).
    pub fn attach(
        &self,
        id: &SessionId,
        party: Party,
        outbox: Outbox,
        now: UnixMillis,
        state: &State,
    ) -> Attached {
        let conn = self.cluster.next_conn();
        let mut rooms = self.rooms();
        let room = Self::room(&mut rooms, id, state, now, false);
        let tenant = room.tenant.clone();
        let Some(slot) = room.slot(party) else {
            return Attached {
                conn,
                returning: false,
            };
        };
        let returning = slot.seen && slot.absent_since.is_some();
        slot.conns.push((conn, outbox));
        slot.absent_since = None;
        slot.seen = true;
        if let Some(tenant) = tenant {
            self.cluster.publish(BusMessage::Joined {
                tenant,
                session: id.clone(),
                party,
                conn,
                at: now,
            });
        }
        Attached { conn, returning }
    }

    /// A socket of `party` joined `id` on another replica; true if the
    /// party had nobody connected anywhere before (it arrived).
    pub fn remote_attach(&self, id: &SessionId, party: Party, conn: RemoteConn) -> bool {
        let mut rooms = self.rooms();
        let Some(slot) = rooms.get_mut(id).and_then(|r| r.slot(party)) else {
            return false;
        };
        let arrived = slot.is_empty();
        slot.remote.insert(conn);
        slot.absent_since = None;
        slot.seen = true;
        arrived
    }

    /// A socket of another replica closed; true if its party has nobody
    /// left anywhere.
    pub fn remote_detach(
        &self,
        id: &SessionId,
        party: Party,
        conn: &RemoteConn,
        now: UnixMillis,
    ) -> bool {
        let mut rooms = self.rooms();
        let Some(slot) = rooms.get_mut(id).and_then(|r| r.slot(party)) else {
            return false;
        };
        if !slot.remote.remove(conn) {
            return false;
        }
        if slot.is_empty() && slot.absent_since.is_none() {
            slot.absent_since = Some(now);
            return true;
        }
        false
    }

    /// Forgets every socket of a replica that died (last seen at `at`);
    /// returns the parties that now have nobody left anywhere.
    pub fn drop_replica(&self, replica: &str, at: UnixMillis) -> Vec<(SessionId, Party)> {
        let mut rooms = self.rooms();
        let mut gone = Vec::new();
        for (id, room) in rooms.iter_mut() {
            for party in [Party::Helper, Party::Sharer, Party::Agent] {
                let Some(slot) = room.slot(party) else {
                    continue;
                };
                let before = slot.remote.len();
                slot.remote.retain(|(r, _)| r != replica);
                if slot.remote.len() < before && slot.is_empty() && slot.absent_since.is_none() {
                    slot.absent_since = Some(at);
                    gone.push((id.clone(), party));
                }
            }
        }
        gone
    }

    /// Forgets every socket of other replicas (before reading them again).
    pub fn clear_remote(&self, now: UnixMillis) {
        for room in self.rooms().values_mut() {
            for slot in [&mut room.helper, &mut room.sharer, &mut room.agent] {
                slot.remote.clear();
                if slot.conns.is_empty() && slot.absent_since.is_none() {
                    slot.absent_since = Some(now);
                }
            }
        }
    }

    /// The tenant of a tracked session.
    pub fn tenant_of(&self, id: &SessionId) -> Option<TenantId> {
        self.rooms().get(id).and_then(|r| r.tenant.clone())
    }

    /// Whether a room exists for `id`.
    pub fn knows(&self, id: &SessionId) -> bool {
        self.rooms().contains_key(id)
    }

    /// Whether some of `party`'s sockets in `id` are held elsewhere.
    pub fn held_elsewhere(&self, id: &SessionId, party: Party) -> bool {
        self.rooms()
            .get_mut(id)
            .and_then(|r| r.slot(party))
            .is_some_and(|s| !s.remote.is_empty())
    }

    /// This replica's own sockets: (session, tenant, party, conn).
    pub fn local_sockets(&self) -> Vec<(SessionId, TenantId, Party, u64)> {
        let mut rooms = self.rooms();
        let mut found = Vec::new();
        for (id, room) in rooms.iter_mut() {
            let Some(tenant) = room.tenant.clone() else {
                continue;
            };
            for party in [Party::Helper, Party::Sharer, Party::Agent] {
                if let Some(slot) = room.slot(party) {
                    for (conn, _) in &slot.conns {
                        found.push((id.clone(), tenant.clone(), party, *conn));
                    }
                }
            }
        }
        found
    }

    /// Detaches a connection; true if its party has nobody left.
    pub fn detach(&self, id: &SessionId, party: Party, conn: u64, now: UnixMillis) -> bool {
        let mut rooms = self.rooms();
        let Some(slot) = rooms.get_mut(id).and_then(|r| r.slot(party)) else {
            return false;
        };
        slot.conns.retain(|(c, _)| *c != conn);
        // Published even when a stuck outbox was dropped already: this is
        // the one call a closing socket makes.
        self.cluster.publish(BusMessage::Left {
            session: id.clone(),
            party,
            conn,
            at: now,
        });
        if slot.is_empty() && slot.absent_since.is_none() {
            slot.absent_since = Some(now);
            return true;
        }
        false
    }

    /// Whether someone of `party` is connected, here or elsewhere.
    pub fn connected(&self, id: &SessionId, party: Party) -> bool {
        self.rooms()
            .get_mut(id)
            .and_then(|r| r.slot(party))
            .is_some_and(|s| !s.is_empty())
    }

    /// Queues `message` for every connection of `party`, and publishes it
    /// for the replicas holding others; returns how many took it (a
    /// socket elsewhere counts as taking it). A connection here whose
    /// outbox is full or closed is dropped.
    pub fn send(&self, id: &SessionId, party: Party, message: &ServerMessage) -> usize {
        let mut rooms = self.rooms();
        let Some(slot) = rooms.get_mut(id).and_then(|r| r.slot(party)) else {
            return 0;
        };
        Self::deliver(slot, message);
        if !slot.remote.is_empty() {
            self.cluster.publish(BusMessage::Deliver {
                session: id.clone(),
                party,
                message: message.clone(),
            });
        }
        slot.conns.len() + slot.remote.len()
    }

    /// Queues `message` for this replica's connections of `party` only (a
    /// message another replica published); returns how many took it.
    pub fn send_here(&self, id: &SessionId, party: Party, message: &ServerMessage) -> usize {
        let mut rooms = self.rooms();
        let Some(slot) = rooms.get_mut(id).and_then(|r| r.slot(party)) else {
            return 0;
        };
        Self::deliver(slot, message);
        slot.conns.len()
    }

    /// Queues `message` on every local outbox; a stuck or closed one is
    /// dropped (its socket task then ends and detaches).
    fn deliver(slot: &mut Slot, message: &ServerMessage) {
        slot.conns
            .retain(|(_, outbox)| outbox.try_send(message.clone()).is_ok());
    }

    /// While `party`, who was in the session, is away from it: how long
    /// they have left of `window_millis` to come back, at `now`.
    pub fn reconnect_left(
        &self,
        id: &SessionId,
        party: Party,
        window_millis: i64,
        now: UnixMillis,
    ) -> Option<u64> {
        let rooms = self.rooms();
        let room = rooms.get(id)?;
        if !room.state.has_participants() {
            return None;
        }
        let slot = room.slot_ref(party)?;
        let since = slot.absent_since.filter(|_| slot.seen && slot.is_empty())?;
        Some(u64::try_from(window_millis - now.millis_since(since)).unwrap_or(0))
    }

    /// Parties absent for longer than `window_millis` in sessions that have
    /// both participants.
    pub fn absent_longer_than(
        &self,
        window_millis: i64,
        now: UnixMillis,
    ) -> Vec<(SessionId, Party)> {
        let rooms = self.rooms();
        let mut gone = Vec::new();
        for (id, room) in rooms.iter() {
            if !room.state.has_participants() {
                continue;
            }
            let mut slots = vec![(Party::Helper, &room.helper)];
            // In agent sessions the agent is what must stay; the sharer's
            // browser only carries the consent controls.
            if room.via_agent {
                slots.push((Party::Agent, &room.agent));
            } else {
                slots.push((Party::Sharer, &room.sharer));
            }
            for (party, slot) in slots {
                if slot
                    .absent_since
                    .is_some_and(|since| now.millis_since(since) > window_millis)
                {
                    gone.push((id.clone(), party));
                }
            }
        }
        gone
    }

    /// When the last grant went out, and records `now` as the new one if
    /// `due` says so.
    pub fn grant_due(&self, id: &SessionId, now: UnixMillis, every_millis: i64) -> bool {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(id) else {
            return false;
        };
        let due = room
            .granted_at
            .is_none_or(|at| now.millis_since(at) >= every_millis);
        if due {
            room.granted_at = Some(now);
        }
        due
    }

    /// Forgets that a grant went out (the mode changed: send one at once).
    pub fn reset_grant(&self, id: &SessionId) {
        if let Some(room) = self.rooms().get_mut(id) {
            room.granted_at = None;
        }
    }

    /// The session `id` ended at `version`: drops its room if nobody is
    /// attached, and remembers the end (whatever state the room held: the
    /// end may be known here before the message that announces it), so no
    /// late message of an older state brings the room back.
    pub fn forget_ended(&self, id: &SessionId, version: i64) {
        let mut rooms = self.rooms();
        let room = rooms.get(id);
        if room.is_some_and(|r| !r.is_idle()) {
            return;
        }
        let held = rooms.remove(id).map_or(version, |room| room.version);
        self.ended().remember(id, version.max(held));
    }

    /// Closes every connection (server shutdown): their outboxes drop, so
    /// each connection's task ends and closes its socket.
    pub fn close_all(&self) {
        self.rooms().clear();
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
