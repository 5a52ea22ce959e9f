//! Time on the wire: milliseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Milliseconds elapsed from `earlier` to `self`; negative if `earlier`
    /// is in the future.
    pub fn millis_since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}
