-- Every SQL statement Rhythm runs, each under a `-- name:` line; loaded by rhythm.client.queries.
-- Parameters use psycopg's %(name)s style, so a literal percent sign must be written %%.
--
-- Lock order. Every statement that touches an execution's rows takes its locks in this order, so
-- two of them can never wait on each other in a cycle (deadlock_detected, SQLSTATE 40P01):
--   1. queue rows being consumed (rhythm.ready, rhythm.scheduled, rhythm.timers): only with SKIP
--      LOCKED (claim, promote_scheduled, fire_timers) or for the executions being cancelled
--      (cancel_unqueue, cancel_tree_unqueue);
--   2. rhythm.executions rows, all of them up front, FOR UPDATE in id order (an ARRAY(...) of a
--      locking CTE is evaluated completely before the statement modifies anything). Parents
--      have no later place of their own: a statement that finishes executions with a parent
--      workflow (complete, fail, reap_expired_leases, cancel_execution, cancel_tree, and a
--      step's lock_steps_or_fail) locks those parents together with them, in the same id
--      order, because the trigger deliver_to_parent then writes to the parent's inbox and may
--      wake it (an UPDATE of the parent row). Nothing ever locks a parent after its children;
--   3. rows that belong to those executions: rhythm.leases, rhythm.workflow_state,
--      rhythm.workflow_results (the inbox), rhythm.signal_waits, rhythm.signals;
--   4. new rows in rhythm.ready / rhythm.scheduled / rhythm.timers (fresh keys nobody else holds;
--      a wake-up inserts a ready row only for a suspended workflow, which has none).
-- Eager paths fit this order: a step's commit that creates its tasks already claimed inserts
-- their leases (fresh keys, place 3 or 4 alike); `claim_woken`, which runs after `complete` or
-- `fail` in the same transaction, re-takes ready rows and parents that transaction just locked
-- or inserted, all with SKIP LOCKED, so it never waits on anyone. The eager continuation
-- (`complete`, `claim_chained_step`, the step's effects, `finish_steps` in one transaction) takes
-- no lock after `complete`'s: the worker uses it only for a step that leaves the workflow
-- suspended or has no parent workflow to tell, so finish_steps locks nothing more.
-- Statements that only keep house never wait at all: reap_expired_leases and
-- renew_leases take their rows with SKIP LOCKED (a row someone is finishing is left for later),
-- and prune_executions skips locked executions. A multi-row statement is always a transaction
-- of its own: a worker writes its completions and its failures as separate statements.
-- Timer rows are never deleted by anyone holding an executions lock (only fire_timers deletes
-- them, taking them first): a timer made stale by a signal or a finished workflow just fires
-- into nothing.
-- rhythm.overdue stands outside this order: sync_overdue locks only its rows (no execution),
-- and deletes other workers' rows with SKIP LOCKED only, so it cannot take part in a cycle.
--
-- Status beside a key. A statement that finds executions by key (an id, (id, attempt) pairs)
-- checks their status as a filter on the rows the key found: `e.status IS NOT DISTINCT FROM
-- 'running'`, or `(e.status IN (...)) IS TRUE` for several. Status is never NULL, so these mean
-- `=` and `IN`; but they cannot drive an index, and `=` can: a planner whose statistics call a
-- status rare (an ANALYZE taken while every execution was pending says so of 'completed') walks
-- the (status, created_at) index instead of the primary key, reading every completed execution
-- to find one (rhythm-worker's test_key_plans.py). A plain `status =` is for statements that
-- want every execution of a status (prune_executions, the console's lists).

-- name: enqueue_one
-- Create one execution and make it ready (or schedule it after `delay` seconds). With an
-- idempotency key already in use nothing is created and no row is returned.
WITH created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, max_retries, timeout_seconds,
         idempotency_key, parent_id, version_hash)
    VALUES (%(id)s, %(type)s, %(name)s, %(queue)s, %(priority)s, %(inputs)s::jsonb,
            %(max_retries)s, %(timeout)s, %(idempotency_key)s, %(parent_id)s, %(version_hash)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, queue, priority
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM created WHERE %(delay)s::float8 IS NULL
), later AS (
    INSERT INTO rhythm.scheduled (execution_id, run_at, queue, priority)
    SELECT id, now() + make_interval(secs => %(delay)s::float8), queue, priority
    FROM created WHERE %(delay)s::float8 IS NOT NULL
)
SELECT id FROM created;

-- name: enqueue_now
-- The common case of enqueue_one (no delay, no idempotency key): created and ready at once.
WITH created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, max_retries, timeout_seconds, parent_id,
         version_hash)
    VALUES (%(id)s, %(type)s, %(name)s, %(queue)s, %(priority)s, %(inputs)s::jsonb,
            %(max_retries)s, %(timeout)s, %(parent_id)s, %(version_hash)s)
    RETURNING id, queue, priority
)
INSERT INTO rhythm.ready (execution_id, queue, priority)
SELECT id, queue, priority FROM created
RETURNING execution_id AS id;

-- name: enqueue_many
-- Create one execution per (id, inputs) pair in a single statement.
WITH created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, max_retries, timeout_seconds)
    SELECT i.id, %(type)s, %(name)s, %(queue)s, %(priority)s, i.inputs::jsonb,
           %(max_retries)s, %(timeout)s
    FROM unnest(%(ids)s::uuid[], %(inputs)s::text[]) AS i (id, inputs)
    RETURNING id, queue, priority
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM created WHERE %(delay)s::float8 IS NULL
), later AS (
    INSERT INTO rhythm.scheduled (execution_id, run_at, queue, priority)
    SELECT id, now() + make_interval(secs => %(delay)s::float8), queue, priority
    FROM created WHERE %(delay)s::float8 IS NOT NULL
)
SELECT count(*) FROM created;

-- name: by_idempotency_key
-- The execution holding an idempotency key: the caller checks it is the same task or workflow.
SELECT id, type, name FROM rhythm.executions WHERE idempotency_key = %(idempotency_key)s;

-- name: get_execution
-- Inputs and output as given and returned (json keeps their key order; jsonb sorts them).
SELECT id, type, name, queue, priority, status,
       coalesce(ordered_inputs, inputs::json) AS inputs,
       CASE WHEN status = 'completed' THEN coalesce(ordered_result, output::json)
            ELSE output::json END AS output,
       error, attempt, parent_id, idempotency_key, version_hash, created_at, started_at,
       completed_at, restarted_from, restarted_from_step
FROM rhythm.executions
WHERE id = %(id)s;

-- name: list_executions
-- Newest first, optionally only one status, type ('task' or 'workflow'), name or queue.
SELECT id, type, name, queue, priority, status,
       coalesce(ordered_inputs, inputs::json) AS inputs,
       CASE WHEN status = 'completed' THEN coalesce(ordered_result, output::json)
            ELSE output::json END AS output,
       error, attempt, parent_id, idempotency_key, version_hash, created_at, started_at,
       completed_at
FROM rhythm.executions
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(type)s::text IS NULL OR type = %(type)s::text)
  AND (%(name)s::text IS NULL OR name = %(name)s::text)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s::text)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;

-- name: cancel_unqueue
-- Step 1 of a cancel (one transaction): take the execution out of the ready and scheduled queues.
-- Deleting the ready row first takes locks in the same order as a claim (ready, then executions).
WITH unready AS (
    DELETE FROM rhythm.ready WHERE execution_id = %(id)s
)
DELETE FROM rhythm.scheduled WHERE execution_id = %(id)s;

-- name: cancel_execution
-- Step 2: mark a pending, running or suspended execution cancelled and drop its lease (a worker
-- still running it notices at its next lease renewal). The executions row is locked before the
-- lease (the lease delete needs the updated row). `previous_status` is the status before this
-- statement (NULL: no such execution).
WITH locked AS (
    -- The execution and its parent workflow (told of the cancellation), in id order.
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = %(id)s
       OR e.id = (SELECT c.parent_id FROM rhythm.executions AS c WHERE c.id = %(id)s)
    ORDER BY e.id
    FOR UPDATE OF e
), cancelled AS (
    UPDATE rhythm.executions
    SET status = 'cancelled', completed_at = now()
    WHERE id = %(id)s AND (status IN ('pending', 'running', 'suspended')) IS TRUE
      AND id = ANY (ARRAY(SELECT id FROM locked))
    RETURNING id
), unleased AS (
    DELETE FROM rhythm.leases WHERE execution_id = ANY (ARRAY(SELECT id FROM cancelled))
)
SELECT (SELECT count(*) FROM cancelled) AS cancelled,
       (SELECT status FROM rhythm.executions WHERE id = %(id)s) AS previous_status;

