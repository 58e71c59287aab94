-- What the console reads fast on a table of millions of executions.
--
-- The executions list pages newest first by keyset (created_at, id): without a filter it walks
-- this index from the cursor, so a page costs the same on page 1 and page 10,000.
CREATE INDEX executions_created ON rhythm.executions (created_at DESC, id DESC);
-- The overview's completions and failures per minute over the last hour.
CREATE INDEX executions_completed_at ON rhythm.executions (completed_at)
    WHERE completed_at IS NOT NULL;

-- Live pages: one NOTIFY per statement on `rhythm_step` when workflows commit a step (payload:
-- their ids separated by commas, at most 200 per notification), so the console can refresh a
-- workflow's page as it suspends again. rhythm_done and rhythm_ready cover the rest.
CREATE FUNCTION rhythm.notify_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rhythm_step', string_agg(d.execution_id::text, ','))
    FROM (
        SELECT n.execution_id, (row_number() OVER ()) / 200 AS chunk FROM new_rows AS n
    ) AS d
    GROUP BY d.chunk;
    RETURN NULL;
END
$$;
CREATE TRIGGER workflow_state_insert_notify AFTER INSERT ON rhythm.workflow_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_step();
CREATE TRIGGER workflow_state_update_notify AFTER UPDATE ON rhythm.workflow_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_step();
