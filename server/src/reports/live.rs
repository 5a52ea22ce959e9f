//! The live feed of the monitor page: every session change in a tenant
//! wakes its monitor streams, which then send the sessions not ended.

use tandem_protocol::TenantId;
use tokio::sync::broadcast;

/// Tells monitors that a tenant's sessions changed. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveFeed {
    changed: broadcast::Sender<TenantId>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        // A slow monitor that falls behind just refreshes (Lagged).
        let (changed, _) = broadcast::channel(256);
        Self { changed }
    }
}

impl LiveFeed {
    /// A session of `tenant` changed.
    pub fn notify(&self, tenant: &TenantId) {
        // No monitor open is not an error.
        let _ = self.changed.send(tenant.clone());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TenantId> {
        self.changed.subscribe()
    }
}

/// What a monitor stream waits for next.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Its tenant changed (or it fell behind): send a fresh list.
    Refresh,
    /// The server is stopping.
    Closed,
}

/// Waits until `tenant` changed, then lets further changes that arrive
/// within `settle` pass, so a burst of transitions sends one list.
pub async fn next_change(
    rx: &mut broadcast::Receiver<TenantId>,
    tenant: &TenantId,
    settle: std::time::Duration,
) -> Wake {
    loop {
        match rx.recv().await {
            Ok(changed) if &changed == tenant => break,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(_)) => break,
            Err(broadcast::error::RecvError::Closed) => return Wake::Closed,
        }
    }
    tokio::time::sleep(settle).await;
    while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
    Wake::Refresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_monitor_wakes_once_per_burst_of_its_own_tenant() {
        let feed = LiveFeed::default();
        let mut rx = feed.subscribe();
        let contoso = TenantId::from("contoso");
        feed.notify(&TenantId::from("fabrikam"));
        feed.notify(&contoso);
        feed.notify(&contoso);
        assert_eq!(
            next_change(&mut rx, &contoso, Duration::from_millis(1)).await,
            Wake::Refresh
        );
        // The burst was drained: nothing more is pending.
        let pending = tokio::time::timeout(
            Duration::from_millis(50),
            next_change(&mut rx, &contoso, Duration::ZERO),
        )
        .await;
        assert!(pending.is_err(), "woke without a change");
        feed.notify(&TenantId::from("fabrikam"));
        let other = tokio::time::timeout(
            Duration::from_millis(50),
            next_change(&mut rx, &contoso, Duration::ZERO),
        )
        .await;
        assert!(other.is_err(), "woke for another tenant");
        drop(feed);
        assert_eq!(
            next_change(&mut rx, &contoso, Duration::ZERO).await,
            Wake::Closed
        );
    }
}
