//! An audit entry in words: what was done, to what, and what changed
//! ("Permissions: added Take full control"), from the JSON the server
//! recorded before and after the change.

use super::time::readable_time;
use serde_json::Value;
use tandem_protocol::admin::AuditRecord;
use tandem_protocol::rbac::Permission;

/// An entry as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// "Created role", "Changed settings", …
    pub action: String,
    /// The object's name, or what it is when it has none.
    pub target: String,
    /// One line per fact (created, deleted) or per change (edited).
    pub details: Vec<String>,
}

/// Describes `record` in words.
pub fn describe(record: &AuditRecord) -> Described {
    #[allow(
        clippy::disallowed_methods,
        reason = "an audit record's before and after are read as untyped JSON"
    )]
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
    };
    let (before, after) = (parse(&record.before), parse(&record.after));
    let settings = record.object_type == "tenant_settings";
    let target = match record.object_type.as_str() {
        "tenant_settings" => "Organization settings".to_owned(),
        "import" => format!("{} (CSV)", capitalized(&record.object_id)),
        _ => record
            .object_name
            .clone()
            .unwrap_or_else(|| record.object_id.clone()),
    };
    let details = match (&before, &after) {
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            let (added, removed) = list_changes(old, new);
            let mut lines = Vec::new();
            if !added.is_empty() {
                lines.push(format!("Added {}", added.join(", ")));
            }
            if !removed.is_empty() {
                lines.push(format!("Removed {}", removed.join(", ")));
            }
            lines
        }
        (Some(old), Some(new)) => changes(old, new, settings),
        (None, Some(new)) if record.object_type == "import" => import_report(new),
        (None, Some(new)) => facts(new, settings),
        (Some(old), None) => facts(old, settings),
        (None, None) => Vec::new(),
    };
    let details = if details.is_empty() && before.is_some() && after.is_some() {
        vec!["Nothing changed.".to_owned()]
    } else {
        details
    };
    Described {
        action: action_words(&record.action),
        target,
        details,
    }
}

fn action_words(action: &str) -> String {
    let words = match action {
        "settings.update" => "Changed settings",
        "role.create" => "Created role",
        "role.update" => "Changed role",
        "role.delete" => "Deleted role",
        "assignment.create" => "Created assignment",
        "assignment.update" => "Changed assignment",
        "assignment.delete" => "Deleted assignment",
        "group.create" => "Created group",
        "group.delete" => "Deleted group",
        "group.members" => "Changed group members",
        "directory.import" => "Imported a CSV file",
        "user.create" => "Added user",
        "user.update" => "Changed user",
        "enrollment_token.create" => "Created enrollment token",
        "enrollment_token.revoke" => "Revoked enrollment token",
        other => return capitalized(&other.replace(['.', '_'], " ")),
    };
    words.to_owned()
}

/// Fields and their labels, in the order they are shown. Fields not named
/// here follow, in their own words ("sign_out_after_elevation" → "Sign out
/// after elevation").
const FIELDS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("display_name", "Name"),
    ("label", "Label"),
    ("email", "E-mail"),
    ("job_title", "Job title"),
    ("company", "Company"),
    ("password_set", "Password set"),
    ("description", "Description"),
    ("permissions", "Permissions"),
    ("role_name", "Role"),
    ("admin_groups", "Admin groups"),
    ("all_users", "All users"),
    ("all_devices", "All devices"),
    ("scope_groups", "Scope groups"),
    ("expires_at", "Expires"),
    ("revoked", "Revoked"),
    ("remote_help_enabled", "Remote help"),
    ("allow_unenrolled", "Help on unenrolled devices"),
    ("allow_unattended", "Unattended access"),
    ("code_lifetime_minutes", "Code lifetime (minutes)"),
    ("retention_days", "Keep session records (days)"),
    ("helper_name_display", "Helper's name shown to sharers"),
    ("chat_enabled", "Chat"),
    ("relay_only", "Relay only"),
    ("clipboard_enabled", "Clipboard"),
    ("annotation_enabled", "Annotation"),
    ("clipboard_max_bytes", "Clipboard limit (bytes)"),
    ("file_transfer_enabled", "File transfer"),
    ("file_max_mib", "File limit (MiB)"),
    ("timezone", "Time zone"),
    ("working_hours_start", "Working hours start"),
    ("working_hours_end", "Working hours end"),
    ("working_days", "Working days"),
    (
        "unusual_devices_per_day",
        "Unusual: devices per helper per day",
    ),
    (
        "unusual_failures_per_day",
        "Unusual: refusals or wrong codes per person per day",
    ),
];

