-- Rhythm's schema: everything lives in the Postgres schema "rhythm".
--
-- Executions hold the history of every task and workflow run until pruned (Client.executions.prune,
-- `rhythm prune`: finished rows older than an age, in batches). The queue
-- itself is kept in small side tables whose rows are deleted as soon as they are consumed, so
-- claiming never walks finished work:
--   ready      runnable now (claimed with FOR UPDATE SKIP LOCKED, deleted when claimed)
--   scheduled  runnable later (delays, retry backoff, timers); promoted to ready when due
--   leases     what a worker is running right now and until when it holds it
CREATE SCHEMA IF NOT EXISTS rhythm;

CREATE TABLE rhythm.workflow_definitions (
    name         text        NOT NULL,
    version_hash text        NOT NULL,
    source       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version_hash)
);

CREATE TABLE rhythm.executions (
    id              uuid        PRIMARY KEY,
    type            text        NOT NULL CHECK (type IN ('task', 'workflow')),
    name            text        NOT NULL CHECK (name <> ''),
    queue           text        NOT NULL DEFAULT 'default' CHECK (queue <> ''),
    priority        integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'pending' CHECK (
        status IN ('pending', 'running', 'suspended', 'completed', 'failed', 'cancelled')
    ),
    inputs          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    output          jsonb,
    error           jsonb,
    attempt         integer     NOT NULL DEFAULT 0,
    -- NULL: use the worker's registered default for this task
    max_retries     integer     CHECK (max_retries >= 0),
    timeout_seconds double precision CHECK (timeout_seconds > 0),
    parent_id       uuid        REFERENCES rhythm.executions (id) ON DELETE SET NULL,
    idempotency_key text        UNIQUE,
    version_hash    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz
);
CREATE INDEX executions_status_created ON rhythm.executions (status, created_at DESC);
CREATE INDEX executions_name_created ON rhythm.executions (name, created_at DESC);
CREATE INDEX executions_parent ON rhythm.executions (parent_id) WHERE parent_id IS NOT NULL;

-- The ready queue. `seq` orders by age without a clock; rows are deleted when claimed.
CREATE TABLE rhythm.ready (
    execution_id uuid    PRIMARY KEY REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    queue        text    NOT NULL,
    priority     integer NOT NULL,
    seq          bigint  GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX ready_claim ON rhythm.ready (queue, priority DESC, seq);

CREATE TABLE rhythm.scheduled (
    execution_id uuid        PRIMARY KEY REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    run_at       timestamptz NOT NULL,
    queue        text        NOT NULL,
    priority     integer     NOT NULL
);
CREATE INDEX scheduled_run_at ON rhythm.scheduled (run_at);

CREATE TABLE rhythm.leases (
    execution_id uuid        PRIMARY KEY REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    worker_id    text        NOT NULL,
    attempt      integer     NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX leases_expires_at ON rhythm.leases (expires_at);

-- Room for workflows: the VM snapshot of a suspended workflow, and signals sent to executions.
CREATE TABLE rhythm.workflow_state (
    execution_id uuid        PRIMARY KEY REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    version_hash text        NOT NULL,
    state        jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rhythm.signals (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id uuid        NOT NULL REFERENCES rhythm.executions (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    payload      jsonb       NOT NULL DEFAULT 'null'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    consumed_at  timestamptz
);
CREATE INDEX signals_pending ON rhythm.signals (execution_id, name, id) WHERE consumed_at IS NULL;

-- Wake-ups. One NOTIFY per statement and queue on `rhythm_ready` (payload: the queue name),
-- one on `rhythm_scheduled` when delayed work is added (workers re-read the next due time), and
-- one per statement on `rhythm_done` listing the executions that just finished (payload: ids
-- separated by commas, at most 200 per notification) for Client.executions.wait().
CREATE FUNCTION rhythm.notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rhythm_ready', q.queue) FROM (SELECT DISTINCT queue FROM new_rows) AS q;
    RETURN NULL;
END
$$;
CREATE TRIGGER ready_notify AFTER INSERT ON rhythm.ready
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_ready();

CREATE FUNCTION rhythm.notify_scheduled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM new_rows) THEN
        PERFORM pg_notify('rhythm_scheduled', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER scheduled_notify AFTER INSERT ON rhythm.scheduled
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_scheduled();

CREATE FUNCTION rhythm.notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rhythm_done', string_agg(d.id::text, ','))
    FROM (
        SELECT n.id, (row_number() OVER ()) / 200 AS chunk
        FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.status IN ('completed', 'failed', 'cancelled') AND o.status IS DISTINCT FROM n.status
    ) AS d
    GROUP BY d.chunk;
    RETURN NULL;
END
$$;
CREATE TRIGGER executions_done_notify AFTER UPDATE ON rhythm.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rhythm.notify_done();

-- Fresh statistics, so plans made before autovacuum's first visit are sane.
ANALYZE rhythm.executions, rhythm.ready, rhythm.scheduled, rhythm.leases;
