-- Durable workflows: what a suspended workflow waits on, and the rules that wake it.
--
-- A workflow execution is stepped by a worker (claimed through rhythm.ready like a task). A step
-- resumes the VM with every result in the workflow's inbox (rhythm.workflow_results) and commits
-- the new snapshot, its effects and its status in one transaction (see the step statements in
-- queries.sql). Everything that can resolve an awaited handle arrives as one inbox row:
--   a child execution (task or workflow) finished       trigger executions_deliver_to_parent
--   a timer (or a signal wait's timeout) came due       statement fire_timers
--   a signal was matched to a wait, in the order sent   trigger signals_match / signal_waits_match
-- and one rule turns an inbox row into a wake-up: trigger workflow_results_wake makes a suspended
-- workflow that awaits the handle pending and ready. A workflow whose step is running is not
-- touched: its commit (finish_step) finds the row and makes it ready again, so nothing is lost.
-- Every one of these paths holds the workflow's executions row lock (the statements take it up
-- front, in the documented lock order), which is what serialises them with a step's commit.

-- `registered_at` orders versions for "the latest": registering an older source again makes it
-- the latest again.
ALTER TABLE rhythm.workflow_definitions
    ADD COLUMN registered_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX workflow_definitions_latest ON rhythm.workflow_definitions (name, registered_at DESC);

ALTER TABLE rhythm.executions
    -- The handle this execution resolves in its parent workflow's VM (NULL: started by a client).
    ADD COLUMN parent_handle integer,
    -- A workflow's inputs as given (json keeps key order; the jsonb `inputs` column sorts keys).
    ADD COLUMN ordered_inputs json,
    -- For a child: its output (completed) or error (failed) as produced, key order kept, which is
    -- what the parent's VM reads.
    ADD COLUMN ordered_result json,
    ADD CONSTRAINT executions_parent_handle CHECK (parent_handle IS NULL OR parent_id IS NOT NULL);
CREATE INDEX executions_definition ON rhythm.executions (name, version_hash)
    WHERE version_hash IS NOT NULL;

-- A definition cannot be deleted (nor renamed or re-hashed) while an unfinished execution runs
-- on it: that execution resumes on exactly this source at its next step.
CREATE FUNCTION rhythm.keep_definitions_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM rhythm.executions AS e
        WHERE e.name = OLD.name AND e.version_hash = OLD.version_hash
          AND e.status IN ('pending', 'running', 'suspended')
    ) THEN
        RAISE EXCEPTION 'workflow % version % is in use by unfinished executions',
            OLD.name, OLD.version_hash
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER workflow_definitions_in_use
    BEFORE DELETE OR UPDATE OF name, version_hash, source ON rhythm.workflow_definitions
    FOR EACH ROW EXECUTE FUNCTION rhythm.keep_definitions_in_use();

-- The snapshot of a suspended workflow and the handles its current await waits on (an inbox row
-- for one of them wakes it). Written by each step's commit, deleted when the workflow finishes.
ALTER TABLE rhythm.workflow_state
    ADD COLUMN waiting_on integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN steps bigint NOT NULL DEFAULT 0;

-- The inbox: results that arrived for a workflow's handles and that no step has consumed yet.
-- `result` is json, not jsonb: a task's output keeps the key order the task returned.
CREATE TABLE rhythm.workflow_results (
    execution_id uuid    NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    handle       integer NOT NULL,
    result       json    NOT NULL,
    seq          bigint  GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (execution_id, handle)
);

-- Open signal waits (Signal.next / Signal.when) not yet matched to a signal.
CREATE TABLE rhythm.signal_waits (
    execution_id uuid    NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    handle       integer NOT NULL,
    name         text    NOT NULL,
    PRIMARY KEY (execution_id, handle)
);
CREATE INDEX signal_waits_name ON rhythm.signal_waits (execution_id, name, handle);

-- Signal payloads keep their key order too.
ALTER TABLE rhythm.signals ALTER COLUMN payload DROP DEFAULT;
ALTER TABLE rhythm.signals ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE rhythm.signals ALTER COLUMN payload SET DEFAULT 'null'::json;
ALTER TABLE rhythm.signals ADD COLUMN handle integer;  -- the wait it resolved

-- Durable wake-ups: Timer.delay / Timer.until (kind 'timer') and the timeout of a signal wait
-- (kind 'timeout'). Fired by fire_timers; a timeout whose wait was already matched by a signal
-- is stale and ignored, as is any timer of a workflow that has finished.
CREATE TABLE rhythm.timers (
    execution_id uuid        NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    handle       integer     NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('timer', 'timeout')),
    fire_at      timestamptz NOT NULL,
    signal_name  text,              -- kind 'timeout': the signal waited for, and for how long
    timeout_seconds double precision,
    PRIMARY KEY (execution_id, handle)
);
CREATE INDEX timers_fire_at ON rhythm.timers (fire_at);
CREATE TRIGGER timers_notify AFTER INSERT ON rhythm.timers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_scheduled();

