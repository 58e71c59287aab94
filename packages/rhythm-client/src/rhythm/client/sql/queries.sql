-- Every SQL statement Rhythm runs, each under a `-- name:` line; loaded by rhythm.client.queries.
-- Parameters use psycopg's %(name)s style, so a literal percent sign must be written %%.
--
-- Lock order. Every statement that touches an execution's rows takes its locks in this order, so
-- two of them can never wait on each other in a cycle (deadlock_detected, SQLSTATE 40P01):
--   1. queue rows being consumed (rhythm.ready, rhythm.scheduled): only with SKIP LOCKED (claim,
--      promote_scheduled) or for the single execution being cancelled (cancel_unqueue);
--   2. rhythm.executions rows, all of them up front, FOR UPDATE in id order (an ARRAY(...) of a
--      locking CTE is evaluated completely before the statement modifies anything);
--   3. rhythm.leases rows of those executions;
--   4. new rows in rhythm.ready / rhythm.scheduled (fresh keys nobody else holds).
-- Statements that only keep house never wait at all: reap_expired_leases and
-- renew_leases take their rows with SKIP LOCKED (a row someone is finishing is left for later),
-- and prune_executions skips locked executions. A multi-row statement is always a transaction
-- of its own: a worker writes its completions and its failures as separate statements.

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
SELECT id, type, name, queue, priority, status, inputs, output, error, attempt, parent_id,
       idempotency_key, version_hash, created_at, started_at, completed_at
FROM rhythm.executions
WHERE id = %(id)s;

-- name: list_executions
-- Newest first, optionally only one status, type ('task' or 'workflow'), name or queue.
SELECT id, type, name, queue, priority, status, inputs, output, error, attempt, parent_id,
       idempotency_key, version_hash, created_at, started_at, completed_at
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
WITH cancelled AS (
    UPDATE rhythm.executions
    SET status = 'cancelled', completed_at = now()
    WHERE id = %(id)s AND status IN ('pending', 'running', 'suspended')
    RETURNING id
), unleased AS (
    DELETE FROM rhythm.leases WHERE execution_id = ANY (ARRAY(SELECT id FROM cancelled))
)
SELECT (SELECT count(*) FROM cancelled) AS cancelled,
       (SELECT status FROM rhythm.executions WHERE id = %(id)s) AS previous_status;

-- name: claim
-- Take up to `limit` ready executions of the given queues, highest priority first, then oldest;
-- delete them from the ready queue, mark them running and lease them to this worker.
-- Lock order: ready rows (SKIP LOCKED, so claims never wait on each other), then their
-- executions in id order, then the new leases.
WITH picked AS (
    -- Per queue, an ordered walk of the ready_claim index; then the best of those.
    SELECT c.execution_id
    FROM unnest(%(queues)s::text[]) AS q (name)
    CROSS JOIN LATERAL (
        SELECT r.execution_id, r.priority, r.seq
        FROM rhythm.ready AS r
        WHERE r.queue = q.name
        ORDER BY r.priority DESC, r.seq
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS c
    ORDER BY c.priority DESC, c.seq
    LIMIT %(limit)s
), taken AS (
    DELETE FROM rhythm.ready AS r
    WHERE r.execution_id = ANY (ARRAY(SELECT execution_id FROM picked))
    RETURNING r.execution_id
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
              e.timeout_seconds, e.version_hash
), leased AS (
    INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)
    SELECT id, %(worker_id)s, attempt, now() + make_interval(secs => %(lease_seconds)s::float8)
    FROM started
    ON CONFLICT (execution_id) DO UPDATE
    SET worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt,
        expires_at = EXCLUDED.expires_at
)
SELECT id, type, name, queue, priority, inputs, attempt, max_retries, timeout_seconds,
       version_hash
FROM started
ORDER BY priority DESC;

