//! The admin console beyond roles and settings: the audit log searched and
//! paged, and users created and edited in the console.

use crate::directory::PageQuery;
use crate::{UnixMillis, UserId};
use serde::{Deserialize, Serialize};

/// `?q=&kind=&page=&per_page=` of [`crate::routes::ADMIN_AUDIT_LOG`].
/// Pages count from 1; `kind` is one of [`AUDIT_KINDS`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditQuery {
    /// Text in the actor's name, the action, or the object (its name or
    /// what was recorded of it).
    #[serde(default)]
    pub q: Option<String>,
    /// Only entries about this kind of object.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub per_page: Option<u32>,
}

impl AuditQuery {
    /// (page ≥ 1, size in 1..=MAX) after defaults and clamping, as the
    /// directory listings do.
    pub fn normalized(&self) -> (u32, u32) {
        PageQuery {
            q: None,
            page: self.page,
            per_page: self.per_page,
        }
        .normalized()
    }

    /// The search text, trimmed, if any.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }

    /// The kind filter, if it names a known kind.
    pub fn kind(&self) -> Option<&'static str> {
        let kind = self.kind.as_deref()?.trim();
        AUDIT_KINDS.iter().map(|(k, _)| *k).find(|k| *k == kind)
    }

    /// The query string (without `?`), empty and first-page values left out.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(q) = self.search() {
            parts.push(format!("q={}", encode(q)));
        }
        if let Some(kind) = self.kind() {
            parts.push(format!("kind={kind}"));
        }
        if let Some(page) = self.page.filter(|p| *p > 1) {
            parts.push(format!("page={page}"));
        }
        if let Some(per_page) = self.per_page {
            parts.push(format!("per_page={per_page}"));
        }
        parts.join("&")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The kinds of object the audit log records (the `object_type` of an
/// entry), with their names in the console.
pub const AUDIT_KINDS: [(&str, &str); 7] = [
    ("tenant_settings", "Settings"),
    ("role", "Roles"),
    ("assignment", "Assignments"),
    ("group", "Groups"),
    ("user", "Users"),
    ("enrollment_token", "Enrollment tokens"),
    ("import", "CSV imports"),
];

/// One entry of the audit log as the console pages through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    pub id: String,
    pub at: UnixMillis,
    pub actor_id: UserId,
    /// The actor's name at the time (`system (…)` for the server itself).
    pub actor_name: String,
    /// e.g. `role.create`, `settings.update`, `enrollment_token.revoke`.
    pub action: String,
    /// One of [`AUDIT_KINDS`].
    pub object_type: String,
    pub object_id: String,
    /// The object's name, label or e-mail address, from the entry or (for
    /// a group that still exists) the directory.
    pub object_name: Option<String>,
    /// The object before the change, as JSON text; `None` when created.
    pub before: Option<String>,
    /// The object after the change, as JSON text; `None` when deleted.
    pub after: Option<String>,
}

/// Longest user display name, job title or company.
pub const MAX_USER_FIELD_CHARS: usize = 200;
/// Shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Body of creating (`POST /api/admin/users`) or editing
/// (`PUT /api/admin/users/{id}`) a user with a Tandem account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDraft {
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// A new password for signing in with a Tandem account; `None` keeps
    /// the current one (a new user without one cannot sign in until an
    /// administrator sets one or the organization's sign-in links them).
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for UserDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDraft")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("job_title", &self.job_title)
            .field("company", &self.company)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Checks an e-mail address; returns the message to show.
pub fn validate_email(email: &str) -> Result<(), String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("Enter the e-mail address.".to_owned());
    }
    let well_formed = email.len() <= crate::auth::MAX_EMAIL_LEN
        // No white space, and none of the invisible characters that could
        // make one address look like another (a direction override).
        && !email
            .chars()
            .any(|c| c.is_whitespace() || crate::text::is_hidden(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with(['.', '-'])
                && !domain.ends_with(['.', '-'])
                && !domain.contains("..")
        });
    if well_formed {
        Ok(())
    } else {
        Err(format!("\u{201c}{email}\u{201d} is not an e-mail address."))
    }
}

