//! A session's room in the [`Hub`](super::hub::Hub): one slot per party
//! (its sockets here and on other replicas, since when it is absent) and
//! what the hub keeps of the session's state.

use super::hub::{Outbox, RemoteConn};
use crate::domain::machine::State;
use std::collections::HashSet;
use tandem_protocol::session::Party;
use tandem_protocol::{TenantId, UnixMillis};

#[derive(Debug, Default)]
pub(super) struct Slot {
    pub(super) conns: Vec<(u64, Outbox)>,
    /// Sockets of this party on other replicas.
    pub(super) remote: HashSet<RemoteConn>,
    /// Since when nobody of this party is connected (`None` while someone is).
    pub(super) absent_since: Option<UnixMillis>,
    /// Whether this party was ever attached (so coming back is a reconnect).
    pub(super) seen: bool,
}

#[derive(Debug)]
pub(super) struct Room {
    pub(super) helper: Slot,
    pub(super) sharer: Slot,
    /// The device's agent, in sessions it shares the screen for.
    pub(super) agent: Slot,
    pub(super) via_agent: bool,
    pub(super) state: State,
    /// The version of `state` ([`Tracked::version`](super::cluster::Tracked::version)).
    pub(super) version: i64,
    pub(super) granted_at: Option<UnixMillis>,
    /// Whose session it is, to load it when housekeeping is due.
    pub(super) tenant: Option<TenantId>,
    pub(super) code_expires_at: Option<UnixMillis>,
}

impl Slot {
    pub(super) fn is_empty(&self) -> bool {
        self.conns.is_empty() && self.remote.is_empty()
    }
}

impl Room {
    /// Nobody is connected to it.
    pub(super) fn is_idle(&self) -> bool {
        self.helper.is_empty() && self.sharer.is_empty() && self.agent.is_empty()
    }

    pub(super) fn slot_ref(&self, party: Party) -> Option<&Slot> {
        match party {
            Party::Helper => Some(&self.helper),
            Party::Sharer => Some(&self.sharer),
            Party::Agent => Some(&self.agent),
            Party::System => None,
        }
    }

    pub(super) fn slot(&mut self, party: Party) -> Option<&mut Slot> {
        match party {
            Party::Helper => Some(&mut self.helper),
            Party::Sharer => Some(&mut self.sharer),
            Party::Agent => Some(&mut self.agent),
            Party::System => None,
        }
    }
}