-- name: complete
-- Record the outputs of finished attempts. The attempt number fences out a worker whose lease
-- lapsed; the status check never overwrites a cancellation. Lock order: executions (by id), then
-- leases.
WITH done AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[], %(outputs)s::text[])
        AS d (id, attempt, output)
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    JOIN done ON done.id = e.id AND done.attempt = e.attempt
    WHERE e.status = 'running'
    ORDER BY e.id
    FOR UPDATE OF e
), finished AS (
    UPDATE rhythm.executions AS e
    SET status = 'completed', output = done.output::jsonb, error = NULL, completed_at = now()
    FROM done
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = done.id AND e.attempt = done.attempt AND e.status = 'running'
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
-- after that many seconds; without one it is failed for good. Lock order: executions (by id),
-- then leases, then the new scheduled rows.
WITH f AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(attempts)s::int[], %(errors)s::text[],
                         %(retry_delays)s::float8[])
        AS f (id, attempt, error, retry_delay)
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    JOIN f ON f.id = e.id AND f.attempt = e.attempt
    WHERE e.status = 'running'
    ORDER BY e.id
    FOR UPDATE OF e
), updated AS (
    UPDATE rhythm.executions AS e
    SET status = CASE WHEN f.retry_delay IS NULL THEN 'failed' ELSE 'pending' END,
        error = f.error::jsonb,
        completed_at = CASE WHEN f.retry_delay IS NULL THEN now() END
    FROM f
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = f.id AND e.attempt = f.attempt AND e.status = 'running'
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
    WHERE e.status = 'running'
    ORDER BY e.id
    FOR UPDATE OF e
), back AS (
    UPDATE rhythm.executions AS e
    SET status = 'pending', attempt = e.attempt - 1
    FROM r
    WHERE e.id = ANY (ARRAY(SELECT id FROM locked))
      AND e.id = r.id AND e.attempt = r.attempt AND e.status = 'running'
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

-- name: renew_leases
-- Extend every lease this worker holds and return them all (a missing one was cancelled or taken
-- over). Never waits: a lease another transaction has locked right now (being finished, cancelled
-- or reaped) is left alone this round and still reported, so the loss is noticed next round.
WITH renewed AS (
    UPDATE rhythm.leases
    SET expires_at = now() + make_interval(secs => %(lease_seconds)s::float8)
    WHERE execution_id = ANY (ARRAY(
        SELECT execution_id FROM rhythm.leases
        WHERE worker_id = %(worker_id)s
        FOR UPDATE SKIP LOCKED
    ))
)
SELECT execution_id, attempt FROM rhythm.leases WHERE worker_id = %(worker_id)s;

-- name: reap_expired_leases
-- Executions whose worker stopped renewing its lease go back to the ready queue; after
-- `lost_worker_retries` such losses beyond their retries they fail. Never waits on a lock: an
-- execution a worker is finishing right now (or a lease being renewed) is skipped, and looked at
-- again on the next pass. Lock order: executions (by id), then leases, then new ready rows.
WITH expired AS (
    SELECT execution_id, attempt
    FROM rhythm.leases
    WHERE expires_at < now()
    ORDER BY expires_at
    LIMIT 500
), locked AS (
    SELECT e.id
    FROM rhythm.executions AS e
    JOIN expired AS x ON x.execution_id = e.id AND x.attempt = e.attempt
    WHERE e.status = 'running'
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
), lapsed AS (
    DELETE FROM rhythm.leases AS l
    WHERE l.execution_id = ANY (ARRAY(
        SELECT l2.execution_id
        FROM rhythm.leases AS l2
        WHERE l2.execution_id = ANY (ARRAY(SELECT id FROM locked)) AND l2.expires_at < now()
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
    WHERE e.id = lapsed.execution_id AND e.attempt = lapsed.attempt AND e.status = 'running'
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
-- statement; a version stored before is left as it is. Returns the (name, version_hash) pairs
-- that were new. Touches no execution, so it takes no part in the lock order.
INSERT INTO rhythm.workflow_definitions (name, version_hash, source)
SELECT d.name, d.version_hash, d.source
FROM unnest(%(names)s::text[], %(version_hashes)s::text[], %(sources)s::text[])
    AS d (name, version_hash, source)
ON CONFLICT (name, version_hash) DO NOTHING
RETURNING name, version_hash;

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
          WHERE p.id = e.parent_id AND p.status IN ('pending', 'running', 'suspended')
      )
      AND NOT EXISTS (
          SELECT FROM rhythm.executions AS c
          WHERE c.parent_id = e.id AND c.status IN ('pending', 'running', 'suspended')
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
