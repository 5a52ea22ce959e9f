//! What the session service adds to the session record beyond transitions:
//! the helper's ticket reference, code failures, and tenant-local time.

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::store::{CodeFailure, UserRecord};
use tandem_protocol::session::{Party, SessionView};
use tandem_protocol::{SessionId, UnixMillis};

impl Sessions {
    /// The tenant-local start of something happening now.
    pub(super) async fn local_now(
        &self,
        scope: &TenantScope,
    ) -> SessionResult<(UnixMillis, crate::reports::local::LocalStart)> {
        let settings = self.store().settings(scope).await?;
        let now = self.now();
        let zone = crate::reports::local::zone(&settings.timezone);
        Ok((now, crate::reports::local::local_start(&zone, now)))
    }

    /// The helper sets (or clears) the session's ticket reference; it is
    /// kept with the session record, also after the session ended.
    pub async fn set_ticket(
        &self,
        user: &UserRecord,
        scope: &TenantScope,
        id: &SessionId,
        update: &tandem_protocol::reports::TicketUpdate,
    ) -> SessionResult<SessionView> {
        let (record, party) = self.participant(user, scope, id).await?;
        if party != Party::Helper {
            return Err(SessionError::HelperOnly);
        }
        let ticket = update.normalized().map_err(SessionError::Invalid)?;
        if !self
            .store()
            .set_ticket(scope, id, ticket.as_deref())
            .await?
        {
            return Err(SessionError::NotFound);
        }
        self.live_feed().notify(&record.tenant_id);
        self.view_for(&record, party).await
    }

    /// Keeps the fact that `sharer` entered a code that did not work (for
    /// "repeated code failures"); the code itself is never kept.
    pub(super) async fn record_code_failure(&self, sharer: &UserRecord, kind: CodeFailure) {
        let scope = TenantScope::of_record(&sharer.tenant_id);
        let written = match self.local_now(&scope).await {
            Ok((now, local)) => self
                .store()
                .record_code_failure(&sharer.tenant_id, &sharer.id, kind, now, &local.day)
                .await
                .map_err(SessionError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            tracing::warn!(%error, "recording a code failure failed");
        }
    }
}
