-- The whole schema for PostgreSQL, equal to the SQLite migrations 0001 to
-- 0008 applied in order (see migrations/sqlite for what each column means).
-- A PostgreSQL database starts here; later changes get a migration in both
-- folders.
--
-- Conventions, so that one row decoding serves both backends:
-- - times are BIGINT milliseconds since the Unix epoch (unless *_secs);
-- - booleans are BIGINT 0/1, bound from Rust as i64;
-- - every integer is BIGINT, which the store decodes as i64.
-- Columns are in SQLite's order (added columns last).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email           TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    given_name      TEXT,
    family_name     TEXT,
    job_title       TEXT,
    company         TEXT,
    verified_domain TEXT,
    photo_url       TEXT,
    password_hash   TEXT,
    created_at      BIGINT NOT NULL,
    idp_issuer      TEXT,
    idp_subject     TEXT
);
CREATE INDEX users_tenant ON users(tenant_id);
CREATE UNIQUE INDEX users_idp_identity ON users(idp_issuer, idp_subject);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source      TEXT NOT NULL DEFAULT 'console' CHECK (source IN ('console', 'idp')),
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    os              TEXT NOT NULL,
    os_version      TEXT NOT NULL,
    primary_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    enrolled        BIGINT NOT NULL,
    compliance      TEXT NOT NULL CHECK (compliance IN ('compliant', 'non_compliant', 'unknown')),
    last_seen       BIGINT,
    agent_version   TEXT,
    created_at      BIGINT NOT NULL,
    CHECK (enrolled = 1 OR compliance = 'non_compliant')
);
CREATE INDEX devices_tenant_name ON devices(tenant_id, name);

CREATE TABLE web_sessions (
    id              TEXT PRIMARY KEY,
    data            TEXT NOT NULL,
    expires_at_secs BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at_secs);

CREATE TABLE tenant_settings (
    tenant_id                TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    remote_help_enabled      BIGINT NOT NULL DEFAULT 1,
    allow_unenrolled         BIGINT NOT NULL DEFAULT 0,
    allow_unattended         BIGINT NOT NULL DEFAULT 0,
    code_lifetime_minutes    BIGINT NOT NULL DEFAULT 10 CHECK (code_lifetime_minutes BETWEEN 1 AND 10),
    retention_days           BIGINT NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    helper_name_display      TEXT NOT NULL DEFAULT 'full' CHECK (helper_name_display IN ('full', 'abbreviated')),
    chat_enabled             BIGINT NOT NULL DEFAULT 1,
    annotation_enabled       BIGINT NOT NULL DEFAULT 1,
    clipboard_enabled        BIGINT NOT NULL DEFAULT 0,
    updated_at               BIGINT NOT NULL,
    timezone                 TEXT NOT NULL DEFAULT 'UTC',
    working_hours_start      BIGINT NOT NULL DEFAULT 480,
    working_hours_end        BIGINT NOT NULL DEFAULT 1080,
    working_days             BIGINT NOT NULL DEFAULT 31,
    unusual_devices_per_day  BIGINT NOT NULL DEFAULT 10,
    unusual_failures_per_day BIGINT NOT NULL DEFAULT 3,
    sign_out_after_elevation BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE assignments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    role_id     TEXT NOT NULL,
    all_users   BIGINT NOT NULL DEFAULT 0,
    all_devices BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
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
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant_at ON audit_log(tenant_id, at);

CREATE TABLE remote_sessions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    helper_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sharer_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    device_id       TEXT REFERENCES devices(id) ON DELETE SET NULL,
    state           TEXT NOT NULL,
    code_hash       TEXT UNIQUE,
    code_expires_at BIGINT,
    reconnects      BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    via_agent       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX remote_sessions_tenant_created ON remote_sessions (tenant_id, created_at);
CREATE INDEX remote_sessions_live ON remote_sessions (ended_at);

CREATE TABLE session_events (
    session_id  TEXT NOT NULL REFERENCES remote_sessions(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    actor_id    TEXT,
    event       TEXT NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE device_keys (
    device_id         TEXT PRIMARY KEY,
    public_key        TEXT NOT NULL UNIQUE,
    tenant_id         TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    enrolled          BIGINT NOT NULL,
    name              TEXT NOT NULL,
    os                TEXT NOT NULL,
    os_version        TEXT NOT NULL,
    agent_version     TEXT NOT NULL,
    signed_in_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE enrollment_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    uses         BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT
);
CREATE INDEX enrollment_tokens_tenant ON enrollment_tokens (tenant_id);

CREATE TABLE session_reports (
    session_id      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    helper_id       TEXT NOT NULL,
    helper_name     TEXT NOT NULL,
    sharer_id       TEXT,
    sharer_name     TEXT,
    device_id       TEXT,
    device_name     TEXT,
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    local_day       TEXT NOT NULL,
    local_weekday   BIGINT NOT NULL,
    local_minute    BIGINT NOT NULL,
    outcome         TEXT NOT NULL DEFAULT 'active',
    outcome_detail  TEXT,
    ended_by        TEXT,
    ended_by_id     TEXT,
    ended_by_name   TEXT,
    view_ms         BIGINT NOT NULL DEFAULT 0,
    control_ms      BIGINT NOT NULL DEFAULT 0,
    paused_ms       BIGINT NOT NULL DEFAULT 0,
    segment         TEXT,
    segment_since   BIGINT,
    elevation_used  BIGINT NOT NULL DEFAULT 0,
    pause_used      BIGINT NOT NULL DEFAULT 0,
    chat_used       BIGINT NOT NULL DEFAULT 0,
    annotation_used BIGINT NOT NULL DEFAULT 0,
    reconnects      BIGINT NOT NULL DEFAULT 0,
    ticket          TEXT,
    elevation_held  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX session_reports_tenant_day ON session_reports (tenant_id, local_day);
CREATE INDEX session_reports_tenant_started ON session_reports (tenant_id, started_at);
CREATE INDEX session_reports_live ON session_reports (tenant_id, ended_at);

CREATE TABLE code_failures (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    local_day   TEXT NOT NULL,
    kind        TEXT NOT NULL
);
CREATE INDEX code_failures_tenant_day ON code_failures (tenant_id, local_day);
CREATE INDEX code_failures_at ON code_failures (at);