/// Ids and flags that mean nothing to a reader.
const HIDDEN: &[&str] = &["id", "role_id", "user_id", "built_in", "password_changed"];

fn label(key: &str) -> String {
    FIELDS.iter().find(|(k, _)| *k == key).map_or_else(
        || capitalized(&key.replace('_', " ")),
        |(_, l)| (*l).to_owned(),
    )
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The object's fields in display order.
fn ordered(object: &serde_json::Map<String, Value>) -> Vec<&String> {
    let rank = |key: &str| {
        FIELDS
            .iter()
            .position(|(k, _)| *k == key)
            .unwrap_or(FIELDS.len())
    };
    let mut keys: Vec<&String> = object
        .keys()
        .filter(|k| !HIDDEN.contains(&k.as_str()))
        .collect();
    keys.sort_by_key(|k| (rank(k), (*k).clone()));
    keys
}

/// A created or deleted object's facts; its name is the target already.
fn facts(value: &Value, settings: bool) -> Vec<String> {
    let Value::Object(object) = value else {
        return Vec::new();
    };
    ordered(object)
        .into_iter()
        .filter(|k| !matches!(k.as_str(), "name" | "display_name" | "label"))
        .map(|key| format!("{}: {}", label(key), shown(key, &object[key], settings)))
        .collect()
}

/// What an import did.
fn import_report(value: &Value) -> Vec<String> {
    let count = |key| value.get(key).and_then(Value::as_u64).unwrap_or(0);
    vec![format!(
        "{} created, {} updated",
        count("created"),
        count("updated")
    )]
}

/// The fields that differ between `old` and `new`.
fn changes(old: &Value, new: &Value, settings: bool) -> Vec<String> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return vec![format!(
            "{} \u{2192} {}",
            shown("", old, settings),
            shown("", new, settings)
        )];
    };
    let mut lines = Vec::new();
    if new.get("password_changed") == Some(&Value::Bool(true)) {
        lines.push("Password changed".to_owned());
    }
    let mut keys = ordered(new);
    keys.extend(ordered(old).into_iter().filter(|k| !new.contains_key(*k)));
    for key in keys {
        let (before, after) = (
            old.get(key).unwrap_or(&Value::Null),
            new.get(key).unwrap_or(&Value::Null),
        );
        if before == after {
            continue;
        }
        let line = match (before, after) {
            (Value::Array(b), Value::Array(a)) => {
                let names =
                    |list: &[Value]| -> Vec<String> { list.iter().map(|v| item(key, v)).collect() };
                let (added, removed) = list_changes(b, a);
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("added {}", added.join(", ")));
                }
                if !removed.is_empty() {
                    parts.push(format!("removed {}", removed.join(", ")));
                }
                if parts.is_empty() {
                    // Same members, another order.
                    parts.push(names(a).join(", "));
                }
                format!("{}: {}", label(key), parts.join("; "))
            }
            _ => format!(
                "{}: {} \u{2192} {}",
                label(key),
                shown(key, before, settings),
                shown(key, after, settings)
            ),
        };
        lines.push(line);
    }
    lines
}

/// What was added to and removed from a list, by the names shown.
fn list_changes(old: &[Value], new: &[Value]) -> (Vec<String>, Vec<String>) {
    let names = |list: &[Value]| -> Vec<String> { list.iter().map(|v| item("", v)).collect() };
    let (old, new) = (names(old), names(new));
    let added = new.iter().filter(|n| !old.contains(n)).cloned().collect();
    let removed = old.iter().filter(|o| !new.contains(o)).cloned().collect();
    (added, removed)
}

