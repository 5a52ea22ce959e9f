-- File transfer between helper and device (issue 23): the tenant's switch
-- (off until an admin turns it on) and size limit, and per session the
-- count and total size of files moved each way (never names or content).
-- SQLite: 0013_files.sql.
ALTER TABLE tenant_settings ADD COLUMN file_transfer_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenant_settings ADD COLUMN file_max_mib BIGINT NOT NULL DEFAULT 100;
ALTER TABLE session_reports ADD COLUMN files_to_device BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN files_from_device BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN file_bytes_to_device BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN file_bytes_from_device BIGINT NOT NULL DEFAULT 0;