-- name: claim
-- Take up to `limit` ready executions of the given queues, highest priority first, then oldest;
-- delete them from the ready queue, mark them running and lease them to this worker. Inputs come
-- back as JSON text: the worker decodes each row on its own, so one row Python cannot decode
-- (a 5,000-digit number) fails alone instead of spoiling the batch.
-- Lock order: ready rows (SKIP LOCKED, so claims never wait on each other), then their
-- executions in id order, then the new leases.
WITH picked AS (
    -- Per queue, an ordered walk of the ready_claim index; then the best of those.
    SELECT c.execution_id
    FROM unnest(%(queues)s::text[]) AS q (name)
    CROSS JOIN LATERAL (
        SELECT r.execution_id, r.priority, r.seq
        FROM rhythm.ready AS r
        -- `skip`: workflows this worker handed back a moment ago (it cannot resume them).
        WHERE r.queue = q.name AND r.execution_id <> ALL (%(skip)s::uuid[])
        ORDER BY r.priority DESC, r.seq
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS c
    ORDER BY c.priority DESC, c.seq
    LIMIT %(limit)s
), taken AS (
    DELETE FROM rhythm.ready AS r
    WHERE r.execution_id = ANY (ARRAY(SELECT execution_id FROM picked))
    RETURNING r.execution_id, r.priority, r.seq
), locked AS (
    -- Not "status = 'pending'": the planner would walk every pending row through the status
    -- index. A ready row implies pending; completed_at (unindexed) guards finished work anyway.
    -- Locked here, in id order, as the update below pulls them (nested loops on the primary key).
    SELECT e.id
    FROM taken
    JOIN rhythm.executions AS e ON e.id = taken.execution_id
    WHERE e.completed_at IS NULL
    ORDER BY e.id
    FOR UPDATE OF e
), started AS (
    UPDATE rhythm.executions AS e
    SET status = 'running', attempt = e.attempt + 1, started_at = coalesce(e.started_at, now())
    FROM locked
    WHERE e.id = locked.id AND e.completed_at IS NULL
    RETURNING e.id, e.type, e.name, e.queue, e.priority, e.inputs, e.attempt, e.max_retries,
              e.timeout_seconds, e.version_hash, e.parent_id
), leased AS (
    INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)
    SELECT id, %(worker_id)s, attempt, now() + make_interval(secs => %(lease_seconds)s::float8)
    FROM started
    ON CONFLICT (execution_id) DO UPDATE
    SET worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt,
        expires_at = EXCLUDED.expires_at
)
-- In claim order: the worker starts them in the order it gets them. A workflow comes with what
-- its step needs (`step`: rhythm.step_data, migration 0011): the stepper needs no load.
SELECT s.id, s.type, s.name, s.queue, s.priority, s.inputs::text AS inputs, s.attempt,
       s.max_retries, s.timeout_seconds, s.version_hash, s.parent_id,
       CASE WHEN s.type = 'workflow' THEN rhythm.step_data(s.id) END AS step
FROM started AS s
JOIN taken AS t ON t.execution_id = s.id
ORDER BY t.priority DESC, t.seq;

-- name: claim_woken
-- (eager resume) Second statement of the transaction that stores task results (`complete` or
-- `fail`, run just before it with rhythm.hold_ready_notify on): claim for this worker up to
-- `limit` of the parent workflows those results just made ready, on the given queues, as
-- `claim` would (attempt + 1, running, leased), so that this worker steps them at once instead
-- of announcing them to every worker. Pass the (ids, attempts) of the results just stored.
-- Lock order: the first statement already locked these parents (with their children, in id
-- order); everything here is taken with SKIP LOCKED, so this statement never waits: a parent
-- whose ready row someone else holds is simply left to the queue.
WITH parents AS (
    SELECT DISTINCT c.parent_id AS id
    FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS d (id, attempt)
    JOIN rhythm.executions AS c ON c.id = d.id AND c.attempt = d.attempt
    WHERE c.parent_handle IS NOT NULL AND (c.status IN ('completed', 'failed')) IS TRUE
), picked AS (
    SELECT r.execution_id
    FROM rhythm.ready AS r
    WHERE r.execution_id = ANY (ARRAY(SELECT id FROM parents))
      AND r.queue = ANY (%(queues)s::text[])
      AND r.execution_id <> ALL (%(skip)s::uuid[])  -- handed back by this worker a moment ago
    ORDER BY r.priority DESC, r.seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(SELECT execution_id FROM picked))
      AND e.completed_at IS NULL AND e.status IS NOT DISTINCT FROM 'pending'
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
), taken AS (
    DELETE FROM rhythm.ready AS r
    WHERE r.execution_id = ANY (ARRAY(SELECT id FROM locked))
    RETURNING r.execution_id
), started AS (
    UPDATE rhythm.executions AS e
    SET status = 'running', attempt = e.attempt + 1, started_at = coalesce(e.started_at, now())
    FROM taken
    WHERE e.id = taken.execution_id
    RETURNING e.id, e.type, e.name, e.queue, e.priority, e.inputs, e.attempt, e.max_retries,
              e.timeout_seconds, e.version_hash, e.parent_id
), leased AS (
    INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)
    SELECT id, %(worker_id)s, attempt, now() + make_interval(secs => %(lease_seconds)s::float8)
    FROM started
    ON CONFLICT (execution_id) DO UPDATE
    SET worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt,
        expires_at = EXCLUDED.expires_at
)
-- Each claimed workflow comes with what its step needs (`step`: rhythm.step_data, migration
-- 0011), read in this same transaction: the stepper needs no load_steps round trip.
SELECT st.id, st.type, st.name, st.queue, st.priority, st.inputs::text AS inputs, st.attempt,
       st.max_retries, st.timeout_seconds, st.version_hash, st.parent_id,
       rhythm.step_data(st.id) AS step
FROM started AS st
ORDER BY st.priority DESC, st.id;

-- name: claim_chained_step
-- (eager continuation) Second statement of a transaction that stores one task's result
-- (`complete`, run just before it with rhythm.hold_ready_notify on) and commits, in the same
-- transaction, the next step of the parent workflow awaiting that task alone, computed before
-- the transaction from the snapshot this worker committed last (effects and finish_steps follow).
-- Claims the parent for this transaction (running, attempt + 1, its ready row deleted, no lease:
-- the step commits before anyone else could see it) only if it is exactly as that step was
-- computed for: the task's attempt `task_attempt` completed; the parent pending (the result
-- just woke it) at `attempt`, at its `steps`-th snapshot, its inbox holding the result of
-- `handle` alone. Otherwise (a signal, a timer or a cancellation got there first, the task was
-- fenced out) it raises RH001 (rhythm.fenced_out): the whole transaction, the task's result
-- included, is rolled back and the worker stores the result the usual way. On success it turns
-- rhythm.hold_ready_notify off again, so that the step's own inserts are announced.
-- Lock order: `complete` already locked the task and the parent, in id order; the ready row
-- deleted here was inserted by this same transaction.
WITH parent AS (
    SELECT e.id
    FROM rhythm.executions AS e
    JOIN rhythm.workflow_state AS s ON s.execution_id = e.id
    JOIN rhythm.executions AS t
        ON t.id = %(task_id)s AND t.parent_id = e.id AND t.parent_handle = %(handle)s
    WHERE e.id = %(id)s AND e.status IS NOT DISTINCT FROM 'pending' AND e.attempt = %(attempt)s
      AND e.completed_at IS NULL AND s.steps = %(steps)s
      AND t.status IS NOT DISTINCT FROM 'completed' AND t.attempt = %(task_attempt)s
      AND ARRAY(SELECT r.handle FROM rhythm.workflow_results AS r
                WHERE r.execution_id = e.id ORDER BY r.seq) = ARRAY[%(handle)s::int]
), taken AS (
    DELETE FROM rhythm.ready AS r
    WHERE r.execution_id = (SELECT id FROM parent)
    RETURNING r.execution_id
), started AS (
    UPDATE rhythm.executions AS e
    SET status = 'running', attempt = e.attempt + 1
    FROM taken
    WHERE e.id = taken.execution_id
    RETURNING e.id
)
SELECT CASE
           WHEN EXISTS (SELECT FROM started)
           THEN set_config('rhythm.hold_ready_notify', 'off', true) = 'off'
           ELSE rhythm.fenced_out(%(id)s)
       END AS ours;

