//! Who an authenticated caller is. A [`Principal`] is made only here, from
//! a checked password, a verified ID token (`oidc`), or a web session
//! record that is still within the [`SessionPolicy`]; the tenant scope and
//! every proof derived from it start from one.

use super::throttle::{ClientAddress, LoginThrottle};
use super::{AuthError, PasswordError, PasswordHasher, TenantScope};
use crate::store::{Store, StoreError, UserRecord};
use tandem_protocol::{TenantId, UnixMillis, UserId};

/// An authenticated user. Its field is private: only `auth` mints one.
#[derive(Debug, Clone)]
pub struct Principal {
    user: UserRecord,
}

impl Principal {
    pub(super) fn new(user: UserRecord) -> Self {
        Self { user }
    }

    pub fn user(&self) -> &UserRecord {
        &self.user
    }

    /// The key to the principal's own tenant.
    pub fn tenant_scope(&self) -> TenantScope {
        TenantScope::new(self.user.tenant_id.clone())
    }
}

/// How long web sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_millis: i64,
    pub absolute_millis: i64,
}

impl SessionPolicy {
    pub fn from_minutes(idle: u32, absolute: u32) -> Self {
        Self {
            idle_millis: i64::from(idle) * 60_000,
            absolute_millis: i64::from(absolute) * 60_000,
        }
    }

    /// Whether a session signed in at `signed_in_at` and last active at
    /// `last_seen_at` is over the idle or the absolute limit at `now`.
    pub fn expired(
        &self,
        signed_in_at: UnixMillis,
        last_seen_at: UnixMillis,
        now: UnixMillis,
    ) -> bool {
        now.millis_since(last_seen_at) > self.idle_millis
            || now.millis_since(signed_in_at) > self.absolute_millis
    }
}

/// The principal of a web session that is within its policy: `None` when
/// the account was removed since sign-in.
pub async fn resume(
    store: &Store,
    user_id: &UserId,
    tenant_id: &TenantId,
) -> Result<Option<Principal>, StoreError> {
    Ok(store
        .user_for_session(user_id, tenant_id)
        .await?
        .map(Principal::new))
}

/// Checks an e-mail and password under the sign-in throttle.
pub async fn sign_in_with_password(
    store: &Store,
    throttle: &LoginThrottle,
    hasher: &PasswordHasher,
    address: &ClientAddress,
    email: &str,
    password: String,
) -> Result<Principal, AuthError> {
    let user = store.user_by_email_for_sign_in(email).await?;
    // The overall limit is per tenant (and one for unknown accounts): a
    // flood in one never locks another out, and a full bucket still lets
    // right passwords in.
    let bucket = user.as_ref().map_or_else(
        || "unknown".to_owned(),
        |u| format!("tenant:{}", u.tenant_id),
    );
    let admission = throttle
        .attempt_in(email, address, &bucket)
        .await?
        .map_err(AuthError::TooManyAttempts)?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = match hasher.verify(password, stored).await {
        Ok(ok) => ok,
        Err(PasswordError::Busy) => {
            // Not a wrong guess: the server was too busy to check it, so
            // it does not count against the account.
            throttle.succeeded(email).await;
            return Err(AuthError::Busy(hasher.limits().wait.as_secs().max(1)));
        }
        Err(e) => return Err(AuthError::Password(e)),
    };
    let known = user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        // A full tenant bucket refuses wrong passwords at once. Unknown
        // e-mails are never right, so their bucket refuses nothing more: a
        // 429 there would tell a prober which e-mails have no account.
        if let (true, Some(wait)) = (known, admission.wrong_answer()) {
            return Err(AuthError::TooManyAttempts(wait));
        }
        tracing::info!(email = %tandem_protocol::text::printable(email.trim()), address = %address.0, "sign-in refused");
        return Err(AuthError::BadCredentials);
    };
    throttle.succeeded(email).await;
    Ok(Principal::new(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_limits_each_expire_a_session() {
        let policy = SessionPolicy::from_minutes(30, 600);
        let minute = 60_000;
        let at = UnixMillis;
        assert!(!policy.expired(at(0), at(0), at(30 * minute)));
        assert!(policy.expired(at(0), at(0), at(30 * minute + 1)));
        // Active all along, but past the absolute limit.
        let busy = at(600 * minute);
        assert!(!policy.expired(at(0), busy, at(600 * minute)));
        assert!(policy.expired(at(0), busy, at(600 * minute + 1)));
    }
}
