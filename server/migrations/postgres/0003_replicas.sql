-- Several replicas on one database (issue 21). Live state that must be
-- shared lives here; changes to it travel as LISTEN/NOTIFY messages.

-- Each running replica, with the backend process of its lifeline
-- connection: a replica whose process is gone from pg_stat_activity, or
-- that has not been seen for a while, is dead.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    lifeline_pid INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    -- When the current lifeline registered, by the database's clock: a
    -- backend that started later under the same pid is someone else's.
    registered_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- Open sockets of every replica: a signaling connection to a session, or
-- an agent's control connection of a device. A replica starting (or whose
-- listener lost messages) reads them to know who is connected elsewhere.
CREATE TABLE live_presence (
    replica_id TEXT NOT NULL,
    conn BIGINT NOT NULL,
    tenant_id TEXT,
    session_id TEXT,
    party TEXT,
    device_id TEXT,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (replica_id, conn)
);

-- Bus messages too large for a NOTIFY payload (8000 bytes): the
-- notification carries the row's id. Rows older than a minute are deleted.
CREATE TABLE bus_payloads (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