-- name: notify_left_ready
-- (eager resume) Last statement of that transaction: announce the queues of the parents it made
-- ready but did not claim (the NOTIFY its inserts held back), so that other workers take them.
SELECT pg_notify('rhythm_ready', q.queue)
FROM (
    SELECT DISTINCT r.queue
    FROM rhythm.ready AS r
    JOIN rhythm.executions AS c ON c.parent_id = r.execution_id
    JOIN unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS d (id, attempt)
        ON d.id = c.id AND d.attempt = c.attempt
) AS q;

-- name: complete
-- Record the outputs of finished attempts. The attempt number fences out a worker whose lease
-- lapsed; the status check never overwrites a cancellation. Lock order: executions and their
-- parent workflows (by id), then leases; trigger deliver_to_parent fills the parents' inboxes.
WITH done AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[], %(outputs)s::text[])
        AS d (id, attempt, output)
), locked AS (
    -- The executions and their parent workflows (whose inbox gets the outputs), in id order.
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(
        SELECT c.id FROM rhythm.executions AS c
        JOIN done ON done.id = c.id AND done.attempt = c.attempt
        WHERE c.status IS NOT DISTINCT FROM 'running'
        UNION
        SELECT c.parent_id FROM rhythm.executions AS c
        JOIN done ON done.id = c.id AND done.attempt = c.attempt
        WHERE c.status IS NOT DISTINCT FROM 'running' AND c.parent_handle IS NOT NULL
    ))
    ORDER BY e.id
    FOR UPDATE OF e
), finished AS (
    UPDATE rhythm.executions AS e
    SET status = 'completed', output = done.output::jsonb, error = NULL, completed_at = now(),
        -- A parent workflow reads the output with the key order the task returned.
        ordered_result = CASE WHEN e.parent_handle IS NOT NULL THEN done.output::json END
    FROM done
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = done.id AND e.attempt = done.attempt
      AND e.status IS NOT DISTINCT FROM 'running'
    RETURNING e.id
), released AS (
    DELETE FROM rhythm.leases AS l
    USING done
    WHERE l.execution_id = ANY (ARRAY(SELECT id FROM finished))
      AND l.execution_id = done.id AND l.attempt = done.attempt
)
SELECT id FROM finished;

-- name: fail
-- Record failed attempts: with a retry delay the execution goes back to pending and is scheduled
-- after that many seconds; without one it is failed for good. Lock order: executions and the
-- parent workflows of final failures (by id), then leases, then the new scheduled rows.
WITH f AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[], %(errors)s::text[],
                         %(retry_delays)s::float8[])
        AS f (id, attempt, error, retry_delay)
), locked AS (
    -- The executions and their parent workflows (whose inbox gets final failures), in id order.
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(
        SELECT c.id FROM rhythm.executions AS c
        JOIN f ON f.id = c.id AND f.attempt = c.attempt
        WHERE c.status IS NOT DISTINCT FROM 'running'
        UNION
        SELECT c.parent_id FROM rhythm.executions AS c
        JOIN f ON f.id = c.id AND f.attempt = c.attempt
        WHERE c.status IS NOT DISTINCT FROM 'running' AND c.parent_handle IS NOT NULL
          AND f.retry_delay IS NULL
    ))
    ORDER BY e.id
    FOR UPDATE OF e
), updated AS (
    UPDATE rhythm.executions AS e
    SET status = CASE WHEN f.retry_delay IS NULL THEN 'failed' ELSE 'pending' END,
        error = f.error::jsonb,
        ordered_result = CASE
            WHEN e.parent_handle IS NOT NULL AND f.retry_delay IS NULL THEN f.error::json
        END,
        completed_at = CASE WHEN f.retry_delay IS NULL THEN now() END
    FROM f
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = f.id AND e.attempt = f.attempt AND e.status IS NOT DISTINCT FROM 'running'
    RETURNING e.id, e.queue, e.priority, f.retry_delay
), released AS (
    DELETE FROM rhythm.leases AS l
    USING f
    WHERE l.execution_id = ANY (ARRAY(SELECT id FROM updated))
      AND l.execution_id = f.id AND l.attempt = f.attempt
), retried AS (
    INSERT INTO rhythm.scheduled (execution_id, run_at, queue, priority)
    SELECT id, now() + make_interval(secs => retry_delay), queue, priority
    FROM updated WHERE retry_delay IS NOT NULL
)
SELECT id FROM updated;

-- name: release
-- Hand running executions back (graceful shutdown): ready again at once, attempt not counted.
-- Lock order: executions (by id), then leases, then the new ready rows.
WITH r AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS r (id, attempt)
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    JOIN r ON r.id = e.id AND r.attempt = e.attempt
    WHERE e.status IS NOT DISTINCT FROM 'running'
    ORDER BY e.id
    FOR UPDATE OF e
), back AS (
    UPDATE rhythm.executions AS e
    SET status = 'pending', attempt = e.attempt - 1
    FROM r
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = r.id AND e.attempt = r.attempt AND e.status IS NOT DISTINCT FROM 'running'
    RETURNING e.id, e.queue, e.priority
), unleased AS (
    DELETE FROM rhythm.leases AS l
    USING r
    WHERE l.execution_id = ANY (ARRAY(SELECT id FROM back))
      AND l.execution_id = r.id AND l.attempt = r.attempt
)
INSERT INTO rhythm.ready (execution_id, queue, priority)
SELECT id, queue, priority FROM back
RETURNING execution_id;

-- name: hand_back
-- (stepper) A workflow this worker cannot resume (a snapshot of another rhythm-core, a source it
-- cannot compile) goes back to the ready queue for a worker that can: attempt not counted, its
-- inbox and snapshot untouched, `note` (JSON text) stored as `error` so `rhythm inspect` shows
-- why it waits; the next committed step clears it (finish_steps). Pass: id, attempt, note.
-- Lock order: the execution, then its lease, then the new ready row.
WITH locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = %(id)s AND e.attempt = %(attempt)s AND e.status IS NOT DISTINCT FROM 'running'
    FOR UPDATE OF e
), back AS (
    UPDATE rhythm.executions AS e
    SET status = 'pending', attempt = e.attempt - 1, error = %(note)s::text::jsonb
    FROM locked
    WHERE e.id = locked.id AND e.attempt = %(attempt)s AND e.status IS NOT DISTINCT FROM 'running'
    RETURNING e.id, e.queue, e.priority
), unleased AS (
    DELETE FROM rhythm.leases AS l
    WHERE l.execution_id = ANY (ARRAY(SELECT id FROM back)) AND l.attempt = %(attempt)s
)
INSERT INTO rhythm.ready (execution_id, queue, priority)
SELECT id, queue, priority FROM back
RETURNING execution_id;

-- name: renew_leases
-- Extend the leases of the (id, attempt) pairs this worker knows it is running, and return those
-- it still holds (a missing one was cancelled or taken over). Only what the worker knows: a claim
-- that committed but whose reply never reached it is not renewed, so its lease lapses and the
-- reaper hands it on. Never waits: a lease another transaction has locked right now (being
-- finished, cancelled or reaped) is left alone this round and still reported, so the loss is
-- noticed next round.
WITH mine AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS m (id, attempt)
), renewed AS (
    UPDATE rhythm.leases
    SET expires_at = now() + make_interval(secs => %(lease_seconds)s::float8)
    WHERE execution_id = ANY (ARRAY(
        SELECT l.execution_id
        FROM rhythm.leases AS l
        JOIN mine ON mine.id = l.execution_id AND mine.attempt = l.attempt
        WHERE l.worker_id = %(worker_id)s
        ORDER BY l.execution_id
        FOR UPDATE OF l SKIP LOCKED
    ))
)
SELECT l.execution_id, l.attempt
FROM rhythm.leases AS l
JOIN mine ON mine.id = l.execution_id AND mine.attempt = l.attempt
WHERE l.worker_id = %(worker_id)s;

