//! CSV imports of users, groups and devices. A file is checked whole
//! first; if any line is wrong nothing is written and every problem is
//! reported with its line number. Otherwise everything is written in one
//! transaction and recorded in the audit log as one entry.

use super::audit::{AuditEntry, record};
use super::{Store, StoreError};
use crate::auth::{Actor, TenantScope};
use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::devices::Compliance;
use tandem_protocol::directory::{ImportKind, ImportProblem, ImportReport};
use tandem_protocol::{TenantId, UnixMillis};

/// Most data lines one import may have.
pub const MAX_IMPORT_LINES: usize = 10_000;

/// One checked line, ready to write.
enum Line {
    User {
        email: String,
        name: String,
        job: Option<String>,
        company: Option<String>,
        hash: Option<String>,
    },
    Member {
        group: String,
        email: Option<String>,
    },
    Device {
        name: String,
        os: String,
        version: String,
        user: Option<String>,
        enrolled: bool,
        compliance: Compliance,
    },
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" | "" => Some(false),
        _ => None,
    }
}

fn email_ok(email: &str) -> bool {
    email.len() <= tandem_protocol::auth::MAX_EMAIL_LEN
        && email
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
}

/// Reads and checks every line; `known_emails` are the tenant's users
/// (lower-case) plus, for users imports, the file's own.
async fn check(
    kind: ImportKind,
    csv_text: &str,
    known_emails: &BTreeSet<String>,
) -> Result<Vec<(u64, Line)>, Vec<ImportProblem>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let problem = |line: u64, message: String| ImportProblem { line, message };
    let header = reader
        .headers()
        .map(|h| h.iter().collect::<Vec<_>>().join(","));
    match header {
        Ok(h) if h.to_lowercase() == kind.header() => {}
        Ok(h) => {
            return Err(vec![problem(
                1,
                format!(
                    "The first line must be \u{201c}{}\u{201d}, not \u{201c}{h}\u{201d}.",
                    kind.header()
                ),
            )]);
        }
        Err(e) => return Err(vec![problem(1, format!("This is not a CSV file: {e}"))]),
    }
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, record) in reader.records().enumerate() {
        let number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        if index >= MAX_IMPORT_LINES {
            problems.push(problem(
                number,
                format!("An import can have at most {MAX_IMPORT_LINES} lines."),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(number, format!("Unreadable line: {e}")));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or_default();
        let checked: Result<Line, String> = match kind {
            ImportKind::Users => {
                let email = field(0).to_lowercase();
                if !email_ok(&email) {
                    Err(format!("\u{201c}{email}\u{201d} is not an e-mail address."))
                } else if field(1).is_empty() {
                    Err("The display name is empty.".into())
                } else if !seen.insert(email.clone()) {
                    Err(format!("{email} appears twice in the file."))
                } else {
                    let hash = match optional(field(4)) {
                        Some(password) => crate::auth::hash_password(password)
                            .await
                            .map(Some)
                            .map_err(|e| format!("The password could not be hashed: {e}")),
                        None => Ok(None),
                    };
                    hash.map(|hash| Line::User {
                        email,
                        name: field(1).to_owned(),
                        job: optional(field(2)),
                        company: optional(field(3)),
                        hash,
                    })
                }
            }
            ImportKind::Groups => {
                let email = optional(field(1)).map(|e| e.to_lowercase());
                if field(0).is_empty() {
                    Err("The group name is empty.".into())
                } else if let Err(message) = tandem_protocol::rbac::validate_name("group", field(0))
                {
                    Err(message)
                } else if email.as_ref().is_some_and(|e| !known_emails.contains(e)) {
                    Err(format!(
                        "There is no user {} in this organization.",
                        email.unwrap_or_default()
                    ))
                } else {
                    Ok(Line::Member {
                        group: field(0).to_owned(),
                        email,
                    })
                }
            }
            ImportKind::Devices => {
                let user = optional(field(3)).map(|e| e.to_lowercase());
                let compliance = Compliance::parse(field(5).trim());
                match (parse_flag(field(4)), compliance) {
                    _ if field(0).is_empty() => Err("The device name is empty.".into()),
                    _ if !seen.insert(field(0).to_lowercase()) => {
                        Err(format!("{} appears twice in the file.", field(0)))
                    }
                    _ if field(1).is_empty() => Err("The operating system is empty.".into()),
                    _ if user.as_ref().is_some_and(|e| !known_emails.contains(e)) => Err(format!(
                        "There is no user {} in this organization.",
                        user.clone().unwrap_or_default()
                    )),
                    (None, _) => Err(format!(
                        "enrolled must be true or false, not \u{201c}{}\u{201d}.",
                        field(4)
                    )),
                    (_, None) => Err(format!(
                        "compliance must be compliant, non_compliant or unknown, not \u{201c}{}\u{201d}.",
                        field(5)
                    )),
                    (Some(enrolled), Some(compliance)) => Ok(Line::Device {
                        name: field(0).to_owned(),
                        os: field(1).to_owned(),
                        version: field(2).to_owned(),
                        user,
                        enrolled,
                        // Unenrolled devices are always non-compliant.
                        compliance: if enrolled {
                            compliance
                        } else {
                            Compliance::NonCompliant
                        },
                    }),
                }
            }
        };
        match checked {
            Ok(line) => lines.push((number, line)),
            Err(message) => problems.push(problem(number, message)),
        }
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

impl Store {
    /// Imports `csv_text` into the tenant. The caller has checked the
    /// permission the kind needs (Manage roles, or Manage devices).
    pub(crate) async fn import_csv(
        &self,
        scope: &TenantScope,
        actor: &Actor,
        kind: ImportKind,
        csv_text: &str,
        now: UnixMillis,
    ) -> Result<ImportReport, StoreError> {
        let tenant: &TenantId = scope.tenant_id();
        let mine: BTreeMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT email, id FROM users WHERE tenant_id = $1",
        )
        .bind(tenant.0.as_str())
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .collect();
        let known: BTreeSet<String> = mine.keys().cloned().collect();
        let lines = match check(kind, csv_text, &known).await {
            Ok(lines) => lines,
            Err(problems) => {
                return Ok(ImportReport {
                    created: 0,
                    updated: 0,
                    problems,
                });
            }
        };
        // E-mail addresses are unique across tenants: look up only the
        // file's addresses that are new to this tenant.
        let mut foreign = Vec::new();
        for (line, parsed) in &lines {
            if let Line::User { email, .. } = parsed
                && !mine.contains_key(email)
            {
                let taken: Option<String> =
                    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                        .bind(email.as_str())
                        .fetch_optional(self.pool())
                        .await?;
                if taken.is_some() {
                    foreign.push(ImportProblem {
                        line: *line,
                        message: format!("{email} belongs to a user of another organization."),
                    });
                }
            }
        }
        if !foreign.is_empty() {
            return Ok(ImportReport {
                created: 0,
                updated: 0,
                problems: foreign,
            });
        }

        let (mut created, mut updated) = (0u64, 0u64);
        let mut tx = self.pool().begin().await?;
        let mut group_ids: BTreeMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT name, id FROM groups WHERE tenant_id = $1",
        )
        .bind(tenant.0.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        for (_, line) in lines {
            match line {
                Line::User {
                    email,
                    name,
                    job,
                    company,
                    hash,
                } => {
                    if mine.contains_key(&email) {
                        sqlx::query(
                            "UPDATE users SET display_name = $1, job_title = $2, company = $3, \
                             password_hash = coalesce($4, password_hash) WHERE email = $5 AND tenant_id = $6",
                        )
                        .bind(name).bind(job).bind(company).bind(hash).bind(email).bind(tenant.0.as_str())
                        .execute(&mut *tx)
                        .await?;
                        updated += 1;
                    } else {
                        sqlx::query(
                            "INSERT INTO users (id, tenant_id, email, display_name, job_title, company, \
                             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(uuid::Uuid::new_v4().to_string()).bind(tenant.0.as_str()).bind(email)
                        .bind(name).bind(job).bind(company).bind(hash).bind(now.0)
                        .execute(&mut *tx)
                        .await?;
                        created += 1;
                    }
                }
                Line::Member { group, email } => {
                    let id = match group_ids.get(&group) {
                        Some(id) => id.clone(),
                        None => {
                            let id = uuid::Uuid::new_v4().to_string();
                            sqlx::query(
                                "INSERT INTO groups (id, tenant_id, name) VALUES ($1, $2, $3)",
                            )
                            .bind(id.as_str())
                            .bind(tenant.0.as_str())
                            .bind(group.as_str())
                            .execute(&mut *tx)
                            .await?;
                            group_ids.insert(group, id.clone());
                            created += 1;
                            id
                        }
                    };
                    if let Some(user) = email.and_then(|e| mine.get(&e)) {
                        let added = sqlx::query(
                            "INSERT INTO group_members (group_id, user_id, source) VALUES ($1, $2, 'console') \
                             ON CONFLICT (group_id, user_id) DO NOTHING",
                        )
                        .bind(id.as_str()).bind(user.as_str())
                        .execute(&mut *tx)
                        .await?;
                        updated += added.rows_affected();
                    }
                }
                Line::Device {
                    name,
                    os,
                    version,
                    user,
                    enrolled,
                    compliance,
                } => {
                    let primary = user.and_then(|e| mine.get(&e).cloned());
                    let existing: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM devices WHERE tenant_id = $1 AND lower(name) = lower($2)",
                    )
                    .bind(tenant.0.as_str())
                    .bind(name.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    match existing {
                        Some(id) => {
                            sqlx::query(
                                "UPDATE devices SET os = $1, os_version = $2, primary_user_id = $3, \
                                 enrolled = $4, compliance = $5 WHERE id = $6",
                            )
                            .bind(os).bind(version).bind(primary).bind(i64::from(enrolled))
                            .bind(compliance.as_str()).bind(id)
                            .execute(&mut *tx)
                            .await?;
                            updated += 1;
                        }
                        None => {
                            sqlx::query(
                                "INSERT INTO devices (id, tenant_id, name, os, os_version, primary_user_id, \
                                 enrolled, compliance, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                            )
                            .bind(uuid::Uuid::new_v4().to_string()).bind(tenant.0.as_str()).bind(name)
                            .bind(os).bind(version).bind(primary).bind(i64::from(enrolled))
                            .bind(compliance.as_str()).bind(now.0)
                            .execute(&mut *tx)
                            .await?;
                            created += 1;
                        }
                    }
                }
            }
        }
        let report = ImportReport {
            created,
            updated,
            problems: Vec::new(),
        };
        let kind_name = match kind {
            ImportKind::Users => "users",
            ImportKind::Groups => "groups",
            ImportKind::Devices => "devices",
        };
        record(
            &mut tx,
            scope,
            actor,
            now,
            AuditEntry::<(), _> {
                action: "directory.import",
                object_type: "import",
                object_id: kind_name,
                before: None,
                after: Some(&report),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
