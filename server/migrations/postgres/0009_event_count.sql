-- How many events a session's log holds, which is the number of its last.
-- The transition's update of the row moves it, so a transition finds its
-- number in the row it holds (store/session_writes.rs), and on PostgreSQL
-- two transitions that keep the state cannot take the same number. A
-- transition raises it to the log's last number first when that is higher
-- (a replica of the version before logs without moving it).
ALTER TABLE remote_sessions ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0;
UPDATE remote_sessions SET event_count =
    (SELECT COALESCE(MAX(seq), 0) FROM session_events WHERE session_events.session_id = remote_sessions.id);
