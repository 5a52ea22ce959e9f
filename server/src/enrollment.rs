//! Device administration: enrollment tokens. An administrator with Manage
//! devices makes one (shown once, stored as its hash); an agent that
//! registers with it is enrolled in the organization (`auth::device`).

use crate::auth::device::{DeviceError, check_field, random_token};
use crate::auth::{Authorized, ManageDevices};
use crate::store::Store;
use tandem_protocol::UnixMillis;
use tandem_protocol::agent::{EnrollmentToken, NewEnrollmentToken};

/// A new enrollment token, shown once.
pub async fn new_token(
    store: &Store,
    auth: &Authorized<ManageDevices>,
    request: &NewEnrollmentToken,
    now: UnixMillis,
) -> Result<EnrollmentToken, DeviceError> {
    check_field("label", &request.label)?;
    if !(1..=365).contains(&request.valid_days) {
        return Err(DeviceError::BadRequest(
            "valid_days must be 1 to 365".into(),
        ));
    }
    let expires_at = UnixMillis(now.0 + i64::from(request.valid_days) * 86_400_000);
    let (token, hash) = random_token();
    let id = store
        .create_enrollment_token(auth, request.label.trim(), &hash, expires_at, now)
        .await?;
    Ok(EnrollmentToken {
        id,
        token,
        label: request.label.trim().to_owned(),
        expires_at,
    })
}
