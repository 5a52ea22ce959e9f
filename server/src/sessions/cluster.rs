//! This replica's end of the bus between replicas (see
//! `store/replicas.rs` for the PostgreSQL side and `cluster_pg.rs` for the
//! tasks). The hub and the agents' registry publish here what other
//! replicas must know (a socket joined or left, a message for a socket
//! held elsewhere, a session changed); with one server (SQLite) nothing is
//! published and this replica always leads housekeeping.

use crate::domain::machine::State;
use crate::store::SessionRecord;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tandem_protocol::agent::AgentServerMessage;
use tandem_protocol::session::Party;
use tandem_protocol::signal::ServerMessage;
use tandem_protocol::{DeviceId, SessionId, TenantId, UnixMillis};
use tokio::sync::{mpsc, oneshot};

/// Bus messages queued for sending at most; past that they are dropped
/// and counted, as a stuck socket's outbox is.
pub const BUS_QUEUE_DEPTH: usize = 4_096;

/// What one replica tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum BusMessage {
    /// A signaling socket of `party` joined `session` here.
    Joined {
        tenant: TenantId,
        session: SessionId,
        party: Party,
        conn: u64,
        at: UnixMillis,
    },
    /// That socket closed.
    Left {
        session: SessionId,
        party: Party,
        conn: u64,
        at: UnixMillis,
    },
    /// For the sockets of `party` in `session` held by other replicas.
    Deliver {
        session: SessionId,
        party: Party,
        message: ServerMessage,
    },
    /// A session was created or changed: track it (and wake monitors).
    /// `tracked` carries what the hub keeps of it, so the others need not
    /// read it; without it (a replica of the version before) they read it.
    Changed {
        tenant: TenantId,
        session: SessionId,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "tracked_or_none"
        )]
        tracked: Option<Tracked>,
    },
    /// An agent's control socket opened here.
    AgentOnline { device: DeviceId, conn: u64 },
    /// That socket closed.
    AgentOffline { device: DeviceId, conn: u64 },
    /// For the control sockets of `device` held by other replicas.
    AgentDeliver {
        device: DeviceId,
        message: AgentServerMessage,
    },
    /// Forget every socket the sender announced before: it is leaving
    /// (drained), or it may have lost messages and announces its sockets
    /// again right after. Its participants count as gone since `at`.
    Reset { at: UnixMillis },
}

impl BusMessage {
    /// Whether it says who is connected (a loss that announcing again
    /// repairs).
    pub fn is_presence(&self) -> bool {
        matches!(
            self,
            BusMessage::Joined { .. }
                | BusMessage::Left { .. }
                | BusMessage::AgentOnline { .. }
                | BusMessage::AgentOffline { .. }
                | BusMessage::Reset { .. }
        )
    }
}

/// What the hub keeps of a session (`Hub::track_facts`): enough to relay
/// and to find it due for housekeeping without reading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    pub tenant: TenantId,
    pub state: State,
    pub code_expires_at: Option<UnixMillis>,
    pub via_agent: bool,
    /// The session's change count ([`SessionRecord::version`]): messages
    /// of two replicas may arrive in either order, and an older state
    /// never replaces a newer one.
    pub version: i64,
}

impl Tracked {
    pub fn of(record: &SessionRecord) -> Self {
        Self {
            tenant: record.tenant_id.clone(),
            state: record.state.clone(),
            code_expires_at: record.code_expires_at,
            via_agent: record.via_agent,
            version: record.version,
        }
    }
}

/// `tracked` as sent, or `None` if this version cannot read it (a state
/// a newer version added): the change is then read from the store, and
/// the message still counts.
fn tracked_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Tracked>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// A bus message with the replica that sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: String,
    pub body: BusMessage,
}

/// Asks the bus tasks to leave; they answer once they have.
pub(super) type LeaveRequest = oneshot::Sender<oneshot::Sender<()>>;

#[derive(Debug)]
struct Shared {
    replica: String,
    outbox: Option<mpsc::Sender<BusMessage>>,
    leader: AtomicBool,
    dropped: AtomicU64,
    /// A message was lost: the sender must announce its sockets again.
    dirty: AtomicBool,
    /// Numbers of this replica's sockets, signaling and agent alike
    /// (they share one key space in `live_presence`).
    next_conn: AtomicU64,
    leave: Mutex<Option<LeaveRequest>>,
}

/// This replica's end of the bus. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Cluster {
    shared: Arc<Shared>,
}

impl Default for Cluster {
    fn default() -> Self {
        Self::single()
    }
}

impl Cluster {
    /// One server alone: nothing to tell anyone, and it leads.
    pub fn single() -> Self {
        Self {
            shared: Arc::new(Shared {
                replica: "single".into(),
                outbox: None,
                leader: AtomicBool::new(true),
                dropped: AtomicU64::new(0),
                dirty: AtomicBool::new(false),
                next_conn: AtomicU64::new(0),
                leave: Mutex::new(None),
            }),
        }
    }

    /// A replica among others; what it publishes arrives at `outbox`'s
    /// receiver, which sends it over the database.
    pub fn shared(replica: String, outbox: mpsc::Sender<BusMessage>) -> Self {
        Self {
            shared: Arc::new(Shared {
                replica,
                outbox: Some(outbox),
                leader: AtomicBool::new(false),
                dropped: AtomicU64::new(0),
                dirty: AtomicBool::new(false),
                next_conn: AtomicU64::new(0),
                leave: Mutex::new(None),
            }),
        }
    }

