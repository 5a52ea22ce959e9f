-- Remote-help sessions and their transitions, and the server's own secrets.
-- A session row is the record the reports read; every transition appends a
-- row to session_events in the same transaction as the state change.

CREATE TABLE remote_sessions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    helper_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sharer_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    device_id       TEXT REFERENCES devices(id) ON DELETE SET NULL,
    state           TEXT NOT NULL,          -- JSON of sessions::machine::State
    code_hash       TEXT UNIQUE,            -- hex HMAC-SHA-256 of the code
    code_expires_at INTEGER,
    reconnects      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    ended_at        INTEGER
);
CREATE INDEX remote_sessions_tenant_created ON remote_sessions (tenant_id, created_at);
CREATE INDEX remote_sessions_live ON remote_sessions (ended_at);

CREATE TABLE session_events (
    session_id  TEXT NOT NULL REFERENCES remote_sessions(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,              -- helper | sharer | system
    actor_id    TEXT,                       -- the user, when a person acted
    event       TEXT NOT NULL,              -- JSON of sessions::machine::Event (or a note)
    state       TEXT NOT NULL,              -- JSON of the state after the event
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,               -- hex
    created_at INTEGER NOT NULL
);
