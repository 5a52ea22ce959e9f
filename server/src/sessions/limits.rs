//! Rate limits of the sessions layer, in the login throttle's terms.

use crate::auth::throttle::Limits;

/// Code redemptions a tenant's people may try per minute by default.
pub const DEFAULT_CODE_REDEMPTIONS_PER_MINUTE: u32 = 300;

/// The code-redemption limits: wrong codes per sharer, attempts per client
/// address, and `per_minute` attempts per tenant.
pub fn code_limits(per_minute: u32) -> Limits {
    Limits::per_quarter_hour(5, 60, per_minute.max(1))
}
