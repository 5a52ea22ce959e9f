-- Two admins editing one role (issue 21): each edit is a compare-and-set
-- on the version it read (SQLite: 0009_role_versions.sql).
ALTER TABLE custom_roles ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
