//! What the session service adds to the session record beyond transitions:
//! the helper's ticket reference and tenant-local time.

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::store::UserRecord;
use tandem_protocol::session::{Party, SessionView};
use tandem_protocol::{SessionId, UnixMillis};

impl Sessions {
    /// The tenant-local start of something happening now.
    pub(super) async fn local_now(
        &self,
        scope: &TenantScope,
    ) -> SessionResult<(UnixMillis, crate::domain::local_time::LocalStart)> {
        let settings = self.store().settings(scope).await?;
        let now = self.now();
        let zone = crate::domain::local_time::zone(&settings.timezone);
        Ok((now, crate::domain::local_time::local_start(&zone, now)))
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
        self.view_for(&record, party).await
    }
}
