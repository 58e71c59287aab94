-- Restart from here: a new workflow execution started from a kept snapshot of another one (any
-- step of its history, or the last snapshot of a failed workflow), on the same version.
-- (rhythm.client.restarting plans it; restart_* in queries.sql store it.)
--
-- The link: which execution and which step a restart began from (NULL: started normally). No
-- foreign key: pruning the original must not touch (or wait on) its restarts; a page showing
-- the link says when the original is gone.
ALTER TABLE rhythm.executions
    ADD COLUMN restarted_from uuid,
    ADD COLUMN restarted_from_step bigint,
    ADD CONSTRAINT executions_restarted_from_step
        CHECK ((restarted_from IS NULL) = (restarted_from_step IS NULL));
CREATE INDEX executions_restarted_from ON rhythm.executions (restarted_from, created_at)
    WHERE restarted_from IS NOT NULL;

-- A snapshot holds which handles were still pending, and their kind and name, but not when a
-- timer was due: rhythm.timers rows are deleted as they fire. So every timer a workflow arms
-- (Timer.delay / Timer.until, and a Signal.when's timeout) is kept here too, for as long as the
-- history: a restart re-arms a pending timer at its original time (at once if that has passed).
-- Copied by a trigger, like the history (migration 0004), and off with it (rhythm.history).
CREATE TABLE rhythm.timer_history (
    execution_id    uuid             NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    handle          integer          NOT NULL,
    kind            text             NOT NULL,
    fire_at         timestamptz      NOT NULL,
    signal_name     text,
    timeout_seconds double precision,
    PRIMARY KEY (execution_id, handle)
);

CREATE FUNCTION rhythm.keep_timer_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('rhythm.history', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    INSERT INTO rhythm.timer_history
        (execution_id, handle, kind, fire_at, signal_name, timeout_seconds)
    SELECT n.execution_id, n.handle, n.kind, n.fire_at, n.signal_name, n.timeout_seconds
    FROM new_rows AS n
    ON CONFLICT (execution_id, handle) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER timers_insert_history AFTER INSERT ON rhythm.timers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.keep_timer_history();