/// Checks an optional text field of a user: at most
/// [`MAX_USER_FIELD_CHARS`], no control or invisible characters
/// ([`crate::text::check_text`]).
fn validate_text(what: &str, text: &str) -> Result<(), String> {
    crate::text::check_text(text, MAX_USER_FIELD_CHARS).map_err(|e| format!("The {what} {e}."))
}

impl UserDraft {
    /// Checks the draft; returns the message to show.
    pub fn validate(&self) -> Result<(), String> {
        validate_email(&self.email)?;
        if self.display_name.trim().is_empty() {
            return Err("Enter the user's name.".to_owned());
        }
        validate_text("name", &self.display_name)?;
        validate_text("job title", self.job_title.as_deref().unwrap_or_default())?;
        validate_text("company", self.company.as_deref().unwrap_or_default())?;
        if let Some(password) = &self.password {
            let chars = password.chars().count();
            if chars < MIN_PASSWORD_CHARS {
                return Err(format!(
                    "The password must have at least {MIN_PASSWORD_CHARS} characters."
                ));
            }
            if password.len() > crate::auth::MAX_PASSWORD_LEN {
                return Err("That password is too long.".to_owned());
            }
        }
        Ok(())
    }

    /// The optional fields trimmed, blank as `None`.
    pub fn job_title(&self) -> Option<String> {
        optional(self.job_title.as_deref())
    }

    pub fn company(&self) -> Option<String> {
        optional(self.company.as_deref())
    }
}

fn optional(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(email: &str, name: &str) -> UserDraft {
        UserDraft {
            email: email.into(),
            display_name: name.into(),
            job_title: None,
            company: None,
            password: None,
        }
    }

    #[test]
    fn user_drafts_are_checked() {
        assert_eq!(draft(" ann@example.test ", "Ann").validate(), Ok(()));
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.test",
            "ann@example",
            "ann@.example.test",
            "ann@example..test",
            "an n@example.test",
            "a@b@example.test",
            "ann\u{202e}tset@example.test",
            "ann@exa\u{200b}mple.test",
            "\u{feff}ann@example.test",
        ] {
            assert!(draft(bad, "Ann").validate().is_err(), "{bad:?}");
        }
        assert!(draft("a@b.test", "  ").validate().is_err());
        assert!(
            draft("a@b.test", &"x".repeat(201))
                .validate()
                .unwrap_err()
                .contains("200")
        );
        assert_eq!(
            draft("a@b.test", &"é".repeat(200)).validate(),
            Ok(()),
            "characters, not bytes"
        );
        assert!(
            draft("a@b.test", "Ann\u{7}")
                .validate()
                .unwrap_err()
                .contains("control")
        );
        let mut short = draft("a@b.test", "Ann");
        short.password = Some("short".into());
        assert!(short.validate().unwrap_err().contains("12"));
        let mut job = draft("a@b.test", "Ann");
        job.job_title = Some("x\ny".into());
        assert!(job.validate().is_err());
        for hidden in ["\u{202e}nnA", "An\u{200b}n", "\u{feff}Ann", "Ann\u{2066}"] {
            assert_eq!(
                draft("a@b.test", hidden).validate(),
                Err(format!("The name {}.", crate::text::NameError::Hidden)),
                "{hidden:?}"
            );
        }
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let mut d = draft("a@b.test", "Ann");
        d.password = Some("correct horse battery".into());
        assert!(!format!("{d:?}").contains("horse"));
    }

    #[test]
    fn audit_queries_keep_only_what_matters() {
        let query = AuditQuery {
            q: Some(" Megan B ".into()),
            kind: Some("role".into()),
            page: Some(2),
            per_page: None,
        };
        assert_eq!(query.to_query_string(), "q=Megan%20B&kind=role&page=2");
        let junk = AuditQuery {
            kind: Some("nope".into()),
            page: Some(1),
            ..AuditQuery::default()
        };
        assert_eq!(junk.kind(), None);
        assert_eq!(junk.to_query_string(), "");
        assert_eq!(junk.normalized(), (1, crate::directory::DEFAULT_PAGE_SIZE));
    }
}
