-- Eager dispatch and eager resume (see the `claim_woken` statement and docs/workflows.md).
--
-- A worker that finishes a task of a workflow it can step claims the workflow in the same
-- transaction, instead of leaving it in rhythm.ready for any worker to claim after a NOTIFY. The
-- wake-up (trigger workflow_results_wake) still inserts the ready row, which `claim_woken` takes
-- back at once; announcing it would wake every worker for a row that is already gone. So a
-- transaction may hold back the ready notifications of its own inserts with the transaction-local
-- setting `rhythm.hold_ready_notify = 'on'`, and then announces, itself, the queues of whatever
-- it left in rhythm.ready (statement `notify_left_ready`). Nothing else changes: without the
-- setting every insert into rhythm.ready is announced as before.
CREATE OR REPLACE FUNCTION rhythm.notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rhythm.hold_ready_notify', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('rhythm_ready', q.queue) FROM (SELECT DISTINCT queue FROM new_rows) AS q;
    RETURN NULL;
END
$$;

-- A step's commit is sent as one round trip (BEGIN, lock, effects, finish, COMMIT) instead of
-- reading the lock's answer before deciding to commit: statement `lock_step_or_fail` calls this
-- when the attempt was fenced out, and the error (SQLSTATE RH001) aborts the transaction, so
-- nothing of the step is stored. The worker reads RH001 as "fenced out", not as a failure.
CREATE FUNCTION rhythm.fenced_out(execution_id uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the step of workflow % was fenced out (lease lost or cancelled)',
        execution_id USING ERRCODE = 'RH001';
END
$$;