-- name: sync_overdue
-- Make this worker's rows of rhythm.overdue (tasks past their timeout that could not be stopped,
-- each still holding a slot) exactly the (id, attempt, name, timeout) rows given, each expiring
-- `lease_seconds` from now; delete other workers' expired rows (a killed worker cannot delete
-- its own). Run when a task becomes or stops being overdue and every third of a lease while the
-- worker has rows to report. Takes
-- row locks on rhythm.overdue only, never on executions: this worker's rows (no one else writes
-- them but the expiry below, which never waits) and others' expired rows with SKIP LOCKED.
WITH mine AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[], %(names)s::text[],
                         %(timeouts)s::float8[]) AS m (execution_id, attempt, name, timeout_seconds)
), reported AS (
    INSERT INTO rhythm.overdue
        (worker_id, execution_id, attempt, name, timeout_seconds, expires_at)
    SELECT %(worker_id)s, m.execution_id, m.attempt, m.name, m.timeout_seconds,
           now() + make_interval(secs => %(lease_seconds)s::float8)
    FROM mine AS m
    ORDER BY m.execution_id, m.attempt
    ON CONFLICT (worker_id, execution_id, attempt) DO UPDATE SET expires_at = excluded.expires_at
    RETURNING 1
), returned AS (
    DELETE FROM rhythm.overdue AS o
    WHERE o.worker_id = %(worker_id)s
      AND NOT EXISTS (
          SELECT 1 FROM mine WHERE mine.execution_id = o.execution_id AND mine.attempt = o.attempt
      )
    RETURNING 1
), expired AS (
    DELETE FROM rhythm.overdue
    WHERE (worker_id, execution_id, attempt) IN (
        SELECT worker_id, execution_id, attempt FROM rhythm.overdue
        WHERE expires_at < now() AND worker_id <> %(worker_id)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING 1
)
SELECT (SELECT count(*) FROM reported)::int AS reported,
       (SELECT count(*) FROM returned)::int AS returned,
       (SELECT count(*) FROM expired)::int AS expired;

-- name: reap_expired_leases
-- Executions whose worker stopped renewing its lease go back to the ready queue; after
-- `lost_worker_retries` such losses beyond their retries they fail. Never waits on a lock: an
-- execution a worker is finishing right now (or a lease being renewed) is skipped, and looked at
-- again on the next pass. Lock order: executions and their parent workflows (by id), then
-- leases, then new ready rows. A workflow's `max_retries` is the attempt of its last committed
-- step (set by finish_steps), so its budget of lost workers counts lost steps in a row.
WITH expired AS (
    SELECT execution_id, attempt
    FROM rhythm.leases
    WHERE expires_at < now()
    ORDER BY expires_at
    LIMIT 500
), candidates AS (
    SELECT e.id, e.parent_id, e.parent_handle
    FROM rhythm.executions AS e
    JOIN expired AS x ON x.execution_id = e.id AND x.attempt = e.attempt
    WHERE e.status IS NOT DISTINCT FROM 'running'
), locked AS (
    -- The executions and their parent workflows (a final failure goes to the parent's inbox),
    -- in id order; an execution whose parent is locked by someone else waits for a later pass.
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(
        SELECT id FROM candidates
        UNION
        SELECT parent_id FROM candidates WHERE parent_handle IS NOT NULL
    ))
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
), takeable AS (
    SELECT c.id
    FROM candidates AS c
    WHERE c.id = ANY (ARRAY(SELECT id FROM locked))
      AND (c.parent_handle IS NULL OR c.parent_id = ANY (ARRAY(SELECT id FROM locked)))
), lapsed AS (
    DELETE FROM rhythm.leases AS l
    WHERE l.execution_id = ANY (ARRAY(
        SELECT l2.execution_id
        FROM rhythm.leases AS l2
        WHERE l2.execution_id = ANY (ARRAY(SELECT id FROM takeable)) AND l2.expires_at < now()
        ORDER BY l2.execution_id
        FOR UPDATE SKIP LOCKED
    ))
    RETURNING l.execution_id, l.attempt, l.worker_id
), updated AS (
    UPDATE rhythm.executions AS e
    SET status = CASE
            WHEN e.attempt > coalesce(e.max_retries, 0) + %(lost_worker_retries)s THEN 'failed'
            ELSE 'pending'
        END,
        error = jsonb_build_object(
            'type', 'LeaseExpired',
            'message', 'worker ' || lapsed.worker_id || ' stopped renewing its lease on attempt '
                || e.attempt || ' (it was killed or lost its database connection)',
            'traceback', NULL
        ),
        completed_at = CASE
            WHEN e.attempt > coalesce(e.max_retries, 0) + %(lost_worker_retries)s THEN now()
        END
    FROM lapsed
    WHERE e.id = lapsed.execution_id AND e.attempt = lapsed.attempt
      AND e.status IS NOT DISTINCT FROM 'running'
    RETURNING e.id, e.queue, e.priority, e.status
), requeued AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM updated WHERE status = 'pending'
)
SELECT count(*) FROM updated;

-- name: promote_scheduled
-- Move due scheduled executions to the ready queue; also report how many seconds remain until
-- the next one is due (NULL: nothing scheduled).
WITH due AS (
    DELETE FROM rhythm.scheduled AS s
    WHERE s.execution_id IN (
        SELECT execution_id FROM rhythm.scheduled
        WHERE run_at <= now()
        ORDER BY run_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING s.execution_id, s.queue, s.priority
), promoted AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT execution_id, queue, priority FROM due
    RETURNING execution_id
)
SELECT (SELECT count(*) FROM promoted) AS promoted,
       (SELECT extract(epoch FROM min(run_at) - clock_timestamp())::float8
        FROM rhythm.scheduled WHERE run_at > now()) AS next_due_in;

-- name: store_workflow_definitions
-- Store workflow versions (parallel arrays of names, version hashes and sources) in one
-- statement; a version stored before keeps its source and becomes the latest again (an edit
-- reverted is the version new runs use). Returns the (name, version_hash) pairs that were new.
-- Touches no execution, so it takes no part in the lock order.
WITH stored AS (
    INSERT INTO rhythm.workflow_definitions AS w (name, version_hash, source)
    SELECT d.name, d.version_hash, d.source
    FROM unnest(%(names)s::text[], %(version_hashes)s::text[], %(sources)s::text[])
        AS d (name, version_hash, source)
    ORDER BY d.name, d.version_hash
    ON CONFLICT (name, version_hash) DO UPDATE SET registered_at = clock_timestamp()
    RETURNING w.name, w.version_hash, (w.xmax = 0) AS inserted
)
SELECT name, version_hash FROM stored WHERE inserted;

-- name: queue_overview
-- Per queue: runnable now, scheduled for later, running (leased) — all from the small tables.
SELECT queue, sum(ready)::int AS ready, sum(scheduled)::int AS scheduled,
       sum(running)::int AS running
FROM (
    SELECT queue, 1 AS ready, 0 AS scheduled, 0 AS running FROM rhythm.ready
    UNION ALL
    SELECT queue, 0, 1, 0 FROM rhythm.scheduled
    UNION ALL
    SELECT e.queue, 0, 0, 1 FROM rhythm.leases AS l JOIN rhythm.executions AS e ON e.id = l.execution_id
) AS t
GROUP BY queue
ORDER BY queue;