/// One element of a list: a permission's label, an object's name.
fn item(_key: &str, value: &Value) -> String {
    match value {
        Value::String(text) => serde_json::from_value::<Permission>(value.clone())
            .map(|p| p.label().to_owned())
            .unwrap_or_else(|_| text.clone()),
        Value::Object(object) => ["display_name", "name", "label", "email"]
            .into_iter()
            .find_map(|k| object.get(k).and_then(Value::as_str))
            .map_or_else(|| value.to_string(), str::to_owned),
        other => shown("", other, false),
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One value in words.
fn shown(key: &str, value: &Value, settings: bool) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::Bool(on) => match (settings, on) {
            (true, true) => "on",
            (true, false) => "off",
            (false, true) => "yes",
            (false, false) => "no",
        }
        .to_owned(),
        Value::Number(number) => {
            let n = number.as_i64().unwrap_or_default();
            if key.ends_with("_at") {
                readable_time(n)
            } else if key.starts_with("working_hours") {
                format!("{:02}:{:02}", n / 60, n % 60)
            } else if key == "working_days" {
                let days: Vec<&str> = WEEKDAYS
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| n & (1 << bit) != 0)
                    .map(|(_, day)| *day)
                    .collect();
                if days.is_empty() {
                    "none".to_owned()
                } else {
                    days.join(", ")
                }
            } else {
                number.to_string()
            }
        }
        Value::String(text) if text.is_empty() => "none".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(list) if list.is_empty() => "none".to_owned(),
        Value::Array(list) => list
            .iter()
            .map(|v| item(key, v))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => item(key, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::{UnixMillis, UserId};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn record(action: &str, kind: &str, before: Option<&str>, after: Option<&str>) -> AuditRecord {
        AuditRecord {
            id: "e".into(),
            at: UnixMillis(0),
            actor_id: UserId::from("u"),
            actor_name: "Adele Vance".into(),
            action: action.into(),
            object_type: kind.into(),
            object_id: "o".into(),
            object_name: Some("Night shift".into()),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    #[wasm_bindgen_test]
    fn a_changed_role_says_which_permissions_came_and_went() {
        let d = describe(&record(
            "role.update",
            "role",
            Some(
                r#"{"id":"r","name":"Night shift","description":"","permissions":["view_screen","elevation"],"built_in":false}"#,
            ),
            Some(
                r#"{"id":"r","name":"Night shift","description":"After hours","permissions":["view_screen","take_full_control"],"built_in":false}"#,
            ),
        ));
        assert_eq!(d.action, "Changed role");
        assert_eq!(d.target, "Night shift");
        assert_eq!(
            d.details,
            [
                "Description: none \u{2192} After hours",
                "Permissions: added Take full control; removed Elevation",
            ]
        );
    }

    #[wasm_bindgen_test]
    fn settings_and_created_objects_read_as_words() {
        let d = describe(&record(
            "settings.update",
            "tenant_settings",
            Some(
                r#"{"remote_help_enabled":true,"working_days":31,"sign_out_after_elevation":true}"#,
            ),
            Some(
                r#"{"remote_help_enabled":false,"working_days":96,"sign_out_after_elevation":true}"#,
            ),
        ));
        assert_eq!(d.target, "Organization settings");
        assert_eq!(
            d.details,
            [
                "Remote help: on \u{2192} off",
                "Working days: Mon, Tue, Wed, Thu, Fri \u{2192} Sat, Sun"
            ]
        );
        let d = describe(&record(
            "assignment.create",
            "assignment",
            None,
            Some(
                r#"{"id":"a","name":"Night shift","role_id":"x","role_name":"Remote Help Viewer","admin_groups":[{"id":"g","name":"Help Desk"}],"all_users":true,"all_devices":false,"scope_groups":[]}"#,
            ),
        ));
        assert_eq!(d.action, "Created assignment");
        assert_eq!(
            d.details,
            [
                "Role: Remote Help Viewer",
                "Admin groups: Help Desk",
                "All users: yes",
                "All devices: no",
                "Scope groups: none",
            ]
        );
    }

    #[wasm_bindgen_test]
    fn members_users_and_imports() {
        let d = describe(&record(
            "group.members",
            "group",
            Some(
                r#"[{"user_id":"1","display_name":"Diego Siciliani","email":"d@c.test","from_idp":false}]"#,
            ),
            Some(
                r#"[{"user_id":"2","display_name":"Lynne Robbins","email":"l@c.test","from_idp":false}]"#,
            ),
        ));
        assert_eq!(
            d.details,
            ["Added Lynne Robbins", "Removed Diego Siciliani"]
        );
        let d = describe(&record(
            "user.update",
            "user",
            Some(
                r#"{"email":"n@c.test","display_name":"Nestor","job_title":null,"company":null,"password_set":true}"#,
            ),
            Some(
                r#"{"email":"n@c.test","display_name":"Nestor W","job_title":null,"company":null,"password_set":true,"password_changed":true}"#,
            ),
        ));
        assert_eq!(
            d.details,
            ["Password changed", "Name: Nestor \u{2192} Nestor W"]
        );
        let mut import = record(
            "directory.import",
            "import",
            None,
            Some(r#"{"created":3,"updated":1,"problems":[]}"#),
        );
        import.object_id = "devices".into();
        let d = describe(&import);
        assert_eq!(
            (d.action.as_str(), d.target.as_str()),
            ("Imported a CSV file", "Devices (CSV)")
        );
        assert_eq!(d.details, ["3 created, 1 updated"]);
        assert_eq!(action_words("thing.did_it"), "Thing did it");
    }
}
