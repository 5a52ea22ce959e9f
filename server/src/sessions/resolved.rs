//! The helper's permissions on a session, resolved at most once for the
//! same parties (see `Sessions::permissions_once` in `policy.rs`).

use crate::store::SessionRecord;
use tandem_protocol::rbac::PermissionSet;
use tandem_protocol::{DeviceId, UserId};

/// Who a session's permissions are about: the helper, the sharer and the
/// device. The state does not matter to them.
type Parties = (UserId, Option<UserId>, Option<DeviceId>);

fn parties(record: &SessionRecord) -> Parties {
    (
        record.helper_id.clone(),
        record.sharer_id.clone(),
        record.device_id.clone(),
    )
}

/// The helper's permissions on a session, resolved at most once for the
/// same parties: one transition checks the request, records elevation,
/// builds every participant's view and signs the grant with one answer.
#[derive(Default)]
pub(crate) struct Resolved {
    cached: std::sync::Mutex<Option<(Parties, PermissionSet)>>,
}

impl Resolved {
    pub(super) fn get(&self, record: &SessionRecord) -> Option<PermissionSet> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(who, _)| *who == parties(record))
            .map(|(_, set)| *set)
    }

    pub(super) fn keep(&self, record: &SessionRecord, set: PermissionSet) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((parties(record), set));
    }
}
