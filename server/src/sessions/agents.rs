//! Connected agents and pairing links. In
//! memory only: an agent reconnects after a restart, and a pairing link is
//! short-lived by design.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tandem_protocol::agent::AgentServerMessage;
use tandem_protocol::{DeviceId, SessionId, UnixMillis};
use tokio::sync::mpsc;

/// Control messages queued per agent connection before it counts as stuck.
pub const AGENT_OUTBOX_DEPTH: usize = 32;
/// Pairing links outstanding at most, overall (oldest go first).
/// Live pairing links kept at once, over all devices.
const MAX_PAIRINGS: usize = 10_000;
/// Live pairing links one device may hold: a new one replaces its oldest,
/// so one device asking over and over cannot push out anyone else's.
pub const MAX_PAIRINGS_PER_DEVICE: usize = 3;
pub type AgentOutbox = mpsc::Sender<AgentServerMessage>;

/// What a pairing link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub device: DeviceId,
    pub session: Option<SessionId>,
    pub expires_at: UnixMillis,
}

#[derive(Debug, Default)]
struct Inner {
    online: HashMap<DeviceId, Vec<(u64, AgentOutbox)>>,
    /// Keyed by the SHA-256 (hex) of the nonce.
    pairings: HashMap<String, Pairing>,
}

/// The agents' in-memory registry. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    inner: Arc<Mutex<Inner>>,
    next_conn: Arc<AtomicU64>,
}

impl Agents {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a control connection of `device`; returns its number.
    pub fn attach(&self, device: &DeviceId, outbox: AgentOutbox) -> u64 {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .online
            .entry(device.clone())
            .or_default()
            .push((conn, outbox));
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
    }

    pub fn is_online(&self, device: &DeviceId) -> bool {
        self.lock().online.contains_key(device)
    }

    /// Queues a message for every control connection of `device`; returns
    /// how many took it.
    pub fn send(&self, device: &DeviceId, message: &AgentServerMessage) -> usize {
        let mut inner = self.lock();
        let Some(conns) = inner.online.get_mut(device) else {
            return 0;
        };
        conns.retain(|(_, outbox)| outbox.try_send(message.clone()).is_ok());
        conns.len()
    }

    /// Remembers a pairing link under the hash of its nonce.
    pub fn add_pairing(&self, nonce_hash: String, pairing: Pairing, now: UnixMillis) {
        let mut inner = self.lock();
        inner.pairings.retain(|_, p| p.expires_at > now);
        let oldest_of = |pairings: &HashMap<String, Pairing>, device: Option<&DeviceId>| {
            pairings
                .iter()
                .filter(|(_, p)| device.is_none_or(|d| &p.device == d))
                .min_by_key(|(_, p)| p.expires_at)
                .map(|(k, _)| k.clone())
        };
        let of_device = inner
            .pairings
            .values()
            .filter(|p| p.device == pairing.device)
            .count();
        let evict = if of_device >= MAX_PAIRINGS_PER_DEVICE {
            oldest_of(&inner.pairings, Some(&pairing.device))
        } else if inner.pairings.len() >= MAX_PAIRINGS {
            oldest_of(&inner.pairings, None)
        } else {
            None
        };
        if let Some(key) = evict {
            inner.pairings.remove(&key);
        }
        inner.pairings.insert(nonce_hash, pairing);
    }

    /// Live pairing links of `device` (for tests and the limits table).
    pub fn pairings_of(&self, device: &DeviceId, now: UnixMillis) -> usize {
        self.lock()
            .pairings
            .values()
            .filter(|p| &p.device == device && p.expires_at > now)
            .count()
    }

    pub fn peek_pairing(&self, nonce_hash: &str, now: UnixMillis) -> Option<Pairing> {
        self.lock()
            .pairings
            .get(nonce_hash)
            .filter(|p| p.expires_at > now)
            .cloned()
    }

    pub fn take_pairing(&self, nonce_hash: &str, now: UnixMillis) -> Option<Pairing> {
        self.lock()
            .pairings
            .remove(nonce_hash)
            .filter(|p| p.expires_at > now)
    }

    pub fn close_all(&self) {
        self.lock().online.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairings_work_once_and_expire() {
        let agents = Agents::default();
        let pairing = Pairing {
            device: DeviceId("d".into()),
            session: None,
            expires_at: UnixMillis(100),
        };
        agents.add_pairing("h1".into(), pairing.clone(), UnixMillis(0));
        agents.add_pairing("h2".into(), pairing.clone(), UnixMillis(0));
        assert_eq!(agents.take_pairing("h1", UnixMillis(50)), Some(pairing));
        assert_eq!(agents.take_pairing("h1", UnixMillis(50)), None, "used");
        assert_eq!(agents.take_pairing("h2", UnixMillis(100)), None, "expired");
    }

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

    #[test]
    fn one_device_holds_a_bounded_number_of_pairings() {
        let agents = Agents::default();
        let (d, other) = (DeviceId("d".into()), DeviceId("e".into()));
        // Pairing links: a device asking again and again replaces its own
        // oldest link and never pushes out another device's.
        let link = |device: &DeviceId| Pairing {
            device: device.clone(),
            session: None,
            expires_at: UnixMillis(600_000),
        };
        agents.add_pairing("theirs".into(), link(&other), UnixMillis(0));
        for i in 0..1000 {
            agents.add_pairing(format!("mine{i}"), link(&d), UnixMillis(1));
        }
        assert_eq!(
            agents.pairings_of(&d, UnixMillis(2)),
            MAX_PAIRINGS_PER_DEVICE
        );
        assert!(agents.peek_pairing("theirs", UnixMillis(2)).is_some());
        assert!(agents.peek_pairing("mine999", UnixMillis(2)).is_some());
    }
}
