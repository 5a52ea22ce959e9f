//! Connected agents, in memory: an agent reconnects after a restart. With
//! several replicas, the agents connected elsewhere are known from the bus
//! (`cluster.rs`), and a message for one of them is published there.
//! Pairing links are in the database (`store/live_limits.rs`).

use super::cluster::{BusMessage, Cluster};
use super::hub::RemoteConn;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use tandem_protocol::DeviceId;
use tandem_protocol::agent::AgentServerMessage;
use tokio::sync::mpsc;

/// Control messages queued per agent connection before it counts as stuck.
pub const AGENT_OUTBOX_DEPTH: usize = 32;
pub type AgentOutbox = mpsc::Sender<AgentServerMessage>;

#[derive(Debug, Default)]
struct Inner {
    online: HashMap<DeviceId, Vec<(u64, AgentOutbox)>>,
    /// Control sockets other replicas hold.
    elsewhere: HashMap<DeviceId, HashSet<RemoteConn>>,
}

/// The agents' in-memory registry. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    inner: Arc<Mutex<Inner>>,
    cluster: Cluster,
}

impl Agents {
    /// A registry that tells the other replicas of `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self {
            cluster,
            ..Self::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a control connection of `device`; returns its number.
    pub fn attach(&self, device: &DeviceId, outbox: AgentOutbox) -> u64 {
        let conn = self.cluster.next_conn();
        self.lock()
            .online
            .entry(device.clone())
            .or_default()
            .push((conn, outbox));
        self.cluster.publish(BusMessage::AgentOnline {
            device: device.clone(),
            conn,
        });
        conn
    }

    pub fn detach(&self, device: &DeviceId, conn: u64) {
        let mut inner = self.lock();
        if let Some(conns) = inner.online.get_mut(device) {
            conns.retain(|(c, _)| *c != conn);
            if conns.is_empty() {
                inner.online.remove(device);
            }
        }
        self.cluster.publish(BusMessage::AgentOffline {
            device: device.clone(),
            conn,
        });
    }

    /// An agent's control socket opened on another replica.
    pub fn remote_attach(&self, device: &DeviceId, conn: RemoteConn) {
        self.lock()
            .elsewhere
            .entry(device.clone())
            .or_default()
            .insert(conn);
    }

    /// That socket closed.
    pub fn remote_detach(&self, device: &DeviceId, conn: &RemoteConn) {
        let mut inner = self.lock();
        if let Some(conns) = inner.elsewhere.get_mut(device) {
            conns.remove(conn);
            if conns.is_empty() {
                inner.elsewhere.remove(device);
            }
        }
    }

    /// Forgets the sockets of a replica that died, or of every other
    /// replica (`None`, before reading them again).
    pub fn drop_remote(&self, replica: Option<&str>) {
        let mut inner = self.lock();
        inner.elsewhere.retain(|_, conns| {
            conns.retain(|(r, _)| replica.is_some_and(|gone| gone != r));
            !conns.is_empty()
        });
    }

    /// This replica's own control sockets.
    pub fn local_sockets(&self) -> Vec<(DeviceId, u64)> {
        self.lock()
            .online
            .iter()
            .flat_map(|(device, conns)| conns.iter().map(|(c, _)| (device.clone(), *c)))
            .collect()
    }

    /// Whether the agent of `device` is connected here or elsewhere.
    pub fn is_online(&self, device: &DeviceId) -> bool {
        let inner = self.lock();
        inner.online.contains_key(device) || inner.elsewhere.contains_key(device)
    }

    /// Queues a message for every control connection of `device`, and
    /// publishes it for the replicas holding others; returns how many took
    /// it (a socket elsewhere counts as taking it).
    pub fn send(&self, device: &DeviceId, message: &AgentServerMessage) -> usize {
        let mut inner = self.lock();
        let here = Self::deliver(&mut inner, device, message);
        let elsewhere = inner.elsewhere.get(device).map_or(0, HashSet::len);
        if elsewhere > 0 {
            self.cluster.publish(BusMessage::AgentDeliver {
                device: device.clone(),
                message: message.clone(),
            });
        }
        here + elsewhere
    }

    /// Queues a message for this replica's control connections of
    /// `device` only (another replica published it).
    pub fn send_here(&self, device: &DeviceId, message: &AgentServerMessage) -> usize {
        Self::deliver(&mut self.lock(), device, message)
    }

    fn deliver(inner: &mut Inner, device: &DeviceId, message: &AgentServerMessage) -> usize {
        let Some(conns) = inner.online.get_mut(device) else {
            return 0;
        };
        conns.retain(|(_, outbox)| outbox.try_send(message.clone()).is_ok());
        conns.len()
    }

    pub fn close_all(&self) {
        self.lock().online.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn online_while_a_connection_is_attached() {
        let agents = Agents::default();
        let d = DeviceId("d".into());
        let (tx, mut rx) = mpsc::channel(2);
        let conn = agents.attach(&d, tx);
        assert!(agents.is_online(&d));
        let ping = AgentServerMessage::Ping { nonce: 1 };
        assert_eq!(agents.send(&d, &ping), 1);
        assert_eq!(rx.recv().await, Some(ping));
        agents.detach(&d, conn);
        assert!(!agents.is_online(&d));
    }
}
