//! The admin views of the directory: users, groups, devices, with search
//! and paging, and CSV imports.

use crate::devices::DeviceSummary;
use serde::{Deserialize, Serialize};

/// Largest page the API returns.
pub const MAX_PAGE_SIZE: u32 = 200;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// `?q=&page=&per_page=` of the directory listings. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// (page ≥ 1, size in 1..=MAX) after defaults and clamping.
    pub fn normalized(&self) -> (u32, u32) {
        let size = self
            .per_page
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        (self.page.unwrap_or(1).max(1), size)
    }

    /// The search text, trimmed, if any.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Matches over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u32 {
        let per = u64::from(self.per_page.max(1));
        u32::try_from(self.total.div_ceil(per))
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// A user in the admin directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRow {
    pub id: crate::UserId,
    pub display_name: String,
    pub email: String,
    pub job_title: Option<String>,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Signs in through the organization's IdP (else a built-in account).
    pub from_idp: bool,
    #[serde(default)]
    pub company: Option<String>,
    /// Has a password for signing in with a Tandem account.
    #[serde(default)]
    pub password_set: bool,
}

/// A group in the admin directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRow {
    pub id: crate::GroupId,
    pub name: String,
    pub members: u64,
    pub devices: u64,
}

/// A device in the admin directory.
pub type DeviceRow = DeviceSummary;

/// What a CSV import is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImportKind {
    /// `email,display_name,job_title,company,password` (password optional).
    Users,
    /// `group,member_email` (member optional: an empty group).
    Groups,
    /// `name,os,os_version,primary_user_email,enrolled,compliance`.
    Devices,
}

impl ImportKind {
    /// The header line a file must start with.
    pub fn header(self) -> &'static str {
        match self {
            ImportKind::Users => "email,display_name,job_title,company,password",
            ImportKind::Groups => "group,member_email",
            ImportKind::Devices => "name,os,os_version,primary_user_email,enrolled,compliance",
        }
    }
}

/// Query of `POST /api/admin/import/{kind}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportOptions {
    /// Whether a users file's password cells may change the passwords of
    /// accounts that already exist. Without it such a line is refused
    /// (and so is the whole file); new accounts take their password
    /// either way.
    pub set_passwords: bool,
}

/// A line of an import that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

/// The result of an import: either everything was taken, or nothing was
/// and `problems` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub problems: Vec<ImportProblem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_clamped_and_counted() {
        let q = PageQuery {
            q: Some("  ".into()),
            page: Some(0),
            per_page: Some(10_000),
        };
        assert_eq!(q.normalized(), (1, MAX_PAGE_SIZE));
        assert_eq!(q.search(), None);
        assert_eq!(PageQuery::default().normalized(), (1, DEFAULT_PAGE_SIZE));
        let page = Page::<u8> {
            items: vec![],
            page: 1,
            per_page: 25,
            total: 51,
        };
        assert_eq!(page.pages(), 3);
        let empty = Page::<u8> {
            items: vec![],
            page: 1,
            per_page: 25,
            total: 0,
        };
        assert_eq!(empty.pages(), 1);
    }
}

/// A member of a group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: crate::UserId,
    pub display_name: String,
    pub email: String,
    /// Synced from the IdP's groups claim: changed only by the IdP.
    pub from_idp: bool,
}

/// Body of `PUT /api/admin/groups/{id}/members`: the e-mail addresses of
/// the members managed in the console (IdP memberships are untouched).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersDraft {
    pub emails: Vec<String>,
}

/// Body of `POST /api/admin/groups`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDraft {
    pub name: String,
}
