//! Tenant settings.

use super::audit::{AuditEntry, record};
use super::{Store, StoreError, StoreResult, flag};
use crate::auth::{Authorized, ManageSettings, TenantScope};
use sqlx::Row;
use tandem_protocol::UnixMillis;
use tandem_protocol::settings::{HelperNameDisplay, TenantSettings};

const COLUMNS: &str = "remote_help_enabled, allow_unenrolled, allow_unattended, \
    code_lifetime_minutes, retention_days, helper_name_display, chat_enabled, \
    sign_out_after_elevation, timezone, working_hours_start, working_hours_end, \
    working_days, unusual_devices_per_day, unusual_failures_per_day, relay_only, \
    clipboard_enabled, clipboard_max_bytes, annotation_enabled, file_transfer_enabled, \
    file_max_mib";

fn corrupt(reason: String) -> StoreError {
    StoreError::Corrupt {
        table: "tenant_settings",
        reason,
    }
}

impl Store {
    /// The tenant settings from the database (callers use the cached
    /// [`Store::settings`]).
    pub(super) async fn load_settings(&self, scope: &TenantScope) -> StoreResult<TenantSettings> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tenant_settings WHERE tenant_id = $1"
        ))
        .bind(scope.tenant_id().0.as_str())
        .fetch_optional(self.conn().await?.connection()?)
        .await?;
        let Some(row) = row else {
            return Ok(TenantSettings::default());
        };
        let display: String = row.try_get("helper_name_display")?;
        let small = |name: &str| -> StoreResult<i64> { Ok(row.try_get::<i64, _>(name)?) };
        Ok(TenantSettings {
            remote_help_enabled: flag(small("remote_help_enabled")?),
            allow_unenrolled: flag(small("allow_unenrolled")?),
            allow_unattended: flag(small("allow_unattended")?),
            code_lifetime_minutes: u8::try_from(small("code_lifetime_minutes")?)
                .map_err(|e| corrupt(e.to_string()))?,
            retention_days: u16::try_from(small("retention_days")?)
                .map_err(|e| corrupt(e.to_string()))?,
            helper_name_display: HelperNameDisplay::parse(&display)
                .ok_or_else(|| corrupt(format!("helper_name_display {display:?}")))?,
            chat_enabled: flag(small("chat_enabled")?),
            sign_out_after_elevation: flag(small("sign_out_after_elevation")?),
            timezone: row.try_get("timezone")?,
            working_hours_start: u16::try_from(small("working_hours_start")?)
                .map_err(|e| corrupt(e.to_string()))?,
            working_hours_end: u16::try_from(small("working_hours_end")?)
                .map_err(|e| corrupt(e.to_string()))?,
            working_days: u8::try_from(small("working_days")?)
                .map_err(|e| corrupt(e.to_string()))?,
            unusual_devices_per_day: u16::try_from(small("unusual_devices_per_day")?)
                .map_err(|e| corrupt(e.to_string()))?,
            unusual_failures_per_day: u16::try_from(small("unusual_failures_per_day")?)
                .map_err(|e| corrupt(e.to_string()))?,
            relay_only: flag(small("relay_only")?),
            clipboard_enabled: flag(small("clipboard_enabled")?),
            clipboard_max_bytes: u32::try_from(small("clipboard_max_bytes")?)
                .map_err(|e| corrupt(e.to_string()))?,
            annotation_enabled: flag(small("annotation_enabled")?),
            file_transfer_enabled: flag(small("file_transfer_enabled")?),
            file_max_mib: u32::try_from(small("file_max_mib")?)
                .map_err(|e| corrupt(e.to_string()))?,
        })
    }

    /// Replaces the settings, recording the change. Takes effect at once:
    /// every decision reads the settings from here.
    pub async fn update_settings(
        &self,
        auth: &Authorized<ManageSettings>,
        settings: &TenantSettings,
        now: UnixMillis,
    ) -> StoreResult<TenantSettings> {
        let scope = auth.scope();
        let before = self.settings(scope).await?;
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO tenant_settings (tenant_id, {COLUMNS}, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $10) \
             ON CONFLICT (tenant_id) DO UPDATE SET \
             remote_help_enabled = excluded.remote_help_enabled, \
             allow_unenrolled = excluded.allow_unenrolled, \
             allow_unattended = excluded.allow_unattended, \
             code_lifetime_minutes = excluded.code_lifetime_minutes, \
             retention_days = excluded.retention_days, \
             helper_name_display = excluded.helper_name_display, \
             chat_enabled = excluded.chat_enabled, \
             sign_out_after_elevation = excluded.sign_out_after_elevation, \
             timezone = excluded.timezone, \
             working_hours_start = excluded.working_hours_start, \
             working_hours_end = excluded.working_hours_end, \
             working_days = excluded.working_days, \
             unusual_devices_per_day = excluded.unusual_devices_per_day, \
             unusual_failures_per_day = excluded.unusual_failures_per_day, \
             relay_only = excluded.relay_only, \
             clipboard_enabled = excluded.clipboard_enabled, \
             clipboard_max_bytes = excluded.clipboard_max_bytes, \
             annotation_enabled = excluded.annotation_enabled, \
             file_transfer_enabled = excluded.file_transfer_enabled, \
             file_max_mib = excluded.file_max_mib, \
             updated_at = excluded.updated_at"
        ))
        .bind(scope.tenant_id().0.as_str())
        .bind(i64::from(settings.remote_help_enabled))
        .bind(i64::from(settings.allow_unenrolled))
        .bind(i64::from(settings.allow_unattended))
        .bind(i64::from(settings.code_lifetime_minutes))
        .bind(i64::from(settings.retention_days))
        .bind(settings.helper_name_display.as_str())
        .bind(i64::from(settings.chat_enabled))
        .bind(i64::from(settings.sign_out_after_elevation))
        .bind(now.0)
        .bind(settings.timezone.as_str())
        .bind(i64::from(settings.working_hours_start))
        .bind(i64::from(settings.working_hours_end))
        .bind(i64::from(settings.working_days))
        .bind(i64::from(settings.unusual_devices_per_day))
        .bind(i64::from(settings.unusual_failures_per_day))
        .bind(i64::from(settings.relay_only))
        .bind(i64::from(settings.clipboard_enabled))
        .bind(i64::from(settings.clipboard_max_bytes))
        .bind(i64::from(settings.annotation_enabled))
        .bind(i64::from(settings.file_transfer_enabled))
        .bind(i64::from(settings.file_max_mib))
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            scope,
            auth.actor(),
            now,
            AuditEntry {
                action: "settings.update",
                object_type: "tenant_settings",
                object_id: &scope.tenant_id().0,
                before: Some(&before),
                after: Some(settings),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(settings.clone())
    }
}
