//! Rate limits of the sessions layer, in the login throttle's terms.

use crate::auth::throttle::Limits;

/// The code-redemption limits: wrong codes per sharer, attempts per client
/// address, attempts overall.
pub fn code_limits() -> Limits {
    Limits::per_quarter_hour(5, 60, 300)
}