-- name: overdue_tasks
-- Tasks still running past their timeout, each holding a slot of its worker (see sync_overdue),
-- longest overdue first; only rows whose worker renewed them lately (a killed worker's expire).
SELECT worker_id, execution_id, attempt, name, timeout_seconds, timed_out_at,
       extract(epoch FROM now() - timed_out_at)::float8 AS overdue_seconds
FROM rhythm.overdue
WHERE expires_at > now()
ORDER BY timed_out_at, execution_id;

-- name: prune_overdue
-- Delete expired rows of rhythm.overdue (left by a worker killed while a task of its ran past its
-- timeout: live workers delete such rows only while they have overdue tasks of their own). Rows
-- locks only, skipping locked ones, as sync_overdue's expiry does.
WITH expired AS (
    DELETE FROM rhythm.overdue
    WHERE (worker_id, execution_id, attempt) IN (
        SELECT worker_id, execution_id, attempt FROM rhythm.overdue
        WHERE expires_at < now()
        FOR UPDATE SKIP LOCKED
    )
    RETURNING 1
)
SELECT count(*)::int AS expired FROM expired;

-- name: prune_gate
-- One pruning batch at a time across all clients (a batch's ON DELETE SET NULL of children's
-- parent_id must not meet another batch's in the opposite order). Held until the batch commits.
SELECT pg_advisory_xact_lock(hashtext('rhythm.prune_executions'));

-- name: prune_executions
-- Delete up to `batch` finished executions (of the given statuses) that finished more than
-- `older_than` seconds ago. Never one whose parent is still pending, running or suspended, nor
-- one with an unfinished child. Rows locked by anyone else are skipped. `created_at` is bounded
-- too (it is never after completed_at) so the (status, created_at) index finds the candidates.
WITH doomed AS (
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.status = ANY (%(statuses)s::text[])
      AND e.status IN ('completed', 'failed', 'cancelled')
      AND e.created_at < now() - make_interval(secs => %(older_than)s::float8)
      AND e.completed_at < now() - make_interval(secs => %(older_than)s::float8)
      AND NOT EXISTS (
          SELECT FROM rhythm.executions AS p
          WHERE p.id = e.parent_id AND (p.status IN ('pending', 'running', 'suspended')) IS TRUE
      )
      AND NOT EXISTS (
          SELECT FROM rhythm.executions AS c
          WHERE c.parent_id = e.id AND (c.status IN ('pending', 'running', 'suspended')) IS TRUE
      )
    LIMIT %(batch)s
    FOR UPDATE OF e SKIP LOCKED
), deleted AS (
    DELETE FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(SELECT id FROM doomed))
    RETURNING e.id
)
SELECT count(*)::int AS deleted FROM deleted;

-- name: status_counts
SELECT status, count(*)::bigint AS n FROM rhythm.executions GROUP BY status ORDER BY status;

-- ======================================================================== workflows
-- How a workflow runs (see migrations/0002_workflows.sql for the tables and the wake-up rules):
-- a client starts it (start_workflow); a worker claims it like a task (claim), loads it
-- (load_steps), runs the VM off its event loop, then commits in ONE transaction:
--     lock_steps_or_fail, start_step_tasks, start_step_workflows, start_step_timers,
--     start_step_waits, finish_steps
-- (the start_* statements only when the step produced effects of that kind). The lock comes
-- first so that every later statement sees each result committed before the lock was granted;
-- a result committed after it waits for the lock and then finds the workflow suspended (or sees
-- it pending), so it wakes it. Timers fire through fire_timers, which the worker runs beside
-- promote_scheduled.

-- name: start_workflow
-- (runtime-api) Start a workflow execution on one version. Pass: id (uuid), name, version_hash
-- (from latest_workflow_version), queue, priority, inputs (JSON text of an object: stored twice,
-- as jsonb for queries and as json so the workflow reads its keys in the order given),
-- idempotency_key (or NULL), delay (seconds or NULL). Returns the id; with the idempotency key
-- already in use nothing is created and no row is returned (then look it up with
-- by_idempotency_key).
WITH created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, ordered_inputs, idempotency_key, version_hash)
    -- ::text first: a parameter used twice takes the type of its first cast, and text -> jsonb
    -- -> json would sort the keys of the json copy.
    VALUES (%(id)s, 'workflow', %(name)s, %(queue)s, %(priority)s, %(inputs)s::text::jsonb,
            %(inputs)s::text::json, %(idempotency_key)s, %(version_hash)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, queue, priority
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM created WHERE %(delay)s::float8 IS NULL
), later AS (
    INSERT INTO rhythm.scheduled (execution_id, run_at, queue, priority)
    SELECT id, now() + make_interval(secs => %(delay)s::float8), queue, priority
    FROM created WHERE %(delay)s::float8 IS NOT NULL
)
SELECT id FROM created;

-- name: latest_workflow_version
-- (runtime-api) The version new runs of a workflow use: the one registered last. Pass: name.
-- Returns version_hash and source, or no row for an unknown name (see workflow_names).
SELECT version_hash, source
FROM rhythm.workflow_definitions
WHERE name = %(name)s
ORDER BY registered_at DESC, created_at DESC
LIMIT 1;

-- name: workflow_names
-- (runtime-api) Every registered workflow name, for "unknown workflow" messages.
SELECT DISTINCT name FROM rhythm.workflow_definitions ORDER BY name;

-- name: send_signal
-- (runtime-api) Store a signal for a workflow execution and deliver it if the workflow waits
-- for it (trigger signals_match: signals meet waits in the order sent; one sent before its
-- wait is kept). Pass: id (uuid), name, payload (JSON text). Always returns one row: `type`
-- and `status` of the execution (both NULL: no such execution) and `signal_id` (NULL: not
-- stored, because the execution is not a workflow or has finished; the caller words the error
-- from type and status). Lock order: the workflow's executions row, then its signal rows.
WITH target AS (
    SELECT e.id, e.type, e.status
    FROM rhythm.executions AS e
    WHERE e.id = %(id)s
    FOR UPDATE
), sent AS (
    INSERT INTO rhythm.signals (execution_id, name, payload)
    SELECT id, %(name)s, %(payload)s::json
    FROM target
    WHERE type = 'workflow' AND status IN ('pending', 'running', 'suspended')
    RETURNING id
)
SELECT (SELECT type FROM target) AS type, (SELECT status FROM target) AS status,
       (SELECT id FROM sent) AS signal_id;

-- name: cancel_tree_unqueue
-- (runtime-api) Step 1 of cancelling a workflow and its descendants (one transaction with
-- cancel_tree): take the whole tree out of the ready and scheduled queues, in id order, before
-- any executions row is locked (the same order as a claim). Pass: id. Returns nothing.
WITH RECURSIVE tree AS (
    SELECT e.id FROM rhythm.executions AS e WHERE e.id = %(id)s
    UNION
    SELECT c.id FROM rhythm.executions AS c JOIN tree ON c.parent_id = tree.id
), unready AS (
    DELETE FROM rhythm.ready
    WHERE execution_id = ANY (ARRAY(
        SELECT r.execution_id FROM rhythm.ready AS r
        WHERE r.execution_id = ANY (ARRAY(SELECT id FROM tree))
        ORDER BY r.execution_id
        FOR UPDATE
    ))
)
DELETE FROM rhythm.scheduled
WHERE execution_id = ANY (ARRAY(
    SELECT s.execution_id FROM rhythm.scheduled AS s
    WHERE s.execution_id = ANY (ARRAY(SELECT id FROM tree))
    ORDER BY s.execution_id
    FOR UPDATE
));

-- name: cancel_tree
-- (runtime-api) Step 2: cancel the execution and every pending, running or suspended
-- descendant (child workflows and tasks, through finished ones too), drop their leases (a task
-- still running learns it at its next lease renewal) and tell the root's parent workflow, if
-- any (a "Cancelled" failure in its inbox). Pass: id. Returns `cancelled` (how many this call
-- cancelled) and `previous_status` of the root before the call (NULL: no such execution). A
-- step committing at the same moment may add children this statement did not see: call
-- cancel_tree again (each call its own transaction) until `cancelled` is 0.
WITH RECURSIVE tree AS (
    SELECT e.id FROM rhythm.executions AS e WHERE e.id = %(id)s
    UNION
    SELECT c.id FROM rhythm.executions AS c JOIN tree ON c.parent_id = tree.id
), locked AS (
    SELECT e.id, e.status
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(
        SELECT id FROM tree
        UNION
        -- No "parent_id IS NOT NULL" here: the planner could walk the parent_id index for it
        -- (every execution with a parent) instead of the key; a NULL in the array matches none.
        SELECT parent_id FROM rhythm.executions WHERE id = %(id)s
    ))
    ORDER BY e.id
    FOR UPDATE OF e
), cancelled AS (
    UPDATE rhythm.executions AS e
    SET status = 'cancelled', completed_at = now()
    WHERE e.id = ANY (ARRAY(SELECT id FROM tree))
      AND e.id = ANY (ARRAY(SELECT id FROM locked))
      AND (e.status IN ('pending', 'running', 'suspended')) IS TRUE
    RETURNING e.id
), unleased AS (
    DELETE FROM rhythm.leases WHERE execution_id = ANY (ARRAY(SELECT id FROM cancelled))
)
SELECT (SELECT count(*) FROM cancelled)::int AS cancelled,
       (SELECT status FROM locked WHERE id = %(id)s) AS previous_status;

