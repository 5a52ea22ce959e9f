//! Redemption: the sharer enters a code. Limits first, then the code, then
//! the policy checks; a wrong, expired or used code is kept as a fact for
//! the unusual-pattern review (never the code).

use super::code;
use super::error::{SessionError, SessionResult};
use super::resolved::Resolved;
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::auth::throttle::ClientAddress;
use crate::domain::machine::{Event, State};
use crate::store::{CodeFailure, UserRecord, from_hex, to_hex};
use tandem_protocol::DeviceId;
use tandem_protocol::session::{Party, SessionView};

impl Sessions {
    /// The sharer enters a code. Limits first, then the code, then the
    /// policy checks; a refusal is recorded and shown to the helper too.
    pub async fn redeem(
        &self,
        sharer: &UserRecord,
        input: &str,
        device: Option<&DeviceId>,
        address: &ClientAddress,
    ) -> SessionResult<SessionView> {
        let throttle = self.code_throttle();
        // The overall limit is the sharer's tenant's: another tenant's
        // flood never locks this one out, and a valid code still works
        // when this tenant's bucket is full.
        let admission = throttle
            .attempt_in(
                &sharer.id.0,
                address,
                &format!("tenant:{}", sharer.tenant_id),
            )
            .await?
            .map_err(SessionError::CodeLocked)?;
        let result = self.redeem_checked(sharer, input, device).await;
        // Only a wrong guess keeps counting against the sharer.
        if !matches!(result, Err(SessionError::WrongCode)) {
            throttle.succeeded(&sharer.id.0).await;
        }
        let failure = match &result {
            Err(SessionError::WrongCode) => Some(CodeFailure::Wrong),
            Err(SessionError::CodeExpired) => Some(CodeFailure::Expired),
            Err(SessionError::CodeUsed) => Some(CodeFailure::Used),
            _ => None,
        };
        if let Some(kind) = failure {
            self.record_code_failure(sharer, kind).await;
        }
        match (result, admission.wrong_answer()) {
            (Err(SessionError::WrongCode), Some(wait)) => Err(SessionError::CodeLocked(wait)),
            (result, _) => result,
        }
    }

    async fn redeem_checked(
        &self,
        sharer: &UserRecord,
        input: &str,
        device: Option<&DeviceId>,
    ) -> SessionResult<SessionView> {
        let wrong = || SessionError::WrongCode;
        let Some(normalized) = code::normalize(input) else {
            return Err(wrong());
        };
        let key = self.keys().code_key();
        let hash = code::hash(key, &normalized).map(|h| to_hex(&h));
        let Some(hash) = hash else {
            return Err(wrong());
        };
        let Some(record) = self.store().session_by_code_hash(&hash).await? else {
            return Err(wrong());
        };
        // The lookup matched on the keyed hash; compare once more in
        // constant time against what is stored.
        let stored = record
            .code_hash
            .as_deref()
            .and_then(from_hex)
            .unwrap_or_default();
        if !code::matches(key, &normalized, &stored) {
            return Err(wrong());
        }
        // A code of another organization's helper looks exactly like a
        // wrong one to whoever typed it (it counts against their limit, and
        // tells an outsider nothing), leaves that session as it is, and is
        // recorded for the organization that owns it.
        if record.tenant_id != sharer.tenant_id {
            self.record_foreign_code(&record).await;
            return Err(wrong());
        }
        if record.helper_id == sharer.id {
            return Err(SessionError::OwnCode);
        }
        let now = self.now();
        if record.state != State::CodeIssued {
            use tandem_protocol::session::{EndReason, StopCause};
            return Err(match &record.state {
                State::Ended {
                    reason: EndReason::Expired,
                } => SessionError::CodeExpired,
                State::Ended {
                    reason:
                        EndReason::Stopped {
                            cause: StopCause::RemoteHelpTurnedOff,
                        },
                } => SessionError::RemoteHelpDisabled,
                State::Ended {
                    reason:
                        EndReason::Stopped {
                            cause: StopCause::EndedByAdmin,
                        },
                } => SessionError::CodeWithdrawn,
                _ => SessionError::CodeUsed,
            });
        }
        if record.code_expires_at.is_none_or(|at| now >= at) {
            self.apply(&record, Party::System, None, Event::Expire, None)
                .await?;
            return Err(SessionError::CodeExpired);
        }
        // The sharer's browser says which paired device shares the screen;
        // a device-page session is already bound to its device.
        let device = self.device_for_redemption(&record, sharer, device).await?;
        let was_bound = record.device_id.is_some();
        let mut candidate = record.clone();
        if let Some(device) = &device {
            candidate.device_id = Some(device.clone());
        }
        if let Some(reason) = self.refusal(&candidate, sharer).await? {
            // A sharer of another tenant is not named in this tenant's record.
            let named = (sharer.tenant_id == record.tenant_id).then_some(&sharer.id);
            let event = Event::Refuse { reason };
            self.apply(&record, Party::System, None, event, named)
                .await?;
            return Err(SessionError::Refused(reason));
        }
        let resolved = Resolved::default();
        let record = self
            .apply_bound(
                &record,
                (Party::Sharer, Some(&sharer.id)),
                Event::Redeem,
                Some(&sharer.id),
                device.as_ref(),
                &resolved,
            )
            .await?;
        // A device-page session told its agent when it was made; a code
        // session is bound to the device only now.
        if let (false, Some(device)) = (was_bound, &record.device_id) {
            self.bind_agent(device, &record.id);
        }
        self.view_with(&record, Party::Sharer, &resolved).await
    }

    /// Keeps, for the tenant that owns `record`, the fact that someone of
    /// another organization entered its code (never who, never the code).
    async fn record_foreign_code(&self, record: &crate::store::SessionRecord) {
        let scope = TenantScope::of_record(&record.tenant_id);
        let written = match self.local_now(&scope).await {
            Ok((now, local)) => self
                .store()
                .record_foreign_code(&record.tenant_id, now, &local.day)
                .await
                .map_err(SessionError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            tracing::warn!(%error, "recording a foreign code attempt failed");
        }
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
