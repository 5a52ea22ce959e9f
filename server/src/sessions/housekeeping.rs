//! Housekeeping, every second: codes that ran out, participants who did
//! not come back in time (on the replica that leads), and grants to renew
//! (on the replica holding the media end's socket).

use super::Sessions;
use super::error::SessionResult;
use super::hub::Due;
use crate::auth::TenantScope;
use crate::domain::machine::{Event, State};
use tandem_protocol::session::Party;

impl Sessions {
    /// Housekeeping, run every second by the server (and by tests with a
    /// manual clock): expires codes, ends sessions whose participant did
    /// not come back in time, renews grants. Which sessions are due comes
    /// from memory (the hub); only those are read from the store, where
    /// the record decides.
    pub async fn sweep(&self) -> SessionResult<()> {
        let now = self.now();
        let timing = self.timing();
        let leads = self.cluster().is_leader();
        let due = self
            .hub()
            .due(now, timing.reconnect_millis, timing.grant_millis / 3, leads);
        for (id, tenant, what) in due {
            let scope = TenantScope::of_record(&tenant);
            let Some(record) = self.store().session(&scope, &id).await? else {
                continue;
            };
            self.count_housekeeping_read();
            // What was read is the truth: the hub follows it (an older state
            // it held is mended, an ended session's room dropped).
            if self.hub().follow_record(&record, now) {
                continue;
            }
            let expired = record.state == State::CodeIssued
                && record.code_expires_at.is_none_or(|at| now >= at);
            // The hub already found who is gone: no second scan per record.
            let dropped = what == Due::Disconnect;
            let event = if expired {
                Some(Event::Expire)
            } else if dropped && record.state.has_participants() {
                Some(Event::Disconnect)
            } else {
                None
            };
            match event {
                Some(event) => {
                    if let Err(error) = self.apply(&record, Party::System, None, event, None).await
                    {
                        tracing::warn!(%error, session = %record.id, "housekeeping transition failed");
                    }
                }
                None => self.send_grant_if_due(&record, now).await,
            }
        }
        Ok(())
    }
}
