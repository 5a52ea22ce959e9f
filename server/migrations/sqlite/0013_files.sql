-- File transfer between helper and device (issue 23): the tenant's switch
-- (off until an admin turns it on) and size limit, and per session the
-- count and total size of files moved each way (never names or content).
-- PostgreSQL: 0007_files.sql.
ALTER TABLE tenant_settings ADD COLUMN file_transfer_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenant_settings ADD COLUMN file_max_mib INTEGER NOT NULL DEFAULT 100;
ALTER TABLE session_reports ADD COLUMN files_to_device INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN files_from_device INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN file_bytes_to_device INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_reports ADD COLUMN file_bytes_from_device INTEGER NOT NULL DEFAULT 0;
