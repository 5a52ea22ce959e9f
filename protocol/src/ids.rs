//! Typed identifiers. They are opaque strings on the wire so that the
//! server is free to choose their format.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

id_type!(
    /// One organization. Nothing ever crosses tenants.
    TenantId
);
id_type!(
    /// A person in a tenant's directory: helper, sharer or admin.
    UserId
);
id_type!(
    /// A device known by its agent's registration.
    DeviceId
);
id_type!(
    /// A directory group (admin group or scope group).
    GroupId
);
id_type!(
    /// A role: built-in or custom.
    RoleId
);
id_type!(
    /// A role assignment.
    AssignmentId
);
id_type!(
    /// A remote-help session.
    SessionId
);
id_type!(
    /// An enrollment token (its id, never the secret).
    EnrollmentTokenId
);
