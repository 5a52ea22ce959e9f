//! CSV imports of users, groups and devices. A file is checked whole
//! first; if any line is wrong nothing is written and every problem is
//! reported with its line number. Otherwise everything is written in one
//! transaction and recorded in the audit log as one entry, which names
//! every account, group or device created or changed (never a password
//! or its hash).
//!
//! A password cell changes the password of an account that already exists
//! only when the caller asked for it (`?set_passwords=true`): without it
//! such a line is refused like any other wrong line, so a file meant to
//! create accounts cannot silently take over existing ones, and nothing
//! in the file is dropped without the administrator seeing it.

use super::audit::{AuditEntry, record};
use super::{Store, StoreError};
use crate::auth::{Actor, Authorized, ManageDevices, ManageRoles, TenantScope};
use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::admin::UserDraft;
use tandem_protocol::agent::MAX_DEVICE_FIELD_CHARS;
use tandem_protocol::devices::Compliance;
use tandem_protocol::directory::{ImportKind, ImportOptions, ImportProblem, ImportReport};
use tandem_protocol::text::{check_name, check_text};
use tandem_protocol::{TenantId, UnixMillis};

/// Most data lines one import may have.
pub const MAX_IMPORT_LINES: usize = 10_000;

/// The audit entry of an import: what `ImportReport` says, and by name
/// (e-mail address, group or device name) what was created or changed.
/// Never a password or its hash: `passwords_set` names the accounts only.
#[derive(Debug, Default, serde::Serialize)]
struct ImportAudit {
    created: u64,
    updated: u64,
    /// Whether passwords of existing accounts could be changed.
    set_passwords: bool,
    created_names: Vec<String>,
    updated_names: Vec<String>,
    /// Accounts whose password was set by this import.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    passwords_set: Vec<String>,
    /// `group: e-mail` for each membership added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    members_added: Vec<String>,
}

