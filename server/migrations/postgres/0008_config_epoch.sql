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

CREATE FUNCTION move_config_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_epoch SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenant_settings_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON tenant_settings
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER custom_roles_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON custom_roles
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER assignments_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER assignment_admin_groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignment_admin_groups
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER assignment_scope_groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignment_scope_groups
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE TRIGGER group_members_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION move_config_epoch();
