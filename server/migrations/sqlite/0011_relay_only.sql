-- "Relay only" (issue 22): organizations that forbid peer-to-peer traffic
-- have both ends use only the TURN server's relay candidates.
ALTER TABLE tenant_settings ADD COLUMN relay_only INTEGER NOT NULL DEFAULT 0;
