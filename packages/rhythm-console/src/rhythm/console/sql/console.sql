-- The console's reads, by name (loaded by rhythm/console/queries.py). All of them are plain
-- SELECTs in autocommit: the console takes no locks. Its actions go through rhythm.client's
-- Client API and so through rhythm/client/sql/queries.sql.

-- name: list_executions
-- One page of executions, newest first, after the keyset cursor (before_created, before_id) when
-- given. Every filter is optional (NULL: any). Walks executions_created (no filter),
-- executions_status_created, executions_name_created or executions_name_status_created
-- (migration 0005); never sorts the table.
SELECT id, type, name, queue, status, attempt, parent_id, idempotency_key, created_at,
       started_at, completed_at
FROM rhythm.executions
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(type)s::text IS NULL OR type = %(type)s::text)
  AND (%(name)s::text IS NULL OR name = %(name)s::text)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s::text)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s::timestamptz)
  AND (%(before_created)s::timestamptz IS NULL
       OR (created_at, id) < (%(before_created)s::timestamptz, %(before_id)s::uuid))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;

-- name: find_execution
-- An execution by id or by idempotency key (the text given is tried as both).
SELECT id FROM rhythm.executions
WHERE id = %(id)s::uuid OR idempotency_key = %(key)s::text
LIMIT 1;

-- name: throughput
-- Completions and failures per minute over the last hour (minutes with none are absent).
SELECT date_trunc('minute', completed_at) AS minute,
       count(*) FILTER (WHERE status = 'completed')::int AS completed,
       count(*) FILTER (WHERE status = 'failed')::int AS failed
FROM rhythm.executions
WHERE completed_at IS NOT NULL AND completed_at >= now() - interval '1 hour'
GROUP BY 1
ORDER BY 1;

-- name: execution_signals
-- The signals sent to an execution, in the order sent, with the wait (handle) each resolved.
SELECT id, name, payload, created_at, consumed_at, handle
FROM rhythm.signals
WHERE execution_id = %(id)s
ORDER BY id;

-- name: execution_waits
-- A workflow's open signal waits and timers (what its timeline shows as still waiting).
SELECT 'signal' AS kind, w.handle, w.name, NULL::timestamptz AS fire_at
FROM rhythm.signal_waits AS w WHERE w.execution_id = %(id)s
UNION ALL
SELECT t.kind, t.handle, t.signal_name, t.fire_at
FROM rhythm.timers AS t WHERE t.execution_id = %(id)s
ORDER BY handle;

-- name: definitions
-- Every workflow version: name, hash, first seen, last registered and how many executions run
-- on it (counted through executions_definition).
SELECT d.name, d.version_hash, d.created_at, d.registered_at,
       (SELECT count(*) FROM rhythm.executions AS e
        WHERE e.name = d.name AND e.version_hash = d.version_hash)::int AS executions
FROM rhythm.workflow_definitions AS d
ORDER BY d.name, d.registered_at DESC;

-- name: definition_source
-- The source of one workflow version.
SELECT source FROM rhythm.workflow_definitions
WHERE name = %(name)s AND version_hash = %(version_hash)s;

-- name: history_steps
-- The steps of a workflow's kept history (migration 0004), oldest first: step number, when.
SELECT step, saved_at FROM rhythm.workflow_history
WHERE execution_id = %(id)s
ORDER BY step;

-- name: history_snapshot
-- One kept snapshot of a workflow and the source of its version.
SELECT h.step, h.version_hash, h.state, h.waiting_on, h.saved_at, d.source
FROM rhythm.workflow_history AS h
JOIN rhythm.executions AS e ON e.id = h.execution_id
LEFT JOIN rhythm.workflow_definitions AS d
    ON d.name = e.name AND d.version_hash = h.version_hash
WHERE h.execution_id = %(id)s AND h.step = %(step)s;

-- name: metrics_executions
-- /metrics: executions per (type, name, status) in the table (a scan of rhythm.executions; a
-- scrape every 15 s is the intended rate).
SELECT type, name, status, count(*)::bigint AS n
FROM rhythm.executions
GROUP BY type, name, status;

