//! The retention job: records older than their tenant's retention period
//! are deleted. Time comes from the clock, so tests move it.

use crate::clock::Clock;
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;

/// How often the job runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// One pass: deletes what has expired now; returns the records deleted.
pub async fn run_once(store: &Store, clock: &dyn Clock) -> StoreResult<u64> {
    let deleted = store.delete_expired_records(clock.now()).await?;
    if deleted > 0 {
        tracing::info!(deleted, "deleted session records past their retention");
    }
    Ok(deleted)
}

/// Runs [`run_once`] at start and then every [`EVERY`], for ever.
pub async fn run(store: Store, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        if let Err(error) = run_once(&store, clock.as_ref()).await {
            tracing::warn!(%error, "the retention job failed; it runs again later");
        }
    }
}
