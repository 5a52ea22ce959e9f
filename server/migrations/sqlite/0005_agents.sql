-- Sharer agents: their device keys, enrollment tokens, and sessions whose
-- screen an agent shares.

-- One row per registered agent key. A device row (devices) exists once the
-- tenant is known: at once for an enrolled agent, at the first pairing for
-- an unenrolled one.
CREATE TABLE device_keys (
    device_id         TEXT PRIMARY KEY,
    public_key        TEXT NOT NULL UNIQUE,   -- base64url Ed25519 key
    tenant_id         TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    enrolled          INTEGER NOT NULL,
    name              TEXT NOT NULL,
    os                TEXT NOT NULL,
    os_version        TEXT NOT NULL,
    agent_version     TEXT NOT NULL,
    -- The sharer signed in on the device, bound by the last pairing.
    signed_in_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL
);

CREATE TABLE enrollment_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,         -- hex SHA-256 of the token
    label       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX enrollment_tokens_tenant ON enrollment_tokens (tenant_id);

ALTER TABLE remote_sessions ADD COLUMN via_agent INTEGER NOT NULL DEFAULT 0;
