-- Two admins editing one role (issue 21): each edit is a compare-and-set
-- on the version it read, so a raced edit is refused instead of silently
-- overwriting the other, and the audit entry's "before" is exact.
ALTER TABLE custom_roles ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