-- The one rule "a finished child makes its parent ready", for complete, fail, reap, cancel and a
-- step's commit alike: a child that reached completed, failed or cancelled puts its result in
-- its parent's inbox (unless the parent has finished: a late fire-and-forget result is dropped).
-- The statements that finish children lock the parents up front (lock order), so this takes no
-- lock of its own. A cancelled child is a failure of type "Cancelled" for the parent.
CREATE FUNCTION rhythm.deliver_to_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Statement triggers fire for zero rows too: return at once unless a child just finished
    -- (this also ends the chain deliver -> inbox -> wake -> executions update -> deliver).
    IF NOT EXISTS (
        SELECT FROM new_rows AS n
        WHERE n.parent_handle IS NOT NULL AND n.status IN ('completed', 'failed', 'cancelled')
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO rhythm.workflow_results (execution_id, handle, result)
    SELECT n.parent_id, n.parent_handle,
           CASE n.status
               WHEN 'completed' THEN json_build_object(
                   'status', 'completed', 'output', coalesce(n.ordered_result, n.output::json))
               WHEN 'failed' THEN json_build_object(
                   'status', 'failed', 'error', coalesce(n.ordered_result, n.error::json))
               ELSE json_build_object(
                   'status', 'failed', 'error', json_build_object(
                       'type', 'Cancelled',
                       'message', n.type || ' ' || n.name || ' (' || n.id || ') was cancelled'))
           END
    FROM new_rows AS n
    JOIN old_rows AS o ON o.id = n.id
    JOIN rhythm.executions AS p ON p.id = n.parent_id
    WHERE n.parent_handle IS NOT NULL
      AND n.status IN ('completed', 'failed', 'cancelled')
      AND o.status NOT IN ('completed', 'failed', 'cancelled')
      AND p.completed_at IS NULL
    ORDER BY n.completed_at, n.id
    ON CONFLICT (execution_id, handle) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER executions_deliver_to_parent AFTER UPDATE ON rhythm.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.deliver_to_parent();

-- An inbox row for a handle a suspended workflow awaits makes it pending and ready. Running
-- workflows are left to their step's commit; pending ones are already queued.
CREATE FUNCTION rhythm.wake_workflows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    WITH woken AS (
        UPDATE rhythm.executions AS e
        SET status = 'pending'
        FROM rhythm.workflow_state AS s
        WHERE e.id = ANY (ARRAY(SELECT DISTINCT execution_id FROM new_rows))
          AND e.status = 'suspended'
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
CREATE TRIGGER workflow_results_wake AFTER INSERT ON rhythm.workflow_results
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.wake_workflows();

-- Signals meet waits: for every (workflow, signal name) touched, the oldest unconsumed signals
-- are paired with the oldest open waits (signals in the order sent, waits in the order the
-- workflow made them). Runs after a signal is stored and after a step stores new waits, so a
-- signal sent before its wait is kept and delivered. Both callers hold the workflow's row lock;
-- a trigger function's statements see everything committed before them, so neither side can
-- miss the other.
CREATE FUNCTION rhythm.match_signals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    WITH touched AS (
        SELECT DISTINCT execution_id, name FROM new_rows
    ), sent AS (
        SELECT s.id, s.execution_id, s.name, s.payload,
               row_number() OVER (PARTITION BY s.execution_id, s.name ORDER BY s.id) AS rank
        FROM rhythm.signals AS s
        JOIN touched AS t ON t.execution_id = s.execution_id AND t.name = s.name
        WHERE s.consumed_at IS NULL
    ), waiting AS (
        SELECT w.execution_id, w.name, w.handle,
               row_number() OVER (PARTITION BY w.execution_id, w.name ORDER BY w.handle) AS rank
        FROM rhythm.signal_waits AS w
        JOIN touched AS t ON t.execution_id = w.execution_id AND t.name = w.name
    ), matched AS (
        SELECT sent.id AS signal_id, sent.payload, waiting.execution_id, waiting.handle
        FROM sent
        JOIN waiting USING (execution_id, name, rank)
    ), used AS (
        UPDATE rhythm.signals AS s
        SET consumed_at = now(), handle = m.handle
        FROM matched AS m
        WHERE s.id = m.signal_id
    ), closed AS (
        DELETE FROM rhythm.signal_waits AS w
        USING matched AS m
        WHERE w.execution_id = m.execution_id AND w.handle = m.handle
    )
    INSERT INTO rhythm.workflow_results (execution_id, handle, result)
    SELECT execution_id, handle, json_build_object('status', 'completed', 'output', payload)
    FROM matched
    ORDER BY signal_id
    ON CONFLICT (execution_id, handle) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER signals_match AFTER INSERT ON rhythm.signals
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.match_signals();
CREATE TRIGGER signal_waits_match AFTER INSERT ON rhythm.signal_waits
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.match_signals();

ANALYZE rhythm.workflow_results, rhythm.signal_waits, rhythm.timers, rhythm.workflow_state;
