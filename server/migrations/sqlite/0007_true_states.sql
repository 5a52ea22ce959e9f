-- States that are always true (issue 17).
--
-- "Elevation used" meant "the helper held Elevation while in full
-- control". It now means what it says: the agent followed a UAC or
-- secure-desktop prompt for the helper. Holding the permission is kept
-- apart as `elevation_held`. Records from before cannot know whether
-- elevation was used, so they keep only what they knew: it was held.
ALTER TABLE session_reports ADD COLUMN elevation_held INTEGER NOT NULL DEFAULT 0;
UPDATE session_reports SET elevation_held = elevation_used, elevation_used = 0;

-- Sign the sharer out after a session that used elevation with full
-- control (Intune's behaviour); a tenant may turn it off.
ALTER TABLE tenant_settings ADD COLUMN sign_out_after_elevation INTEGER NOT NULL DEFAULT 1;

-- The annotation and clipboard switches stood for tools that did not
-- exist. The columns stay (SQLite keeps dropped columns' data in old
-- backups anyway); nothing reads them until the tools are built.
