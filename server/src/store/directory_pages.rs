//! Paged, searchable listings of the directory for the admin console.

use super::{Store, StoreResult};
use crate::auth::TenantScope;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use tandem_protocol::directory::{GroupRow, Page, PageQuery, UserRow};
use tandem_protocol::{DeviceId, GroupId, UserId};

/// A `LIKE` pattern matching `text` anywhere, with wildcards escaped.
pub(super) fn contains_pattern(text: Option<&str>) -> String {
    let escaped: String = text
        .unwrap_or_default()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

pub(super) fn offset(page: u32, per_page: u32) -> i64 {
    i64::from(page - 1) * i64::from(per_page)
}

pub(super) fn count(total: i64) -> u64 {
    u64::try_from(total).unwrap_or(0)
}

const USER_ROW_COLUMNS: &str = "id, display_name, email, job_title, company, idp_subject, \
     CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS password_set";

/// A user row of [`USER_ROW_COLUMNS`], taking its groups out of `groups`.
fn user_row(row: &AnyRow, groups: &mut BTreeMap<String, Vec<String>>) -> StoreResult<UserRow> {
    let id: String = row.try_get("id")?;
    Ok(UserRow {
        groups: groups.remove(&id).unwrap_or_default(),
        id: UserId(id),
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        job_title: row.try_get("job_title")?,
        from_idp: row.try_get::<Option<String>, _>("idp_subject")?.is_some(),
        company: row.try_get("company")?,
        password_set: row.try_get::<i64, _>("password_set")? != 0,
    })
}

impl Store {
    /// Group names by user id, sorted, for the users listing.
    async fn user_group_names(
        &self,
        scope: &TenantScope,
    ) -> StoreResult<BTreeMap<String, Vec<String>>> {
        let memberships: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE g.tenant_id = $1 ORDER BY g.name",
        )
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (user, group) in memberships {
            groups.entry(user).or_default().push(group);
        }
        Ok(groups)
    }

    /// One user of the caller's tenant as the users listing shows it.
    pub async fn user_row(&self, scope: &TenantScope, id: &UserId) -> StoreResult<Option<UserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_ROW_COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(user_row(
                &row,
                &mut self.user_group_names(scope).await?,
            )?)),
            None => Ok(None),
        }
    }

    /// Users whose name or e-mail contains `q`, by name.
    pub async fn users_page(
        &self,
        scope: &TenantScope,
        query: &PageQuery,
    ) -> StoreResult<Page<UserRow>> {
        let (page, per_page) = query.normalized();
        let tenant = scope.tenant_id().0.as_str();
        let pattern = contains_pattern(query.search());
        let filter = "FROM users WHERE tenant_id = $1 AND \
             (lower(display_name) LIKE $2 ESCAPE '\\' OR lower(email) LIKE $2 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))
            .bind(tenant)
            .bind(pattern.as_str())
            .fetch_one(self.pool())
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {USER_ROW_COLUMNS} {filter} ORDER BY display_name, id LIMIT $3 OFFSET $4"
        ))
        .bind(tenant)
        .bind(pattern.as_str())
        .bind(i64::from(per_page))
        .bind(offset(page, per_page))
        .fetch_all(self.pool())
        .await?;
        let mut groups = self.user_group_names(scope).await?;
        let items = rows
            .iter()
            .map(|row| user_row(row, &mut groups))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page {
            items,
            page,
            per_page,
            total: count(total),
        })
    }

    /// Groups whose name contains `q`, by name, with member counts.
    pub async fn groups_page(
        &self,
        scope: &TenantScope,
        query: &PageQuery,
    ) -> StoreResult<Page<GroupRow>> {
        let (page, per_page) = query.normalized();
        let tenant = scope.tenant_id().0.as_str();
        let pattern = contains_pattern(query.search());
        let filter = "FROM groups g WHERE g.tenant_id = $1 AND lower(g.name) LIKE $2 ESCAPE '\\'";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))
            .bind(tenant)
            .bind(pattern.as_str())
            .fetch_one(self.pool())
            .await?;
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT g.id, g.name, \
             (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id), \
             (SELECT COUNT(*) FROM group_devices d WHERE d.group_id = g.id) \
             {filter} ORDER BY g.name, g.id LIMIT $3 OFFSET $4"
        ))
        .bind(tenant)
        .bind(pattern.as_str())
        .bind(i64::from(per_page))
        .bind(offset(page, per_page))
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .into_iter()
            .map(|(id, name, members, devices)| GroupRow {
                id: GroupId(id),
                name,
                members: count(members),
                devices: count(devices),
            })
            .collect();
        Ok(Page {
            items,
            page,
            per_page,
            total: count(total),
        })
    }

    /// Ids of all the tenant's devices whose name, OS or primary user
    /// contains `q`, by name, one page of them, and the total.
    pub async fn device_ids_page(
        &self,
        scope: &TenantScope,
        query: &PageQuery,
    ) -> StoreResult<(Vec<DeviceId>, u64)> {
        let (page, per_page) = query.normalized();
        let tenant = scope.tenant_id().0.as_str();
        let pattern = contains_pattern(query.search());
        let filter = "FROM devices d LEFT JOIN users u ON u.id = d.primary_user_id \
             WHERE d.tenant_id = $1 AND (lower(d.name) LIKE $2 ESCAPE '\\' \
             OR lower(d.os) LIKE $2 ESCAPE '\\' \
             OR lower(coalesce(u.display_name, '')) LIKE $2 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))
            .bind(tenant)
            .bind(pattern.as_str())
            .fetch_one(self.pool())
            .await?;
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT d.id {filter} ORDER BY d.name, d.id LIMIT $3 OFFSET $4"
        ))
        .bind(tenant)
        .bind(pattern.as_str())
        .bind(i64::from(per_page))
        .bind(offset(page, per_page))
        .fetch_all(self.pool())
        .await?;
        Ok((ids.into_iter().map(DeviceId).collect(), count(total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_searches_are_literal() {
        assert_eq!(contains_pattern(Some("50%_A")), "%50\\%\\_a%");
        assert_eq!(contains_pattern(None), "%%");
    }
}
