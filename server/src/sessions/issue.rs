//! Issuing a session: "Assist someone", or a start from a device page,
//! with a fresh security code whose hash alone is stored.

use super::code;
use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::domain::rbac::Membership;
use crate::store::{StoreError, UserRecord, to_hex};
use tandem_protocol::DeviceId;
use tandem_protocol::UnixMillis;
use tandem_protocol::rbac::Permission;
use tandem_protocol::session::{IssuedCode, Party};
use tandem_protocol::settings::MAX_CODE_LIFETIME_MINUTES;

impl Sessions {
    /// "Assist someone": a new session with a fresh security code.
    pub async fn issue(
        &self,
        helper: &UserRecord,
        scope: &TenantScope,
    ) -> SessionResult<IssuedCode> {
        if self.is_draining() {
            return Err(SessionError::Draining);
        }
        self.issue_for(helper, scope, None).await
    }

    /// A new session with a fresh code, bound to `device` when it is
    /// started from the device page.
    pub(super) async fn issue_for(
        &self,
        helper: &UserRecord,
        scope: &TenantScope,
        device: Option<&DeviceId>,
    ) -> SessionResult<IssuedCode> {
        let store = self.store();
        let settings = store.settings(scope).await?;
        if !settings.remote_help_enabled {
            return Err(SessionError::RemoteHelpDisabled);
        }
        let policy = store.policy(scope).await?;
        let membership: Membership = store.user_membership(scope, &helper.id).await?;
        if !policy
            .held_anywhere(&membership)
            .contains(Permission::ViewScreen)
        {
            return Err(SessionError::NoViewScreen);
        }
        let now = self.now();
        let local = crate::domain::local_time::local_start(
            &crate::domain::local_time::zone(&settings.timezone),
            now,
        );
        let minutes = settings
            .code_lifetime_minutes
            .clamp(1, MAX_CODE_LIFETIME_MINUTES);
        let lifetime = i64::from(minutes) * 60_000;
        let lifetime = self
            .timing()
            .code_lifetime_max_millis
            .map_or(lifetime, |max| lifetime.min(max));
        let expires = UnixMillis(now.0 + lifetime);
        // A collision among live codes is astronomically rare; try again.
        let mut last = None;
        for _ in 0..3 {
            let code = code::generate();
            let hash = code::hash(self.keys().code_key(), &code)
                .ok_or_else(|| StoreError::Corrupt {
                    table: "server_secrets",
                    reason: "code key refused".into(),
                })
                .map(|h| to_hex(&h))?;
            match store
                .create_session(scope, &helper.id, (&hash, expires), device, now, &local)
                .await
            {
                Ok(record) => {
                    self.announce(&record);
                    self.hub().track_record(&record, now, false);
                    let session = self.view_for(&record, Party::Helper).await?;
                    return Ok(IssuedCode { code, session });
                }
                Err(error @ StoreError::Duplicate { .. }) => last = Some(error),
                Err(error) => return Err(error.into()),
            }
        }
        Err(last
            .unwrap_or(StoreError::Duplicate {
                what: "security code",
            })
            .into())
    }
}
