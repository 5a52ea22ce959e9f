//! Devices registered by agents (or imported by admins).

use super::{Store, StoreError, StoreResult, flag};
use crate::auth::{Authorized, ManageDevices, TenantScope};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use tandem_protocol::devices::{Compliance, DeviceSummary};
use tandem_protocol::{DeviceId, UnixMillis, UserId};

/// What it takes to create a device.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub primary_user: Option<UserId>,
    pub enrolled: bool,
    pub compliance: Compliance,
    pub last_seen: Option<UnixMillis>,
    pub agent_version: Option<String>,
}

fn device_from_row(row: &AnyRow) -> StoreResult<DeviceSummary> {
    let compliance: String = row.try_get("compliance")?;
    let compliance = Compliance::parse(&compliance).ok_or_else(|| StoreError::Corrupt {
        table: "devices",
        reason: format!("unknown compliance state {compliance:?}"),
    })?;
    Ok(DeviceSummary {
        id: DeviceId(row.try_get("id")?),
        name: row.try_get("name")?,
        os: row.try_get("os")?,
        os_version: row.try_get("os_version")?,
        primary_user: row.try_get("primary_user")?,
        enrolled: flag(row.try_get("enrolled")?),
        compliance,
        last_seen: row.try_get::<Option<i64>, _>("last_seen")?.map(UnixMillis),
        agent_version: row.try_get("agent_version")?,
        // Presence is not stored; the sessions layer knows it.
        online: false,
        // A decision for one caller, made by the HTTP layer.
        can_offer: false,
    })
}

impl Store {
    /// Creates a device. An unenrolled device is stored as non-compliant,
    /// whatever `compliance` says.
    pub(crate) async fn create_device(
        &self,
        auth: &Authorized<ManageDevices>,
        device: &NewDevice,
        now: UnixMillis,
    ) -> StoreResult<DeviceId> {
        let tenant = auth.scope().tenant_id();
        let id = DeviceId(uuid::Uuid::new_v4().to_string());
        let compliance = if device.enrolled {
            device.compliance
        } else {
            Compliance::NonCompliant
        };
        sqlx::query(
            "INSERT INTO devices (id, tenant_id, name, os, os_version, primary_user_id, \
             enrolled, compliance, last_seen, agent_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.0.as_str())
        .bind(tenant.0.as_str())
        .bind(device.name.as_str())
        .bind(device.os.as_str())
        .bind(device.os_version.as_str())
        .bind(device.primary_user.as_ref().map(|u| u.0.clone()))
        .bind(i64::from(device.enrolled))
        .bind(compliance.as_str())
        .bind(device.last_seen.map(|t| t.0))
        .bind(device.agent_version.clone())
        .bind(now.0)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// The devices of the caller's tenant, by name.
    pub async fn list_devices(&self, scope: &TenantScope) -> StoreResult<Vec<DeviceSummary>> {
        let rows = sqlx::query(
            "SELECT d.id, d.name, d.os, d.os_version, u.display_name AS primary_user, \
             d.enrolled, d.compliance, d.last_seen, d.agent_version \
             FROM devices d LEFT JOIN users u ON u.id = d.primary_user_id \
             WHERE d.tenant_id = $1 ORDER BY d.name, d.id",
        )
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// One device of the caller's tenant.
    pub async fn device_summary(
        &self,
        scope: &TenantScope,
        id: &tandem_protocol::DeviceId,
    ) -> StoreResult<Option<DeviceSummary>> {
        let row = sqlx::query(
            "SELECT d.id, d.name, d.os, d.os_version, u.display_name AS primary_user, \
             d.enrolled, d.compliance, d.last_seen, d.agent_version \
             FROM devices d LEFT JOIN users u ON u.id = d.primary_user_id \
             WHERE d.tenant_id = $1 AND d.id = $2",
        )
        .bind(scope.tenant_id().0.as_str())
        .bind(id.0.as_str())
        .fetch_optional(self.conn().await?.connection()?)
        .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// Who is signed in to Tandem on each of the tenant's devices (bound
    /// by the device's last pairing), for the offer decision.
    pub async fn signed_in_users(
        &self,
        scope: &TenantScope,
    ) -> StoreResult<BTreeMap<DeviceId, UserId>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT device_id, signed_in_user_id FROM device_keys \
             WHERE tenant_id = $1 AND signed_in_user_id IS NOT NULL",
        )
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(device, user)| (DeviceId(device), UserId(user)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewUser;
    use tandem_protocol::TenantId;

    fn device(name: &str, enrolled: bool, compliance: Compliance) -> NewDevice {
        NewDevice {
            name: name.into(),
            os: "Windows".into(),
            os_version: "11".into(),
            primary_user: None,
            enrolled,
            compliance,
            last_seen: None,
            agent_version: None,
        }
    }

    #[tokio::test]
    async fn listing_is_per_tenant_sorted_and_joins_the_primary_user() {
        let store = Store::open_scratch().await.unwrap();
        let (a, b) = (TenantId::from("a"), TenantId::from("b"));
        store.create_tenant(&a, "A", UnixMillis(0)).await.unwrap();
        store.create_tenant(&b, "B", UnixMillis(0)).await.unwrap();
        let ann = NewUser {
            email: "ann@a.test".into(),
            display_name: "Ann A".into(),
            ..NewUser::default()
        };
        let ann = store
            .create_user(&Authorized::system(a.clone(), "test"), &ann, UnixMillis(0))
            .await
            .unwrap();
        let mut zed = device("zed", true, Compliance::Compliant);
        zed.primary_user = Some(ann);
        zed.last_seen = Some(UnixMillis(42));
        store
            .create_device(&Authorized::system(a.clone(), "test"), &zed, UnixMillis(0))
            .await
            .unwrap();
        store
            .create_device(
                &Authorized::system(a.clone(), "test"),
                &device("alpha", true, Compliance::Unknown),
                UnixMillis(0),
            )
            .await
            .unwrap();
        store
            .create_device(
                &Authorized::system(b.clone(), "test"),
                &device("foreign", true, Compliance::Compliant),
                UnixMillis(0),
            )
            .await
            .unwrap();

        let listed = store
            .list_devices(&TenantScope::for_tests(a.clone()))
            .await
            .unwrap();
        let names: Vec<_> = listed.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["alpha", "zed"]);
        assert_eq!(listed[1].primary_user.as_deref(), Some("Ann A"));
        assert_eq!(listed[1].last_seen, Some(UnixMillis(42)));
        assert_eq!(listed[0].primary_user, None);
    }

    #[tokio::test]
    async fn unenrolled_devices_are_always_non_compliant() {
        let store = Store::open_scratch().await.unwrap();
        let t = TenantId::from("t");
        store.create_tenant(&t, "T", UnixMillis(0)).await.unwrap();
        store
            .create_device(
                &Authorized::system(t.clone(), "test"),
                &device("kiosk", false, Compliance::Compliant),
                UnixMillis(0),
            )
            .await
            .unwrap();
        let listed = store
            .list_devices(&TenantScope::for_tests(t))
            .await
            .unwrap();
        assert_eq!(listed[0].compliance, Compliance::NonCompliant);
        assert!(!listed[0].enrolled);
    }
}
