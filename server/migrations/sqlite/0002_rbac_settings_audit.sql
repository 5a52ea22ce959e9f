-- Tenant settings, custom roles, role assignments, device groups, audit log.
-- Built-in roles are defined in code (server/src/rbac/builtin.rs) so that
-- upgrades can extend them; assignments refer to them by their fixed ids.

CREATE TABLE tenant_settings (
    tenant_id             TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    remote_help_enabled   INTEGER NOT NULL DEFAULT 1,
    allow_unenrolled      INTEGER NOT NULL DEFAULT 0,
    allow_unattended      INTEGER NOT NULL DEFAULT 0,
    code_lifetime_minutes INTEGER NOT NULL DEFAULT 10 CHECK (code_lifetime_minutes BETWEEN 1 AND 10),
    retention_days        INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    helper_name_display   TEXT NOT NULL DEFAULT 'full' CHECK (helper_name_display IN ('full', 'abbreviated')),
    chat_enabled          INTEGER NOT NULL DEFAULT 1,
    annotation_enabled    INTEGER NOT NULL DEFAULT 1,
    clipboard_enabled     INTEGER NOT NULL DEFAULT 0,
    updated_at            INTEGER NOT NULL
);

CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL,              -- JSON list of permission names
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE assignments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    role_id     TEXT NOT NULL,              -- a built-in id or custom_roles.id
    all_users   INTEGER NOT NULL DEFAULT 0,
    all_devices INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX assignments_tenant ON assignments(tenant_id);

CREATE TABLE assignment_admin_groups (
    assignment_id TEXT NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    group_id      TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (assignment_id, group_id)
);

CREATE TABLE assignment_scope_groups (
    assignment_id TEXT NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    group_id      TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (assignment_id, group_id)
);

CREATE TABLE group_devices (
    group_id  TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, device_id)
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,              -- e.g. role.create, settings.update
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before_json TEXT,                       -- NULL when created
    after_json  TEXT,                       -- NULL when deleted
    at          INTEGER NOT NULL
);
CREATE INDEX audit_log_tenant_at ON audit_log(tenant_id, at);

-- Every existing tenant gets the default settings.
INSERT INTO tenant_settings (tenant_id, updated_at) SELECT id, created_at FROM tenants;