-- name: execution_children
-- (runtime-api, for inspect's tree) Every descendant of an execution (children, their children,
-- ...), oldest first, at most `limit` rows. Pass: id, limit. Returns id, parent_id,
-- parent_handle (the handle in the parent's VM), level (1 = child), type, name, status,
-- attempt, created_at, started_at, completed_at, error.
WITH RECURSIVE tree AS (
    SELECT e.id, 1 AS level FROM rhythm.executions AS e WHERE e.parent_id = %(id)s
    UNION ALL
    SELECT c.id, tree.level + 1
    FROM rhythm.executions AS c
    JOIN tree ON c.parent_id = tree.id
    WHERE tree.level < 100
)
SELECT e.id, e.parent_id, e.parent_handle, tree.level, e.type, e.name, e.status, e.attempt,
       e.created_at, e.started_at, e.completed_at, e.error
FROM tree
JOIN rhythm.executions AS e ON e.id = tree.id
ORDER BY e.created_at, e.id
LIMIT %(limit)s;

-- name: workflow_snapshot
-- (runtime-api, for inspect) A workflow execution's current snapshot and the source of the
-- version it runs. Pass: id. Returns id, name, status, version_hash, source, state (the VM
-- snapshot, NULL before the first step and after the workflow finished), waiting_on (handle
-- ids of its current await), steps (committed steps), updated_at, open_waits (the signal names
-- it waits for, by handle) and timers (handle, kind, fire_at); no row for an unknown id or a
-- task.
SELECT e.id, e.name, e.status, e.version_hash, d.source, s.state, s.waiting_on, s.steps,
       s.updated_at,
       (SELECT json_agg(json_build_object('handle', w.handle, 'name', w.name) ORDER BY w.handle)
        FROM rhythm.signal_waits AS w WHERE w.execution_id = e.id) AS open_waits,
       (SELECT json_agg(json_build_object('handle', t.handle, 'kind', t.kind,
                                          'fire_at', t.fire_at) ORDER BY t.fire_at)
        FROM rhythm.timers AS t WHERE t.execution_id = e.id) AS timers
FROM rhythm.executions AS e
LEFT JOIN rhythm.workflow_state AS s ON s.execution_id = e.id
LEFT JOIN rhythm.workflow_definitions AS d
    ON d.name = e.name AND d.version_hash = e.version_hash
WHERE e.id = %(id)s AND e.type = 'workflow';

-- name: load_steps
-- (stepper) What the claimed workflows need for a step (rhythm.step_data: version, source,
-- inputs with their key order, snapshot, steps, and the inbox oldest first as
-- [[handle, result], ...]), one `step` per workflow that still exists. The claim returns the
-- same with each workflow; this is for one whose claimed copy the worker could not decode.
-- Reads only: the lease fences the step, finish_steps re-checks it.
SELECT l.step
FROM unnest(%(ids)s::uuid[]) AS w (id)
CROSS JOIN LATERAL (SELECT rhythm.step_data(w.id)::json AS step) AS l
WHERE l.step IS NOT NULL;

-- name: lock_steps_or_fail
-- (stepper) First statement of the commit of one step or of several sent in one round trip:
-- lock every step's workflow (`ids`, `attempts`) and the parent workflow of each step that
-- finished a child (`parents`, else empty), all in id order. An attempt fenced out (the lease
-- lapsed and another worker took it, or it was cancelled) raises SQLSTATE RH001
-- (rhythm.fenced_out), which aborts the whole transaction: nothing of the steps is stored.
WITH locked AS (
    SELECT e.id, e.status, e.attempt
    FROM rhythm.executions AS e
    WHERE e.id = ANY (%(ids)s::uuid[] || %(parents)s::uuid[])
    ORDER BY e.id
    FOR UPDATE OF e
), ours AS (
    -- Every locked row is read (the outer side of the join), so every lock is taken.
    SELECT count(w.id) AS n
    FROM locked AS l
    LEFT JOIN unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS w (id, attempt)
        ON w.id = l.id AND w.attempt = l.attempt AND l.status IS NOT DISTINCT FROM 'running'
)
SELECT CASE
           WHEN n = cardinality(%(ids)s::uuid[]) THEN true
           ELSE rhythm.fenced_out((
               SELECT w.id FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS w (id, attempt)
               WHERE NOT EXISTS (
                   SELECT FROM locked AS l
                   WHERE l.id = w.id AND l.attempt = w.attempt
                     AND l.status IS NOT DISTINCT FROM 'running')
               LIMIT 1))
       END AS ours
FROM ours;

-- name: start_step_tasks
-- (stepper) The tasks one step or several steps committed together started, in one statement
-- (parallel arrays, one element per task, already validated by rhythm.client's run_task like
-- client.tasks.run): created as children of their workflow (`parent_ids`, parent_handle) and
-- made ready, or scheduled after their delay. Ready rows are added in handle order within each
-- workflow, so the tasks a workflow started first are claimed first.
-- Eager dispatch: a task whose `eager` element is true (no delay; the committing worker runs its
-- queue and name and has a free slot for it) is created already claimed by `worker_id`: running,
-- attempt 1, leased for `lease_seconds`, with no ready row; those are returned, in handle order,
-- as `claim` returns rows, and the worker runs them as soon as the commit is done. Its lease
-- keeps them as safe as claimed ones: a worker killed before running them stops renewing it, and
-- the reaper hands them on.
WITH t AS (
    SELECT *
    FROM unnest(%(ids)s::uuid[], %(parent_ids)s::uuid[], %(handles)s::int[], %(names)s::text[],
                %(queues)s::text[], %(priorities)s::int[], %(inputs)s::text[],
                %(max_retries)s::int[], %(timeouts)s::float8[], %(delays)s::float8[],
                %(eager)s::bool[])
        AS t (id, parent_id, handle, name, queue, priority, inputs, max_retries, timeout, delay,
              eager)
), created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, status, inputs, max_retries, timeout_seconds,
         parent_id, parent_handle, attempt, started_at)
    SELECT id, 'task', name, queue, priority,
           CASE WHEN eager THEN 'running' ELSE 'pending' END, inputs::jsonb, max_retries,
           timeout, parent_id, handle, CASE WHEN eager THEN 1 ELSE 0 END,
           CASE WHEN eager THEN now() END
    FROM t
    ORDER BY parent_id, handle
    RETURNING id
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT t.id, t.queue, t.priority
    FROM t JOIN created AS c ON c.id = t.id
    WHERE t.delay IS NULL AND NOT t.eager
    ORDER BY t.parent_id, t.handle
), later AS (
    INSERT INTO rhythm.scheduled (execution_id, run_at, queue, priority)
    SELECT t.id, now() + make_interval(secs => t.delay), t.queue, t.priority
    FROM t JOIN created AS c ON c.id = t.id
    WHERE t.delay IS NOT NULL AND NOT t.eager
), leased AS (
    INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)
    SELECT t.id, %(worker_id)s, 1, now() + make_interval(secs => %(lease_seconds)s::float8)
    FROM t JOIN created AS c ON c.id = t.id
    WHERE t.eager
    ORDER BY t.id
)
SELECT t.id, 'task' AS type, t.name, t.queue, t.priority, t.inputs, 1 AS attempt,
       t.max_retries, t.timeout AS timeout_seconds, NULL::text AS version_hash,
       t.parent_id
FROM t JOIN created AS c ON c.id = t.id
WHERE t.eager
ORDER BY t.parent_id, t.handle;

-- name: start_step_workflows
-- (stepper) The child workflows a step started: each on the latest version of its name, in
-- the parent's queue and priority, ready at once. Instead, as in run_workflow, a failed result
-- goes to the parent's inbox for a name with no registered version (type "WorkflowNotFound")
-- and for a child nested deeper than `max_depth` workflows (type "WorkflowError": a workflow
-- starting itself without end).
WITH RECURSIVE ancestors AS (
    SELECT e.id, e.parent_id, 1 AS depth FROM rhythm.executions AS e WHERE e.id = %(parent_id)s
    UNION ALL
    SELECT e.id, e.parent_id, a.depth + 1
    FROM rhythm.executions AS e
    JOIN ancestors AS a ON e.id = a.parent_id
    WHERE a.depth <= %(max_depth)s
), too_deep AS (
    SELECT max(depth) > %(max_depth)s AS yes FROM ancestors
), c AS (
    SELECT *
    FROM unnest(%(ids)s::uuid[], %(handles)s::int[], %(names)s::text[], %(inputs)s::text[])
        AS c (id, handle, name, inputs)
), versioned AS (
    SELECT c.*, CASE WHEN (SELECT yes FROM too_deep) THEN NULL ELSE v.version_hash END
               AS version_hash,
           v.version_hash IS NULL AS unknown
    FROM c
    LEFT JOIN LATERAL (
        SELECT d.version_hash FROM rhythm.workflow_definitions AS d
        WHERE d.name = c.name
        ORDER BY d.registered_at DESC, d.created_at DESC
        LIMIT 1
    ) AS v ON true
), parent AS (
    SELECT queue, priority FROM rhythm.executions WHERE id = %(parent_id)s
), created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, ordered_inputs, parent_id, parent_handle,
         version_hash)
    SELECT v.id, 'workflow', v.name, p.queue, p.priority, v.inputs::jsonb, v.inputs::json,
           %(parent_id)s, v.handle, v.version_hash
    FROM versioned AS v CROSS JOIN parent AS p
    WHERE v.version_hash IS NOT NULL
    ORDER BY v.handle
    RETURNING id, queue, priority, parent_handle
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM created ORDER BY parent_handle
), unknown AS (
    INSERT INTO rhythm.workflow_results (execution_id, handle, result)
    SELECT %(parent_id)s, v.handle, CASE WHEN v.unknown THEN json_build_object(
        'status', 'failed',
        'error', json_build_object(
            'type', 'WorkflowNotFound',
            'message', 'no workflow named ' || quote_literal(v.name) || ' is registered (known: '
                || coalesce((SELECT string_agg(DISTINCT quote_literal(d.name), ', ')
                             FROM rhythm.workflow_definitions AS d), 'none') || ')',
            'workflow', v.name))
    ELSE json_build_object(
        'status', 'failed',
        'error', json_build_object(
            'type', 'WorkflowError',
            'message', 'child workflows nested deeper than ' || %(max_depth)s || ': '
                || quote_literal(v.name) || ' was not started',
            'workflow', v.name))
    END
    FROM versioned AS v
    WHERE v.version_hash IS NULL
)
SELECT count(*)::int AS created FROM created;

