//! The session service as one replica among others: what it tells the
//! bus (`cluster.rs`), and what it does when the bus tells it something.

use super::Sessions;
use super::resolved::Resolved;
use crate::store::SessionRecord;
use tandem_protocol::session::Party;

impl Sessions {
    /// Looks for replicas that died, and forgets their sockets.
    pub(super) async fn settle_replicas(&self) {
        if !self.cluster().is_shared() {
            return;
        }
        if let Err(error) = super::cluster_pg::settle(self).await {
            tracing::warn!(%error, "looking for dead replicas failed");
        }
    }

    /// Tells the other replicas that a session was created or changed.
    pub(super) fn announce(&self, record: &SessionRecord) {
        self.live_feed().notify(&record.tenant_id);
        self.cluster().publish(super::cluster::BusMessage::Changed {
            tenant: record.tenant_id.clone(),
            session: record.id.clone(),
            tracked: Some(super::cluster::Tracked::of(record)),
        });
    }

    /// Sends this replica's participants their view of the session (after
    /// another replica died: each replica tells its own).
    pub(super) async fn publish_here(&self, record: &SessionRecord) {
        for party in [Party::Helper, Party::Sharer, Party::Agent] {
            if let Some(message) = self
                .state_message(record, party, &Resolved::default())
                .await
            {
                self.hub().send_here(&record.id, party, &message);
            }
        }
    }
}
