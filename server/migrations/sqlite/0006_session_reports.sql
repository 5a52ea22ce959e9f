-- Session records for reports (issue 7). One row per session, written in
-- the same transaction as every transition of the session. Names are kept
-- as they were, so a record outlives the user or device it names; only the
-- tenant's retention (or the tenant's deletion) removes it. Facts only:
-- never a screen image, a keystroke, chat text or clipboard content.

CREATE TABLE session_reports (
    session_id      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    helper_id       TEXT NOT NULL,
    helper_name     TEXT NOT NULL,
    sharer_id       TEXT,
    sharer_name     TEXT,
    device_id       TEXT,
    device_name     TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    -- The tenant-local start: day (YYYY-MM-DD), weekday (0 = Monday) and
    -- minute of the day, in the tenant's time zone when the session began.
    local_day       TEXT NOT NULL,
    local_weekday   INTEGER NOT NULL,
    local_minute    INTEGER NOT NULL,
    outcome         TEXT NOT NULL DEFAULT 'active',
    outcome_detail  TEXT,
    ended_by        TEXT,
    ended_by_id     TEXT,
    ended_by_name   TEXT,
    -- Time per mode; `segment` is what the clock is counting now, since
    -- `segment_since` (view | control | paused | NULL).
    view_ms         INTEGER NOT NULL DEFAULT 0,
    control_ms      INTEGER NOT NULL DEFAULT 0,
    paused_ms       INTEGER NOT NULL DEFAULT 0,
    segment         TEXT,
    segment_since   INTEGER,
    elevation_used  INTEGER NOT NULL DEFAULT 0,
    pause_used      INTEGER NOT NULL DEFAULT 0,
    chat_used       INTEGER NOT NULL DEFAULT 0,
    annotation_used INTEGER NOT NULL DEFAULT 0,
    reconnects      INTEGER NOT NULL DEFAULT 0,
    ticket          TEXT
);
CREATE INDEX session_reports_tenant_day ON session_reports (tenant_id, local_day);
CREATE INDEX session_reports_tenant_started ON session_reports (tenant_id, started_at);
CREATE INDEX session_reports_live ON session_reports (tenant_id, ended_at);

-- Wrong, expired or used codes entered by a signed-in person: the facts
-- behind "repeated code failures" (never the code itself).
CREATE TABLE code_failures (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    local_day   TEXT NOT NULL,
    kind        TEXT NOT NULL            -- wrong | expired | used
);
CREATE INDEX code_failures_tenant_day ON code_failures (tenant_id, local_day);
CREATE INDEX code_failures_at ON code_failures (at);

ALTER TABLE tenant_settings ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE tenant_settings ADD COLUMN working_hours_start INTEGER NOT NULL DEFAULT 480;
ALTER TABLE tenant_settings ADD COLUMN working_hours_end INTEGER NOT NULL DEFAULT 1080;
ALTER TABLE tenant_settings ADD COLUMN working_days INTEGER NOT NULL DEFAULT 31;
ALTER TABLE tenant_settings ADD COLUMN unusual_devices_per_day INTEGER NOT NULL DEFAULT 10;
ALTER TABLE tenant_settings ADD COLUMN unusual_failures_per_day INTEGER NOT NULL DEFAULT 3;

-- Sessions from before this migration get a record: names as they are
-- now, days in UTC, outcome from the stored state, no time per mode.
INSERT INTO session_reports (session_id, tenant_id, helper_id, helper_name, sharer_id,
    sharer_name, device_id, device_name, started_at, ended_at, local_day, local_weekday,
    local_minute, outcome, reconnects)
SELECT s.id, s.tenant_id, s.helper_id, COALESCE(h.display_name, s.helper_id), s.sharer_id,
    sh.display_name, s.device_id, d.name, s.created_at, s.ended_at,
    strftime('%Y-%m-%d', s.created_at / 1000, 'unixepoch'),
    (CAST(strftime('%w', s.created_at / 1000, 'unixepoch') AS INTEGER) + 6) % 7,
    CAST(strftime('%H', s.created_at / 1000, 'unixepoch') AS INTEGER) * 60
        + CAST(strftime('%M', s.created_at / 1000, 'unixepoch') AS INTEGER),
    CASE
        WHEN json_extract(s.state, '$.state') <> 'ended' THEN 'active'
        ELSE COALESCE(json_extract(s.state, '$.reason.outcome'), 'failed')
    END,
    s.reconnects
FROM remote_sessions s
LEFT JOIN users h ON h.id = s.helper_id
LEFT JOIN users sh ON sh.id = s.sharer_id
LEFT JOIN devices d ON d.id = s.device_id;