-- name: start_step_timers
-- (stepper) The timers a step started: Timer.delay (seconds) or Timer.until (a time); fired
-- by fire_timers.
INSERT INTO rhythm.timers (execution_id, handle, kind, fire_at)
SELECT %(id)s, t.handle, 'timer',
       coalesce(t.until, now() + make_interval(secs => t.seconds))
FROM unnest(%(handles)s::int[], %(seconds)s::float8[], %(untils)s::timestamptz[])
    AS t (handle, seconds, until);

-- name: start_step_waits
-- (stepper) The signal waits a step started, with a timeout timer for each Signal.when that
-- has one. Trigger signal_waits_match then pairs them with signals already sent.
WITH w AS (
    SELECT *
    FROM unnest(%(handles)s::int[], %(names)s::text[], %(timeouts)s::float8[])
        AS w (handle, name, timeout)
), waits AS (
    INSERT INTO rhythm.signal_waits (execution_id, handle, name)
    SELECT %(id)s, handle, name FROM w ORDER BY handle
)
INSERT INTO rhythm.timers (execution_id, handle, kind, fire_at, signal_name, timeout_seconds)
SELECT %(id)s, handle, 'timeout', now() + make_interval(secs => timeout), name, timeout
FROM w
WHERE timeout IS NOT NULL;

-- name: finish_steps
-- (stepper) Last statement of the commit of one step or of several, after lock_steps_or_fail
-- and the effects. `steps` is a JSON array with one object per step: id, attempt, status
-- ('suspended' | 'completed' | 'failed'), state (the snapshot as JSON text, when suspended),
-- waiting_on (handles the await waits on), consumed (handles whose results the step read),
-- result (JSON text: the output, or the error when failed), version_hash. For each: deletes the
-- consumed inbox rows; a suspended workflow whose inbox already holds a result it awaits (one
-- arrived during the step) goes back to pending and ready at once. A finished workflow drops
-- its snapshot, inbox and open waits, and trigger deliver_to_parent tells its parent. Returns
-- (id, new status) per step committed (a step fenced out has no row). `max_retries` becomes
-- the attempt just committed (see reap_expired_leases).
WITH s AS (
    SELECT *
    FROM json_to_recordset(%(steps)s::json) AS s (
        id uuid, attempt int, status text, state text, waiting_on int[], consumed int[],
        result text, version_hash text)
), w AS (
    -- Every lookup by key goes through `= ANY (ARRAY(...))`: joined to a set the planner
    -- cannot size, a table could otherwise be read whole for a hash join.
    SELECT s.*
    FROM s JOIN rhythm.executions AS e
        ON e.id = s.id AND e.attempt = s.attempt AND e.status IS NOT DISTINCT FROM 'running'
    WHERE e.id = ANY (ARRAY(SELECT id FROM s))
), consumed AS (
    DELETE FROM rhythm.workflow_results AS r
    USING w
    WHERE r.execution_id = ANY (ARRAY(SELECT id FROM w))
      AND r.execution_id = w.id AND (r.handle = ANY (w.consumed) OR w.status <> 'suspended')
), again AS (
    -- The same snapshot as `consumed`: the rows it deletes are still seen here.
    SELECT w.id, EXISTS (
        SELECT FROM rhythm.workflow_results AS r
        WHERE r.execution_id = w.id
          AND r.handle = ANY (w.waiting_on)
          AND NOT r.handle = ANY (w.consumed)
    ) AS yes
    FROM w
), updated AS (
    UPDATE rhythm.executions AS e
    SET status = CASE
            WHEN w.status <> 'suspended' THEN w.status
            WHEN again.yes THEN 'pending'
            ELSE 'suspended'
        END,
        -- From the text: text -> jsonb -> json would sort the keys of the ordered copy. The
        -- ordered copy is kept for every workflow: a parent's VM reads it, and clients show it
        -- (keys as returned).
        output = CASE WHEN w.status <> 'suspended' THEN w.result::jsonb END,
        error = CASE WHEN w.status = 'failed' THEN w.result::jsonb END,
        ordered_result = CASE WHEN w.status <> 'suspended' THEN w.result::json END,
        completed_at = CASE WHEN w.status <> 'suspended' THEN now() END,
        max_retries = e.attempt
    FROM w JOIN again ON again.id = w.id
    WHERE e.id = ANY (ARRAY(SELECT id FROM w)) AND e.id = w.id
    RETURNING e.id, e.status, e.queue, e.priority
), saved AS (
    INSERT INTO rhythm.workflow_state (execution_id, version_hash, state, waiting_on, steps)
    SELECT u.id, w.version_hash, w.state::jsonb, w.waiting_on, 1
    FROM updated AS u JOIN w ON w.id = u.id
    WHERE u.status IN ('suspended', 'pending')
    ORDER BY u.id
    ON CONFLICT (execution_id) DO UPDATE
    SET state = EXCLUDED.state, waiting_on = EXCLUDED.waiting_on,
        steps = rhythm.workflow_state.steps + 1, updated_at = now()
), forgotten AS (
    DELETE FROM rhythm.workflow_state
    WHERE execution_id = ANY (ARRAY(SELECT id FROM updated WHERE status IN ('completed', 'failed')))
), closed AS (
    DELETE FROM rhythm.signal_waits
    WHERE execution_id = ANY (ARRAY(SELECT id FROM updated WHERE status IN ('completed', 'failed')))
), unleased AS (
    DELETE FROM rhythm.leases AS l
    USING w
    WHERE l.execution_id = ANY (ARRAY(SELECT id FROM updated))
      AND l.execution_id = w.id AND l.attempt = w.attempt
), requeued AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM updated WHERE status = 'pending' ORDER BY id
)
SELECT id, status FROM updated;

