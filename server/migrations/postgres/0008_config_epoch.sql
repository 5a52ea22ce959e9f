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

-- The epoch moves once per transaction, at its commit: the triggers are
-- deferred constraint triggers, and the first to fire marks the
-- transaction (a transaction-local setting) so that the others skip. A
-- 10 000-line import therefore updates the row once, and holds its lock
-- only while it commits, not for the whole transaction.
CREATE FUNCTION move_config_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tandem.config_epoch_moved', true) IS DISTINCT FROM 'yes' THEN
        UPDATE config_epoch SET version = version + 1 WHERE id = 1;
        PERFORM set_config('tandem.config_epoch_moved', 'yes', true);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tenant_settings_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON tenant_settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER custom_roles_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON custom_roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER assignments_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER assignment_admin_groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignment_admin_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER assignment_scope_groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON assignment_scope_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER groups_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();

CREATE CONSTRAINT TRIGGER group_members_moves_config_epoch AFTER INSERT OR UPDATE OR DELETE ON group_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_config_epoch();
