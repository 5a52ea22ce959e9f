//! Rate limits of the sessions layer, in the login throttle's terms.

use crate::auth::throttle::{Limit, Limits};

/// The code-redemption limits: wrong codes per sharer, attempts per client
/// address, attempts overall.
pub fn code_limits() -> Limits {
    const FIFTEEN_MINUTES: i64 = 15 * 60_000;
    Limits {
        failures_per_account: Limit {
            max: 5,
            window_millis: FIFTEEN_MINUTES,
        },
        attempts_per_address: Limit {
            max: 60,
            window_millis: FIFTEEN_MINUTES,
        },
        attempts_overall: Limit {
            max: 300,
            window_millis: 60_000,
        },
    }
}