-- name: fire_timers
-- (worker, beside promote_scheduled) Fire up to `limit` due timers: a Timer's handle completes
-- with null; a signal wait's timeout fails it with type "Timeout" if the wait is still open
-- (a wait a signal already matched is gone: the stale timeout is dropped). Timers of finished
-- workflows are dropped. The inbox rows wake suspended workflows (trigger
-- workflow_results_wake). Also reports the seconds until the next timer is due (NULL: none).
-- Lock order: timer rows (SKIP LOCKED), then the workflows (by id), then their waits.
WITH due AS (
    DELETE FROM rhythm.timers AS t
    WHERE (t.execution_id, t.handle) IN (
        SELECT execution_id, handle FROM rhythm.timers
        WHERE fire_at <= now()
        ORDER BY fire_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING t.execution_id, t.handle, t.kind, t.fire_at, t.signal_name, t.timeout_seconds
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    WHERE e.id = ANY (ARRAY(SELECT execution_id FROM due)) AND e.completed_at IS NULL
    ORDER BY e.id
    FOR UPDATE OF e
), timed_out AS (
    DELETE FROM rhythm.signal_waits AS w
    USING due
    WHERE due.kind = 'timeout' AND w.execution_id = due.execution_id AND w.handle = due.handle
      AND w.execution_id = ANY (ARRAY(SELECT id FROM locked))
    RETURNING w.execution_id, w.handle, due.fire_at, due.signal_name, due.timeout_seconds
), delivered AS (
    INSERT INTO rhythm.workflow_results (execution_id, handle, result)
    SELECT execution_id, handle, result
    FROM (
        SELECT execution_id, handle, fire_at,
               json_build_object('status', 'completed', 'output', NULL) AS result
        FROM due
        WHERE kind = 'timer' AND execution_id = ANY (ARRAY(SELECT id FROM locked))
        UNION ALL
        SELECT execution_id, handle, fire_at, json_build_object(
            'status', 'failed',
            'error', json_build_object(
                'type', 'Timeout',
                'message', 'no signal ' || quote_literal(signal_name) || ' arrived within '
                    || timeout_seconds || ' seconds'))
        FROM timed_out
    ) AS f
    ORDER BY fire_at, execution_id, handle
    ON CONFLICT (execution_id, handle) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM delivered)::int AS fired,
       (SELECT count(*) FROM due)::int AS taken,
       (SELECT extract(epoch FROM min(fire_at) - clock_timestamp())::float8
        FROM rhythm.timers WHERE fire_at > now()) AS next_due_in;

-- ======================================================================== retry and restart
-- Actions on finished executions (rhythm.client.operations.retry_task and restart_workflow;
-- the console's buttons and `rhythm retry` / `rhythm restart` call them).

-- name: retry_task
-- (runtime-api) Run a failed task again: back to pending (its error cleared, its attempts
-- kept) and ready. Only a task started by a client: a workflow's child has already delivered
-- its failure to the workflow, which decided what to do with it. Pass: id. Returns `retried`
-- (1 or 0) with the execution's type, status and parent_id (no row: no such execution).
-- Locks: the executions row, then the ready row.
WITH retried AS (
    UPDATE rhythm.executions
    SET status = 'pending', error = NULL, output = NULL, completed_at = NULL
    WHERE id = %(id)s AND type = 'task' AND status IS NOT DISTINCT FROM 'failed'
      AND parent_id IS NULL
    RETURNING id, queue, priority
), queued AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM retried
)
SELECT (SELECT count(*) FROM retried)::int AS retried, e.type, e.status, e.parent_id
FROM rhythm.executions AS e
WHERE e.id = %(id)s;

-- name: restart_source
-- (runtime-api) What a restart starts from: the execution, the kept snapshot of step `step`
-- (NULL: its last kept one) and the extent of its history (kept: how many snapshots, first and
-- last step), whether this session keeps history (rhythm.history) and whether the version is
-- still registered (`defined`). Pass: id, step. No row: no such execution; snapshot columns
-- NULL: no such snapshot.
SELECT e.id, e.type, e.name, e.status, e.queue, e.priority, e.version_hash,
       coalesce(e.ordered_inputs, e.inputs::json)::text AS inputs,
       h.step, h.version_hash AS snapshot_version, h.state, h.waiting_on,
       k.kept, k.first_step, k.last_step,
       coalesce(current_setting('rhythm.history', true), '') = 'off' AS history_off,
       EXISTS (
           SELECT FROM rhythm.workflow_definitions AS d
           WHERE d.name = e.name AND d.version_hash = coalesce(h.version_hash, e.version_hash)
       ) AS defined
FROM rhythm.executions AS e
LEFT JOIN LATERAL (
    SELECT s.step, s.version_hash, s.state, s.waiting_on
    FROM rhythm.workflow_history AS s
    WHERE s.execution_id = e.id AND (%(step)s::bigint IS NULL OR s.step = %(step)s::bigint)
    ORDER BY s.step DESC
    LIMIT 1
) AS h ON true
CROSS JOIN LATERAL (
    SELECT count(*)::bigint AS kept, min(s.step) AS first_step, max(s.step) AS last_step
    FROM rhythm.workflow_history AS s
    WHERE s.execution_id = e.id
) AS k
WHERE e.id = %(id)s;

-- name: restart_children
-- (runtime-api) The executions a workflow started for the given handles (its tasks and child
-- workflows), with what a restart needs to start them again. Pass: id, handles.
SELECT parent_handle AS handle, type, name, queue, priority, max_retries, timeout_seconds,
       version_hash, inputs::text AS inputs,
       coalesce(ordered_inputs, inputs::json)::text AS ordered_inputs
FROM rhythm.executions
WHERE parent_id = %(id)s AND parent_handle = ANY (%(handles)s::int[])
ORDER BY parent_handle;

-- name: restart_timers_of
-- (runtime-api) The timers a workflow armed for the given handles (migration 0007's
-- rhythm.timer_history: Timer.delay / Timer.until, and Signal.when timeouts). Pass: id, handles.
SELECT handle, kind, fire_at, signal_name, timeout_seconds
FROM rhythm.timer_history
WHERE execution_id = %(id)s AND handle = ANY (%(handles)s::int[])
ORDER BY handle;

-- name: restart_workflow
-- (runtime-api) Create the restarted execution: a workflow on `version_hash` with the original's
-- name, queue, priority and inputs, linked to it (restarted_from, restarted_from_step). From a
-- snapshot (state given): suspended on that snapshot, its step count continuing the original's
-- numbering; its awaited tasks, child workflows, timers and signal waits are created by the
-- statements run after this one in the same transaction (start_step_tasks,
-- restart_child_workflows, restart_timers, start_step_waits). From the beginning (state NULL,
-- step 0): pending and ready, like a new start. Pass: id, name, queue, priority, inputs (JSON
-- text), version_hash, restarted_from, step, state (JSON text or NULL), waiting_on. Returns
-- the id. Fresh keys only: it takes no lock anyone else holds.
WITH created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, ordered_inputs, version_hash, status,
         started_at, restarted_from, restarted_from_step)
    VALUES (%(id)s, 'workflow', %(name)s, %(queue)s, %(priority)s, %(inputs)s::text::jsonb,
            %(inputs)s::text::json, %(version_hash)s,
            CASE WHEN %(state)s::text IS NULL THEN 'pending' ELSE 'suspended' END,
            CASE WHEN %(state)s::text IS NULL THEN NULL ELSE now() END,
            %(restarted_from)s, %(step)s)
    RETURNING id, queue, priority, status
), now_ready AS (
    INSERT INTO rhythm.ready (execution_id, queue, priority)
    SELECT id, queue, priority FROM created WHERE status = 'pending'
), saved AS (
    INSERT INTO rhythm.workflow_state (execution_id, version_hash, state, waiting_on, steps)
    SELECT id, %(version_hash)s, %(state)s::text::jsonb, %(waiting_on)s::int[], %(step)s
    FROM created
    WHERE status = 'suspended'
)
SELECT id FROM created;

-- name: restart_child_workflows
-- (runtime-api) The child workflows a restarted workflow awaits, started again from their
-- beginning with their inputs, each on the version the original child ran, in the parent's
-- queue and priority, ready at once. Pass: parent_id, ids, handles, names, inputs (JSON text),
-- version_hashes.
WITH c AS (
    SELECT *
    FROM unnest(%(ids)s::uuid[], %(handles)s::int[], %(names)s::text[], %(inputs)s::text[],
                %(version_hashes)s::text[]) AS c (id, handle, name, inputs, version_hash)
), created AS (
    INSERT INTO rhythm.executions
        (id, type, name, queue, priority, inputs, ordered_inputs, parent_id, parent_handle,
         version_hash)
    SELECT c.id, 'workflow', c.name, p.queue, p.priority, c.inputs::jsonb, c.inputs::json,
           %(parent_id)s, c.handle, c.version_hash
    FROM c CROSS JOIN (SELECT queue, priority FROM rhythm.executions WHERE id = %(parent_id)s) AS p
    ORDER BY c.handle
    RETURNING id, queue, priority, parent_handle
)
INSERT INTO rhythm.ready (execution_id, queue, priority)
SELECT id, queue, priority FROM created ORDER BY parent_handle;

-- name: restart_timers
-- (runtime-api) The timers a restarted workflow awaits, each at the time given (a time that
-- has passed fires at the next fire_timers). Pass: id, handles, kinds ('timer' | 'timeout'),
-- fire_ats, signal_names, timeouts.
INSERT INTO rhythm.timers (execution_id, handle, kind, fire_at, signal_name, timeout_seconds)
SELECT %(id)s, t.handle, t.kind, t.fire_at, t.signal_name, t.timeout
FROM unnest(%(handles)s::int[], %(kinds)s::text[], %(fire_ats)s::timestamptz[],
            %(signal_names)s::text[], %(timeouts)s::float8[])
    AS t (handle, kind, fire_at, signal_name, timeout);
