//! Sessions stopped from outside, and elevation reported by the agent.
//!
//! - An administrator ends one live session from the monitor ("End
//!   session"), or turns remote help off, which ends every live session of
//!   the tenant at once. Each is a system transition with the
//!   administrator kept in the record as who ended it; both participants
//!   see why.
//! - The agent says when the helper's input actually reached an elevation
//!   prompt: only then is "elevation used" recorded.

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::{Authorized, ManageSettings, TenantScope};
use crate::domain::machine::{Event, State};
use tandem_protocol::SessionId;
use tandem_protocol::rbac::Permission;
use tandem_protocol::session::{Mode, Party, StopCause};

impl Sessions {
    /// "End session" on the monitor: ends one live session of the
    /// administrator's tenant.
    pub async fn stop(
        &self,
        auth: &Authorized<ManageSettings>,
        id: &SessionId,
    ) -> SessionResult<()> {
        let record = self
            .store()
            .session(auth.scope(), id)
            .await?
            .ok_or(SessionError::NotFound)?;
        let event = Event::Stop {
            cause: StopCause::EndedByAdmin,
        };
        self.apply(&record, Party::System, Some(&auth.actor().id), event, None)
            .await?;
        tracing::info!(session = %id, admin = %auth.actor().id, "an administrator ended a session");
        Ok(())
    }

    /// Remote help was just turned off: every live session of the tenant
    /// ends now. Returns how many ended.
    pub async fn stop_all(&self, auth: &Authorized<ManageSettings>) -> SessionResult<usize> {
        let mut ended = 0;
        let mut first_error = None;
        for record in self.store().live_sessions_of_tenant(auth.scope()).await? {
            let event = Event::Stop {
                cause: StopCause::RemoteHelpTurnedOff,
            };
            match self
                .apply(&record, Party::System, Some(&auth.actor().id), event, None)
                .await
            {
                Ok(_) => ended += 1,
                // It ended by itself in the meantime.
                Err(SessionError::NotNow(_)) => {}
                // One that failed must not leave the others running.
                Err(error) => {
                    tracing::warn!(%error, session = %record.id, "could not end a session");
                    first_error.get_or_insert(error);
                }
            }
        }
        tracing::info!(ended, admin = %auth.actor().id, "remote help turned off; live sessions ended");
        match first_error {
            Some(error) => Err(error),
            None => Ok(ended),
        }
    }

    /// The device's agent says the helper's input reached an elevation
    /// prompt. Recorded once, and only when it can be true: full control
    /// through the agent by a helper who holds Elevation for this sharer.
    /// Anything else is refused and changes nothing.
    pub(super) async fn elevation_used(
        &self,
        scope: &TenantScope,
        id: &SessionId,
    ) -> SessionResult<bool> {
        let record = self
            .store()
            .session(scope, id)
            .await?
            .ok_or(SessionError::NotFound)?;
        if record.state
            != (State::Active {
                mode: Mode::Control,
            })
            || !record.via_agent
            || !self
                .permissions_on(&record)
                .await?
                .contains(Permission::Elevation)
        {
            return Ok(false);
        }
        if self.store().elevation_recorded(&record.id).await? {
            return Ok(true);
        }
        self.apply(&record, Party::Agent, None, Event::ElevationUsed, None)
            .await?;
        Ok(true)
    }
}
