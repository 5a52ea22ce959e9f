-- The configuration epoch: one number that every change to what the
-- settings and the RBAC resolver read moves forward, in the change's own
-- transaction (triggers, so no write path can forget it). Each server keeps
-- those reads in memory and uses them while the epoch is unchanged: one
-- primary-key read instead of up to eight per request, and a change is
-- seen by every replica's next read, as before.
CREATE TABLE config_epoch (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO config_epoch (id, version) VALUES (1, 0);

CREATE TRIGGER tenant_settings_insert_moves_config_epoch AFTER INSERT ON tenant_settings
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER tenant_settings_update_moves_config_epoch AFTER UPDATE ON tenant_settings
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER tenant_settings_delete_moves_config_epoch AFTER DELETE ON tenant_settings
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER custom_roles_insert_moves_config_epoch AFTER INSERT ON custom_roles
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER custom_roles_update_moves_config_epoch AFTER UPDATE ON custom_roles
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER custom_roles_delete_moves_config_epoch AFTER DELETE ON custom_roles
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignments_insert_moves_config_epoch AFTER INSERT ON assignments
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignments_update_moves_config_epoch AFTER UPDATE ON assignments
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignments_delete_moves_config_epoch AFTER DELETE ON assignments
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_admin_groups_insert_moves_config_epoch AFTER INSERT ON assignment_admin_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_admin_groups_update_moves_config_epoch AFTER UPDATE ON assignment_admin_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_admin_groups_delete_moves_config_epoch AFTER DELETE ON assignment_admin_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_scope_groups_insert_moves_config_epoch AFTER INSERT ON assignment_scope_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_scope_groups_update_moves_config_epoch AFTER UPDATE ON assignment_scope_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER assignment_scope_groups_delete_moves_config_epoch AFTER DELETE ON assignment_scope_groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER groups_insert_moves_config_epoch AFTER INSERT ON groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER groups_update_moves_config_epoch AFTER UPDATE ON groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER groups_delete_moves_config_epoch AFTER DELETE ON groups
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_insert_moves_config_epoch AFTER INSERT ON group_members
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_update_moves_config_epoch AFTER UPDATE ON group_members
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_delete_moves_config_epoch AFTER DELETE ON group_members
BEGIN UPDATE config_epoch SET version = version + 1 WHERE id = 1; END;
