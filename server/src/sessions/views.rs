//! A session as each participant sees it: identity cards (the helper's
//! abbreviated for the sharer when the tenant says so), the device with its
//! compliance, who is connected, and what the helper may ask for.

use super::error::SessionResult;
use super::resolved::Resolved;
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::store::{RecordFacts, SessionRecord};
use tandem_protocol::auth::UserCard;
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::rbac::Permission;
use tandem_protocol::session::{ControlUnavailable, IdentityCard, Party, Phase, SessionView};
use tandem_protocol::settings::{HelperNameDisplay, TenantSettings};
use tandem_protocol::{TenantId, UserId};

/// "Megan Bowen" → "Megan B."; a one-word name stays as it is.
pub fn abbreviate(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or_default();
    match words.last().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_owned(),
    }
}

fn full(card: UserCard) -> IdentityCard {
    IdentityCard {
        display_name: card.display_name,
        email: Some(card.email),
        job_title: card.job_title,
        company: card.company,
        verified_domain: card.verified_domain,
        photo_url: card.photo_url,
        abbreviated: false,
    }
}

fn short(card: UserCard) -> IdentityCard {
    IdentityCard {
        display_name: abbreviate(&card.display_name),
        email: None,
        job_title: None,
        company: None,
        verified_domain: card.verified_domain,
        photo_url: None,
        abbreviated: true,
    }
}

/// What every participant's view of one session is built from, read once
/// for all of them.
pub(super) struct ViewParts {
    settings: TenantSettings,
    helper: Option<UserCard>,
    sharer: Option<Option<UserCard>>,
    device: Option<DeviceSummary>,
    facts: RecordFacts,
}

/// A user's card, shortened when `abbreviated`; a user who is gone shows
/// as such.
fn card_of(user: Option<UserCard>, abbreviated: bool) -> IdentityCard {
    match user {
        Some(card) if abbreviated => short(card),
        Some(card) => full(card),
        None => IdentityCard {
            display_name: "(deleted user)".into(),
            email: None,
            job_title: None,
            company: None,
            verified_domain: None,
            photo_url: None,
            abbreviated: false,
        },
    }
}

impl Sessions {
    /// `id`'s card, shortened when `abbreviated`.
    pub(super) async fn card(
        &self,
        id: &UserId,
        tenant: &TenantId,
        abbreviated: bool,
    ) -> SessionResult<IdentityCard> {
        let user = self.store().user_for_session(id, tenant).await?;
        Ok(card_of(user.map(|u| u.card), abbreviated))
    }

    /// The session as `party` sees it.
    pub async fn view_for(
        &self,
        record: &SessionRecord,
        party: Party,
    ) -> SessionResult<SessionView> {
        self.view_with(record, party, &Resolved::default()).await
    }

    /// [`Self::view_for`] with the permissions this transition resolved.
    pub(super) async fn view_with(
        &self,
        record: &SessionRecord,
        party: Party,
        resolved: &Resolved,
    ) -> SessionResult<SessionView> {
        let parts = self.view_parts(record).await?;
        self.view_from(&parts, record, party, resolved).await
    }

    /// What the views of `record` are built from.
    pub(super) async fn view_parts(&self, record: &SessionRecord) -> SessionResult<ViewParts> {
        let scope = TenantScope::of_record(&record.tenant_id);
        let store = self.store();
        let (helper, sharer, facts) = store
            .session_view_reads(
                &record.tenant_id,
                &record.id,
                &record.helper_id,
                record.sharer_id.as_ref(),
            )
            .await?;
        Ok(ViewParts {
            settings: store.settings(&scope).await?,
            helper: helper.map(|u| u.card),
            sharer: record.sharer_id.as_ref().map(|_| sharer.map(|u| u.card)),
            device: match &record.device_id {
                Some(id) => store.device_summary(&scope, id).await?,
                None => None,
            },
            facts,
        })
    }

    /// The session as `party` sees it, from `parts`.
    pub(super) async fn view_from(
        &self,
        parts: &ViewParts,
        record: &SessionRecord,
        party: Party,
        resolved: &Resolved,
    ) -> SessionResult<SessionView> {
        let settings = &parts.settings;
        let abbreviated = matches!(party, Party::Sharer | Party::Agent)
            && settings.helper_name_display == HelperNameDisplay::Abbreviated;
        let helper = card_of(parts.helper.clone(), abbreviated);
        let sharer = parts.sharer.clone().map(|user| card_of(user, false));
        let device = parts.device.clone();
        let (phase, mode, requested) = record.state.summary();
        // What keeps the helper from asking for full control, if anything:
        // their roles, or a screen shared from a browser tab.
        let control_unavailable =
            if party == Party::Helper && record.sharer_id.is_some() && phase != Phase::Ended {
                if !self
                    .permissions_once(record, resolved)
                    .await?
                    .contains(Permission::TakeFullControl)
                {
                    Some(ControlUnavailable::NoPermission)
                } else if !record.via_agent {
                    Some(ControlUnavailable::NeedsAgent)
                } else {
                    None
                }
            } else {
                None
            };
        let may_request_control = party == Party::Helper
            && record.sharer_id.is_some()
            && phase != Phase::Ended
            && control_unavailable.is_none();
        let facts = &parts.facts;
        let code_expires_at = (party == Party::Helper && phase == Phase::WaitingForSharer)
            .then_some(record.code_expires_at)
            .flatten();
        Ok(SessionView {
            id: record.id.clone(),
            you: party,
            phase,
            mode,
            requested,
            helper,
            sharer,
            device,
            code_expires_at,
            may_request_control,
            control_unavailable,
            helper_connected: self.hub().connected(&record.id, Party::Helper),
            sharer_connected: self.hub().connected(&record.id, Party::Sharer),
            via_agent: record.via_agent,
            agent_connected: self.hub().connected(&record.id, Party::Agent),
            // Of the one this viewer waits for: the helper waits for the
            // device or the sharer's browser, they wait for the helper.
            reconnect_left_ms: self.hub().reconnect_left(
                &record.id,
                match party {
                    Party::Helper => super::media_party(record.via_agent),
                    _ => Party::Helper,
                },
                self.timing().reconnect_millis,
                self.now(),
            ),
            reconnects: record.reconnects,
            ended: match &record.state {
                crate::domain::machine::State::Ended { reason } => Some(reason.clone()),
                _ => None,
            },
            created_at: record.created_at,
            chat_enabled: settings.chat_enabled,
            clipboard_max_bytes: (party != Party::Sharer
                && record.via_agent
                && settings.clipboard_enabled)
                .then_some(settings.clipboard_max_bytes),
            clipboard_to_device: facts.clipboard_to_device,
            clipboard_from_device: facts.clipboard_from_device,
            file_max_bytes: (party != Party::Sharer
                && record.via_agent
                && settings.file_transfer_enabled)
                .then(|| settings.file_max_bytes()),
            annotation_enabled: settings.annotation_enabled,
            sign_out_after_elevation: party == Party::Agent && settings.sign_out_after_elevation,
            ticket: facts.ticket.clone().filter(|_| party == Party::Helper),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::abbreviate;

    #[test]
    fn names_abbreviate_to_first_name_and_last_initial() {
        assert_eq!(abbreviate("Megan Bowen"), "Megan B.");
        assert_eq!(abbreviate("  Anne  Marie Dupont "), "Anne D.");
        assert_eq!(abbreviate("Cher"), "Cher");
        assert_eq!(abbreviate(""), "");
    }
}
