-- "Relay only" (issue 22): both ends use only TURN relay candidates
-- (SQLite: 0011_relay_only.sql).
ALTER TABLE tenant_settings ADD COLUMN relay_only BIGINT NOT NULL DEFAULT 0;