-- name: metrics_durations
-- /metrics: run time (start to end) of executions that finished in the last hour, per (type,
-- name, bucket): bucket = how many of `bounds` (ascending) lie below the run time, so 0 is the
-- first bucket and len(bounds) the +Inf one. Through executions_completed_at.
SELECT type, name, bucket, count(*)::bigint AS n, sum(s) AS total
FROM (
    SELECT type, name, s,
           (SELECT count(*) FROM unnest(%(bounds)s::float8[]) AS b WHERE b < s)::int AS bucket
    FROM (
        SELECT type, name, extract(epoch FROM completed_at - started_at)::float8 AS s
        FROM rhythm.executions
        WHERE completed_at IS NOT NULL AND completed_at >= now() - interval '1 hour'
          AND started_at IS NOT NULL
    ) AS runs
) AS bucketed
GROUP BY type, name, bucket;

-- name: execution_restarts
-- The executions restarted from this one (executions.restart), oldest first, through
-- executions_restarted_from (migration 0007).
SELECT id, status, restarted_from_step, created_at
FROM rhythm.executions
WHERE restarted_from = %(id)s
ORDER BY created_at, id
LIMIT 100;

-- name: metrics_task_waits
-- /metrics: queue wait (creation to first start) of tasks that finished in the last hour, per
-- (name, bucket) as in metrics_durations. Through executions_completed_at.
SELECT name, bucket, count(*)::bigint AS n, sum(s) AS total
FROM (
    SELECT name, s,
           (SELECT count(*) FROM unnest(%(bounds)s::float8[]) AS b WHERE b < s)::int AS bucket
    FROM (
        SELECT name, greatest(0, extract(epoch FROM started_at - created_at))::float8 AS s
        FROM rhythm.executions
        WHERE completed_at IS NOT NULL AND completed_at >= now() - interval '1 hour'
          AND type = 'task' AND started_at IS NOT NULL
    ) AS waits
) AS bucketed
GROUP BY name, bucket;

-- name: metrics_step_latency
-- /metrics: workflow step latency, wake-up to step: for the last `sample` results workflows
-- received from children (tasks, child workflows) in the last hour, the time from the result
-- (the child's end) to the commit of the step that read it - the next child the workflow
-- created after it, or the workflow's end (a step's commit stamps both with its transaction's
-- time). Results that arrived together (Promise.all) count once, from the last of them. Wake-ups
-- by timers and signals, and steps that start nothing new and do not finish, are not counted.
-- Per (workflow name, bucket) as in metrics_durations. Through executions_completed_at and
-- executions_parent_created (migration 0008).
WITH results AS (
    SELECT c.parent_id, c.completed_at
    FROM rhythm.executions AS c
    WHERE c.completed_at IS NOT NULL AND c.completed_at >= now() - interval '1 hour'
      AND c.parent_handle IS NOT NULL
    ORDER BY c.completed_at DESC
    LIMIT %(sample)s
), stepped AS (
    SELECT r.parent_id, r.completed_at, w.name,
           least(n.created_at, CASE WHEN w.completed_at >= r.completed_at THEN w.completed_at END)
               AS step_at
    FROM results AS r
    JOIN rhythm.executions AS w ON w.id = r.parent_id
    LEFT JOIN LATERAL (
        SELECT s.created_at FROM rhythm.executions AS s
        WHERE s.parent_id = r.parent_id AND s.created_at >= r.completed_at
        ORDER BY s.created_at
        LIMIT 1
    ) AS n ON true
), steps AS (
    SELECT st.name, extract(epoch FROM st.step_at - max(st.completed_at))::float8 AS s
    FROM stepped AS st
    WHERE st.step_at IS NOT NULL
    GROUP BY st.name, st.parent_id, st.step_at
)
SELECT name, bucket, count(*)::bigint AS n, sum(s) AS total
FROM (
    SELECT name, s,
           (SELECT count(*) FROM unnest(%(bounds)s::float8[]) AS b WHERE b < s)::int AS bucket
    FROM steps
) AS bucketed
GROUP BY name, bucket;
