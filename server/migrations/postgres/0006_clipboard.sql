-- Clipboard text between helper and device (issue 23): the tenant's
-- limit (its switch, clipboard_enabled, has been there since the first
-- schema, unread until now), and how often each direction was used in a
-- session (never the text). SQLite: 0012_clipboard.sql.
ALTER TABLE tenant_settings ADD COLUMN clipboard_max_bytes BIGINT NOT NULL DEFAULT 1048576;
ALTER TABLE session_reports ADD COLUMN clipboard_to_device BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN clipboard_from_device BIGINT NOT NULL DEFAULT 0;
-- A tenant that turned the old, unbuilt switch on did not choose what it
-- now does: every tenant starts with the clipboard off.
UPDATE tenant_settings SET clipboard_enabled = 0;
