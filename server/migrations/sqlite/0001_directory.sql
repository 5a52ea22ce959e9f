-- Tenants, their directory (users, groups, devices) and web sessions.
-- Times are integer milliseconds since the Unix epoch unless named *_secs.
-- Booleans are INTEGER 0/1 so that the same row decoding serves PostgreSQL.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email           TEXT NOT NULL UNIQUE,   -- stored lower-case
    display_name    TEXT NOT NULL,
    given_name      TEXT,
    family_name     TEXT,
    job_title       TEXT,
    company         TEXT,
    verified_domain TEXT,
    photo_url       TEXT,
    password_hash   TEXT,                   -- argon2id PHC string; NULL = no built-in sign-in
    created_at      INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users(tenant_id);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    os              TEXT NOT NULL,
    os_version      TEXT NOT NULL,
    primary_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    enrolled        INTEGER NOT NULL,
    compliance      TEXT NOT NULL CHECK (compliance IN ('compliant', 'non_compliant', 'unknown')),
    last_seen       INTEGER,
    agent_version   TEXT,
    created_at      INTEGER NOT NULL,
    -- Unenrolled devices are always non-compliant.
    CHECK (enrolled = 1 OR compliance = 'non_compliant')
);
CREATE INDEX devices_tenant_name ON devices(tenant_id, name);

CREATE TABLE web_sessions (
    id              TEXT PRIMARY KEY,
    data            TEXT NOT NULL,          -- JSON map, tower-sessions record data
    expires_at_secs INTEGER NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at_secs);