    /// This replica's id (unique per process start).
    pub fn replica(&self) -> &str {
        &self.shared.replica
    }

    /// Whether other replicas may hold sockets.
    pub fn is_shared(&self) -> bool {
        self.shared.outbox.is_some()
    }

    /// A number for a new socket of this replica.
    pub fn next_conn(&self) -> u64 {
        self.shared.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Tells the other replicas; never waits. A full queue drops the
    /// message (counted, and logged once per thousand) and marks the
    /// replica dirty: its sockets are announced again from scratch.
    pub fn publish(&self, message: BusMessage) {
        let Some(outbox) = &self.shared.outbox else {
            return;
        };
        let presence = message.is_presence();
        if outbox.try_send(message).is_err() {
            // Lost presence is repaired by announcing again; a lost relay
            // is like a stuck socket's (the peers renegotiate).
            if presence {
                self.mark_dirty();
            }
            let dropped = self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            if dropped.is_multiple_of(1_000) {
                tracing::error!(
                    dropped = dropped + 1,
                    "the bus to other replicas is full; dropping messages"
                );
            }
        }
    }

    /// Where [`Self::leave`] asks the running bus tasks.
    pub(super) fn on_leave(&self, request: LeaveRequest) {
        if let Ok(mut leave) = self.shared.leave.lock() {
            *leave = Some(request);
        }
    }

    /// Leaves the other replicas (shutdown): this replica's rows are
    /// deleted, so its participants count as gone at once and may
    /// reconnect elsewhere; the housekeeping lock goes with the lifeline.
    /// Waits at most 2 s.
    pub async fn leave(&self) {
        let request = self.shared.leave.lock().ok().and_then(|mut l| l.take());
        let Some(request) = request else { return };
        let (done, left) = oneshot::channel();
        if request.send(done).is_ok() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), left).await;
        }
        self.set_leader(false);
    }

    /// A message to other replicas was lost (a full queue, or sent while
    /// the lifeline was down).
    pub(super) fn mark_dirty(&self) {
        self.shared.dirty.store(true, Ordering::Relaxed);
    }

    /// Whether a message was lost since the last call (and clears it).
    pub(super) fn take_dirty(&self) -> bool {
        self.shared.dirty.swap(false, Ordering::Relaxed)
    }

    /// Messages dropped because the bus queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Whether this replica runs the housekeeping that must happen once
    /// (expiring codes, ending sessions whose participant is gone).
    pub fn is_leader(&self) -> bool {
        self.shared.leader.load(Ordering::Relaxed)
    }

    pub(super) fn set_leader(&self, leader: bool) {
        let was = self.shared.leader.swap(leader, Ordering::Relaxed);
        if was != leader {
            tracing::info!(
                replica = self.replica(),
                leader,
                "housekeeping leadership changed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let message = Envelope {
            from: "r1".into(),
            body: BusMessage::Deliver {
                session: SessionId::from("s"),
                party: Party::Agent,
                message: ServerMessage::Ping { nonce: 7 },
            },
        };
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), message);
    }

    /// A newer version's state this one cannot read leaves the change to
    /// be read from the store; the message itself still arrives. A
    /// message of the version before (no facts) reads alike.
    #[test]
    fn facts_this_version_cannot_read_are_left_out_not_the_message() {
        let text = r#"{"from":"r2","body":{"t":"changed","tenant":"t","session":"s",
            "tracked":{"tenant":"t","state":{"state":"teleported"},"code_expires_at":null,
            "via_agent":false,"version":3}}}"#;
        let envelope: Envelope = serde_json::from_str(text).unwrap();
        assert_eq!(
            envelope.body,
            BusMessage::Changed {
                tenant: TenantId("t".into()),
                session: SessionId::from("s"),
                tracked: None,
            }
        );
        let before = r#"{"from":"r2","body":{"t":"changed","tenant":"t","session":"s"}}"#;
        assert_eq!(
            serde_json::from_str::<Envelope>(before).unwrap().body,
            envelope.body
        );
        let null =
            r#"{"from":"r2","body":{"t":"changed","tenant":"t","session":"s","tracked":null}}"#;
        assert_eq!(
            serde_json::from_str::<Envelope>(null).unwrap().body,
            envelope.body
        );
        let facts = Tracked {
            tenant: TenantId("t".into()),
            state: State::Redeemed,
            code_expires_at: None,
            via_agent: true,
            version: 2,
        };
        let message = Envelope {
            from: "r2".into(),
            body: BusMessage::Changed {
                tenant: TenantId("t".into()),
                session: SessionId::from("s"),
                tracked: Some(facts),
            },
        };
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), message);
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (tx, _rx) = mpsc::channel(1);
        let cluster = Cluster::shared("r".into(), tx);
        let changed = || BusMessage::Changed {
            tenant: TenantId("t".into()),
            session: SessionId::from("s"),
            tracked: None,
        };
        cluster.publish(changed());
        assert!(!cluster.take_dirty());
        cluster.publish(changed());
        assert_eq!(cluster.dropped(), 1);
        assert!(!cluster.take_dirty(), "a lost change is no lost presence");
        cluster.publish(BusMessage::Left {
            session: SessionId::from("s"),
            party: Party::Helper,
            conn: 1,
            at: UnixMillis(0),
        });
        assert!(
            cluster.take_dirty(),
            "a lost presence message makes the replica announce again"
        );
        assert_ne!(cluster.next_conn(), cluster.next_conn());
        assert!(
            !cluster.is_leader(),
            "a replica leads only once it holds the lock"
        );
        assert!(Cluster::single().is_leader());
    }
}
