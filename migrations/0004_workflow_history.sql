-- Time travel: every snapshot a workflow commits at a suspension is kept, numbered by its step,
-- so the console can step back and forth through a workflow's past (the source line and the
-- variables at each suspension). Copied by triggers on rhythm.workflow_state, which every step's
-- commit writes (finish_step), so the stepper itself is unchanged. Pruned with the execution
-- (ON DELETE CASCADE); a finished workflow keeps its history until then.
CREATE TABLE rhythm.workflow_history (
    execution_id uuid        NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    step         bigint      NOT NULL,
    version_hash text        NOT NULL,
    state        jsonb       NOT NULL,
    waiting_on   integer[]   NOT NULL,
    saved_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (execution_id, step)
);

-- `rhythm.history` setting: 'off' turns the copy off for a session or a role/database
-- (ALTER DATABASE ... SET rhythm.history = 'off'); on by default.
CREATE FUNCTION rhythm.keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('rhythm.history', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    INSERT INTO rhythm.workflow_history (execution_id, step, version_hash, state, waiting_on)
    SELECT n.execution_id, n.steps, n.version_hash, n.state, n.waiting_on FROM new_rows AS n
    ON CONFLICT (execution_id, step) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER workflow_state_insert_history AFTER INSERT ON rhythm.workflow_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.keep_history();
CREATE TRIGGER workflow_state_update_history AFTER UPDATE ON rhythm.workflow_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.keep_history();
