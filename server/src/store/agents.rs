//! Agents: device keys, enrollment tokens and pairing.
//!
//! A device key names a device before the device has a tenant: an
//! unenrolled agent registers without one, and its device row is made in
//! the tenant of the first sharer who pairs with it. After that the device
//! never changes tenant.

use super::audit::{AuditEntry, record};
use super::{RbacChangeError, Store, StoreError, StoreResult, flag};
use crate::auth::{Authorized, ManageDevices, TenantScope};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tandem_protocol::agent::EnrollmentTokenRow;
use tandem_protocol::devices::Compliance;
use tandem_protocol::{DeviceId, EnrollmentTokenId, TenantId, UnixMillis, UserId};

/// A registered agent key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKeyRecord {
    pub device_id: DeviceId,
    pub public_key: String,
    pub tenant_id: Option<TenantId>,
    pub enrolled: bool,
    pub name: String,
    pub agent_version: String,
    pub signed_in_user_id: Option<UserId>,
}

/// What an agent tells about its device.
#[derive(Debug, Clone)]
pub struct AgentDevice<'a> {
    pub public_key: &'a str,
    pub name: &'a str,
    pub os: &'a str,
    pub os_version: &'a str,
    pub agent_version: &'a str,
}

/// Why a pairing was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairRefusal {
    UnknownDevice,
    OtherTenant,
}

const KEY_COLUMNS: &str =
    "device_id, public_key, tenant_id, enrolled, name, agent_version, signed_in_user_id";

fn key_from_row(row: &AnyRow) -> StoreResult<DeviceKeyRecord> {
    Ok(DeviceKeyRecord {
        device_id: DeviceId(row.try_get("device_id")?),
        public_key: row.try_get("public_key")?,
        tenant_id: row.try_get::<Option<String>, _>("tenant_id")?.map(TenantId),
        enrolled: flag(row.try_get("enrolled")?),
        name: row.try_get("name")?,
        agent_version: row.try_get("agent_version")?,
        signed_in_user_id: row
            .try_get::<Option<String>, _>("signed_in_user_id")?
            .map(UserId),
    })
}

/// What the audit log keeps of an enrollment token (never the token).
#[derive(Serialize)]
struct TokenAudit<'a> {
    label: &'a str,
    expires_at: UnixMillis,
    revoked: bool,
}

const TOKEN_SELECT: &str = "SELECT t.id, t.label, t.created_at, t.expires_at, t.revoked_at, \
     t.uses, t.last_used_at, u.display_name AS created_by FROM enrollment_tokens t \
     LEFT JOIN users u ON u.id = t.created_by";

fn token_from_row(row: &AnyRow) -> StoreResult<EnrollmentTokenRow> {
    Ok(EnrollmentTokenRow {
        id: EnrollmentTokenId(row.try_get("id")?),
        label: row.try_get("label")?,
        created_at: UnixMillis(row.try_get("created_at")?),
        expires_at: UnixMillis(row.try_get("expires_at")?),
        revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
        created_by: row.try_get("created_by")?,
        uses: u64::try_from(row.try_get::<i64, _>("uses")?).unwrap_or(0),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(UnixMillis),
    })
}