/// One checked line, ready to write.
#[derive(Debug)]
pub(crate) enum Line {
    User {
        email: String,
        name: String,
        job: Option<String>,
        company: Option<String>,
        /// Checked, hashed only once the whole file is.
        password: Option<String>,
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

/// Checks a device's text field: at most [`MAX_DEVICE_FIELD_CHARS`], no
/// control or invisible characters; `required` refuses a blank one.
fn device_field(what: &str, text: &str, required: bool) -> Result<(), String> {
    let checked = if required {
        check_name(text, MAX_DEVICE_FIELD_CHARS)
    } else {
        check_text(text, MAX_DEVICE_FIELD_CHARS)
    };
    checked.map_err(|e| format!("The {what} {e}."))
}

/// Reads and checks every line; `known_emails` are the tenant's users
/// (lower-case).
pub(crate) fn check(
    kind: ImportKind,
    csv_text: &str,
    known_emails: &BTreeSet<String>,
    options: ImportOptions,
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
                // The same rules as the user form (e-mail, names of at
                // most 200 characters without control or invisible
                // characters, password length).
                let draft = UserDraft {
                    email: field(0).to_lowercase(),
                    display_name: field(1).to_owned(),
                    job_title: optional(field(2)),
                    company: optional(field(3)),
                    password: optional(field(4)),
                };
                match draft.validate() {
                    Err(message) => Err(message),
                    Ok(()) if !seen.insert(draft.email.clone()) => {
                        Err(format!("{} appears twice in the file.", draft.email))
                    }
                    Ok(())
                        if draft.password.is_some()
                            && !options.set_passwords
                            && known_emails.contains(&draft.email) =>
                    {
                        Err(format!(
                            "{} already has an account, and this line would change its \
                             password. Leave the password empty, or import with \
                             \u{201c}set passwords of existing accounts\u{201d} \
                             (?set_passwords=true).",
                            draft.email
                        ))
                    }
                    Ok(()) => Ok(Line::User {
                        job: draft.job_title(),
                        company: draft.company(),
                        name: draft.display_name.trim().to_owned(),
                        email: draft.email,
                        password: draft.password,
                    }),
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
                let fields = device_field("device name", field(0), true)
                    .and_then(|()| device_field("operating system", field(1), true))
                    .and_then(|()| device_field("OS version", field(2), false));
                match (fields, parse_flag(field(4)), compliance) {
                    (Err(message), _, _) => Err(message),
                    _ if !seen.insert(field(0).to_lowercase()) => {
                        Err(format!("{} appears twice in the file.", field(0)))
                    }
                    _ if user.as_ref().is_some_and(|e| !known_emails.contains(e)) => Err(format!(
                        "There is no user {} in this organization.",
                        user.clone().unwrap_or_default()
                    )),
                    (_, None, _) => Err(format!(
                        "enrolled must be true or false, not \u{201c}{}\u{201d}.",
                        field(4)
                    )),
                    (_, _, None) => Err(format!(
                        "compliance must be compliant, non_compliant or unknown, not \u{201c}{}\u{201d}.",
                        field(5)
                    )),
                    (Ok(()), Some(enrolled), Some(compliance)) => Ok(Line::Device {
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

/// A CSV import with the authority its kind needs: users and groups need
/// Manage roles, devices Manage devices. Only these can start one.
pub enum ImportOf<'a> {
    Users(&'a Authorized<ManageRoles>),
    Groups(&'a Authorized<ManageRoles>),
    Devices(&'a Authorized<ManageDevices>),
}

impl ImportOf<'_> {
    fn parts(&self) -> (ImportKind, &TenantScope, &Actor) {
        match self {
            ImportOf::Users(auth) => (ImportKind::Users, auth.scope(), auth.actor()),
            ImportOf::Groups(auth) => (ImportKind::Groups, auth.scope(), auth.actor()),
            ImportOf::Devices(auth) => (ImportKind::Devices, auth.scope(), auth.actor()),
        }
    }
}

impl Store {
    /// Imports `csv_text` into the authorized tenant.
    pub(crate) async fn import_csv(
        &self,
        import: ImportOf<'_>,
        options: ImportOptions,
        csv_text: &str,
        now: UnixMillis,
    ) -> Result<ImportReport, StoreError> {
        let (kind, scope, actor) = import.parts();
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
        let mut lines = match check(kind, csv_text, &known, options) {
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
        // Passwords are hashed only once the whole file is good.
        if !foreign.is_empty() {
            return Ok(ImportReport {
                created: 0,
                updated: 0,
                problems: foreign,
            });
        }
        let mut hashes = BTreeMap::new();
        for (line, parsed) in &mut lines {
            if let Line::User {
                password: Some(password),
                ..
            } = parsed
            {
                match crate::auth::hash_password(std::mem::take(password)).await {
                    Ok(hash) => {
                        hashes.insert(*line, hash);
                    }
                    Err(e) => foreign.push(ImportProblem {
                        line: *line,
                        message: format!("The password could not be hashed: {e}"),
                    }),
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
        // Who and what changed, for the audit entry.
        let mut audit = ImportAudit::default();

        let (mut created, mut updated) = (0u64, 0u64);
        let (_gate, mut tx) = self.begin_write().await?;
        let mut group_ids: BTreeMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT name, id FROM groups WHERE tenant_id = $1",
        )
        .bind(tenant.0.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        for (number, line) in lines {
            match line {
                Line::User {
                    email,
                    name,
                    job,
                    company,
                    password: _,
                } => {
                    let hash = hashes.remove(&number);
                    if hash.is_some() {
                        audit.passwords_set.push(email.clone());
                    }
                    if mine.contains_key(&email) {
                        audit.updated_names.push(email.clone());
                        sqlx::query(
                            "UPDATE users SET display_name = $1, job_title = $2, company = $3, \
                             password_hash = coalesce($4, password_hash) WHERE email = $5 AND tenant_id = $6",
                        )
                        .bind(name).bind(job).bind(company).bind(hash).bind(email).bind(tenant.0.as_str())
                        .execute(&mut *tx)
                        .await?;
                        updated += 1;
                    } else {
                        audit.created_names.push(email.clone());
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
                            audit.created_names.push(group.clone());
                            group_ids.insert(group.clone(), id.clone());
                            created += 1;
                            id
                        }
                    };
                    if let Some((email, user)) = email.and_then(|e| mine.get_key_value(&e)) {
                        let added = sqlx::query(
                            "INSERT INTO group_members (group_id, user_id, source) VALUES ($1, $2, 'console') \
                             ON CONFLICT (group_id, user_id) DO NOTHING",
                        )
                        .bind(id.as_str()).bind(user.as_str())
                        .execute(&mut *tx)
                        .await?;
                        if added.rows_affected() > 0 {
                            audit.members_added.push(format!("{group}: {email}"));
                        }
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
                            audit.updated_names.push(name.clone());
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
                            audit.created_names.push(name.clone());
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
        audit.created = created;
        audit.updated = updated;
        audit.set_passwords = options.set_passwords;
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
                after: Some(&audit),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
