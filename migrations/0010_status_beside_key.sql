-- The wake-up finds its workflows by id and checks their status on the rows it found (see
-- "Status beside a key" in rhythm/client/sql/queries.sql): with `e.status = 'suspended'` a
-- cached plan made while few workflows were suspended walks the (status, created_at) index
-- instead, reading every suspended workflow to wake one. Otherwise unchanged from 0002.
CREATE OR REPLACE FUNCTION rhythm.wake_workflows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    WITH woken AS (
        UPDATE rhythm.executions AS e
        SET status = 'pending'
        FROM rhythm.workflow_state AS s
        WHERE e.id = ANY (ARRAY(SELECT DISTINCT execution_id FROM new_rows))
          AND e.status IS NOT DISTINCT FROM 'suspended'
          AND s.execution_id = e.id
          AND EXISTS (
              SELECT FROM new_rows AS n
              WHERE n.execution_id = e.id AND n.handle = ANY (s.waiting_on)
          )
        RETURNING e.id, e.queue, e.priority
    )
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM woken ORDER BY id
    ON CONFLICT (execution_id) DO NOTHING;
    RETURN NULL;
END
$$;