impl Store {
    /// Creates an enrollment token for the caller's tenant; only its hash
    /// is kept. Audited (label and expiry, never the token) in the same
    /// transaction.
    pub async fn create_enrollment_token(
        &self,
        auth: &Authorized<ManageDevices>,
        label: &str,
        token_hash: &str,
        expires_at: UnixMillis,
        now: UnixMillis,
    ) -> StoreResult<EnrollmentTokenId> {
        let id = uuid::Uuid::new_v4().to_string();
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO enrollment_tokens (id, tenant_id, token_hash, label, created_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .bind(token_hash)
        .bind(label)
        .bind(auth.actor().id.0.as_str())
        .bind(now.0)
        .bind(expires_at.0)
        .execute(&mut *tx)
        .await?;
        let after = TokenAudit {
            label,
            expires_at,
            revoked: false,
        };
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry::<(), _> {
                action: "enrollment_token.create",
                object_type: "enrollment_token",
                object_id: &id,
                before: None,
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(EnrollmentTokenId(id))
    }

    /// The tenant's enrollment tokens, newest first.
    pub async fn enrollment_tokens(
        &self,
        auth: &Authorized<ManageDevices>,
    ) -> StoreResult<Vec<EnrollmentTokenRow>> {
        let rows = sqlx::query(&format!(
            "{TOKEN_SELECT} WHERE t.tenant_id = $1 ORDER BY t.created_at DESC, t.id"
        ))
        .bind(auth.scope().tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes one of the tenant's enrollment tokens: no agent can register
    /// with it any more. Revoking a revoked token changes nothing; another
    /// tenant's token is not found.
    pub async fn revoke_enrollment_token(
        &self,
        auth: &Authorized<ManageDevices>,
        id: &EnrollmentTokenId,
        now: UnixMillis,
    ) -> Result<EnrollmentTokenRow, RbacChangeError> {
        let id = id.0.as_str();
        let tenant = auth.scope().tenant_id().0.as_str();
        let (_gate, mut tx) = self.begin_write().await?;
        let before = sqlx::query(&format!(
            "{TOKEN_SELECT} WHERE t.id = $1 AND t.tenant_id = $2"
        ))
        .bind(id)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()?
        .ok_or(RbacChangeError::NotFound)?;
        if before.revoked {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE enrollment_tokens SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now.0)
        .bind(id)
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
        let audit = |revoked| TokenAudit {
            label: &before.label,
            expires_at: before.expires_at,
            revoked,
        };
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry {
                action: "enrollment_token.revoke",
                object_type: "enrollment_token",
                object_id: id,
                before: Some(&audit(false)),
                after: Some(&audit(true)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(EnrollmentTokenRow {
            revoked: true,
            ..before
        })
    }

    /// The tenant a live token enrolls into. Registration only: the token
    /// itself names the tenant.
    pub(crate) async fn tenant_of_enrollment_token(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<TenantId>> {
        let tenant: Option<String> = sqlx::query_scalar(
            "SELECT tenant_id FROM enrollment_tokens WHERE token_hash = $1 \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(tenant.map(TenantId))
    }

    /// Counts a use of the token: a device it enrolled just now (a device
    /// already known, registering again, is no use of it).
    pub(crate) async fn count_enrollment_use(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE enrollment_tokens SET uses = uses + 1, last_used_at = $1 \
             WHERE token_hash = $2",
        )
        .bind(now.0)
        .bind(token_hash)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Registers an agent key, or returns the device it already names.
    /// With a tenant (enrolled) the device row is made at once.
    pub async fn register_agent(
        &self,
        device: &AgentDevice<'_>,
        tenant: Option<&TenantId>,
        now: UnixMillis,
    ) -> StoreResult<DeviceKeyRecord> {
        if let Some(existing) = self.device_key_by_public_key(device.public_key).await? {
            sqlx::query("UPDATE device_keys SET agent_version = $1 WHERE device_id = $2")
                .bind(device.agent_version)
                .bind(existing.device_id.0.as_str())
                .execute(self.pool())
                .await?;
            return Ok(existing);
        }
        let id = DeviceId(uuid::Uuid::new_v4().to_string());
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO device_keys (device_id, public_key, tenant_id, enrolled, name, os, \
             os_version, agent_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.0.as_str())
        .bind(device.public_key)
        .bind(tenant.map(|t| t.0.clone()))
        .bind(i64::from(tenant.is_some()))
        .bind(device.name)
        .bind(device.os)
        .bind(device.os_version)
        .bind(device.agent_version)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| super::unique_violation(e, "device key"))?;
        if let Some(tenant) = tenant {
            insert_device_row(&mut tx, &id, tenant, device, true, None, now).await?;
        }
        tx.commit().await?;
        self.device_key(&id).await?.ok_or(StoreError::Corrupt {
            table: "device_keys",
            reason: "a registered key vanished".into(),
        })
    }

    pub(crate) async fn device_key_by_public_key(
        &self,
        key: &str,
    ) -> StoreResult<Option<DeviceKeyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM device_keys WHERE public_key = $1"
        ))
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// A registered agent key by device id, in any tenant: device
    /// authentication looks the key up before any tenant is known.
    pub(crate) async fn device_key(&self, id: &DeviceId) -> StoreResult<Option<DeviceKeyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM device_keys WHERE device_id = $1"
        ))
        .bind(id.0.as_str())
        .fetch_optional(self.conn().await?.connection()?)
        .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// Binds `user` as the sharer signed in on the device. An unenrolled
    /// device without a tenant joins the user's tenant (and gets its
    /// device row, non-compliant, with the user as primary user).
    /// What a pairing would pair with: the device as its agent described
    /// it, whether it is enrolled, and its tenant (none until its first
    /// sharer pairs).
    pub async fn device_preview(
        &self,
        device: &DeviceId,
    ) -> StoreResult<Option<(tandem_protocol::agent::PairingPreview, Option<TenantId>)>> {
        let row = sqlx::query(
            "SELECT tenant_id, name, os, os_version, enrolled FROM device_keys WHERE device_id = $1",
        )
        .bind(device.0.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            tandem_protocol::agent::PairingPreview {
                device_name: row.try_get("name")?,
                os: row.try_get("os")?,
                os_version: row.try_get("os_version")?,
                enrolled: flag(row.try_get("enrolled")?),
            },
            row.try_get::<Option<String>, _>("tenant_id")?.map(TenantId),
        )))
    }

    /// Pairs `actor`'s browser with `device` (its tenant's, or the
    /// actor's tenant for an unenrolled device not yet in one), recorded
    /// in the tenant's audit log in the same transaction.
    pub(crate) async fn pair_device(
        &self,
        device: &DeviceId,
        actor: &crate::auth::Actor,
        user_tenant: &TenantId,
        now: UnixMillis,
    ) -> StoreResult<Result<DeviceKeyRecord, PairRefusal>> {
        let user = &actor.id;
        let (_gate, mut tx) = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT tenant_id, name, os, os_version, agent_version FROM device_keys \
             WHERE device_id = $1",
        )
        .bind(device.0.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(PairRefusal::UnknownDevice));
        };
        match row.try_get::<Option<String>, _>("tenant_id")? {
            Some(tenant) if tenant != user_tenant.0 => return Ok(Err(PairRefusal::OtherTenant)),
            Some(_) => {}
            None => {
                let (name, os, os_version, version): (String, String, String, String) = (
                    row.try_get("name")?,
                    row.try_get("os")?,
                    row.try_get("os_version")?,
                    row.try_get("agent_version")?,
                );
                let info = AgentDevice {
                    public_key: "",
                    name: &name,
                    os: &os,
                    os_version: &os_version,
                    agent_version: &version,
                };
                insert_device_row(&mut tx, device, user_tenant, &info, false, Some(user), now)
                    .await?;
                sqlx::query("UPDATE device_keys SET tenant_id = $1 WHERE device_id = $2")
                    .bind(user_tenant.0.as_str())
                    .bind(device.0.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE device_keys SET signed_in_user_id = $1 WHERE device_id = $2")
            .bind(user.0.as_str())
            .bind(device.0.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE devices SET primary_user_id = COALESCE(primary_user_id, $1) WHERE id = $2",
        )
        .bind(user.0.as_str())
        .bind(device.0.as_str())
        .execute(&mut *tx)
        .await?;
        let described: (String, bool) = {
            let row = sqlx::query("SELECT name, enrolled FROM device_keys WHERE device_id = $1")
                .bind(device.0.as_str())
                .fetch_one(&mut *tx)
                .await?;
            (row.try_get("name")?, flag(row.try_get("enrolled")?))
        };
        #[derive(Serialize)]
        struct PairedAudit<'a> {
            device_name: &'a str,
            enrolled: bool,
            sharer: &'a str,
        }
        record(
            &mut tx,
            &TenantScope::of_record(user_tenant),
            actor,
            now,
            AuditEntry::<(), _> {
                action: "device.pair",
                object_type: "device",
                object_id: &device.0,
                before: None,
                after: Some(&PairedAudit {
                    device_name: &described.0,
                    enrolled: described.1,
                    sharer: &actor.name,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(self
            .device_key(device)
            .await?
            .ok_or(PairRefusal::UnknownDevice))
    }

    /// Records that the device's agent is talking to the server now.
    pub(crate) async fn touch_device(
        &self,
        device: &DeviceId,
        scope: &TenantScope,
        agent_version: &str,
        now: UnixMillis,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE devices SET last_seen = $1, agent_version = $2 WHERE id = $3 AND tenant_id = $4",
        )
        .bind(now.0)
        .bind(agent_version)
        .bind(device.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

async fn insert_device_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &DeviceId,
    tenant: &TenantId,
    device: &AgentDevice<'_>,
    enrolled: bool,
    primary_user: Option<&UserId>,
    now: UnixMillis,
) -> StoreResult<()> {
    let compliance = if enrolled {
        Compliance::Unknown
    } else {
        Compliance::NonCompliant
    };
    sqlx::query(
        "INSERT INTO devices (id, tenant_id, name, os, os_version, primary_user_id, enrolled, \
         compliance, last_seen, agent_version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)",
    )
    .bind(id.0.as_str())
    .bind(tenant.0.as_str())
    .bind(device.name)
    .bind(device.os)
    .bind(device.os_version)
    .bind(primary_user.map(|u| u.0.clone()))
    .bind(i64::from(enrolled))
    .bind(compliance.as_str())
    .bind(now.0)
    .bind(device.agent_version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
#[path = "agents_tests.rs"]
mod tests;
