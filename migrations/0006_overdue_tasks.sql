-- Tasks that ran past their timeout but could not be stopped (a sync task's thread, a coroutine
-- that swallows its cancellation): their attempt has already failed, yet each still holds one of
-- its worker's concurrency slots until it returns. The worker keeps one row per such attempt
-- (sync_overdue) so `rhythm status` can show them; the row goes when the task returns.
-- A killed worker cannot delete its rows, so each row carries an expiry that its worker pushes
-- forward with its lease renewals: status shows only unexpired rows, and any worker's next
-- renewal deletes expired ones. No foreign key to rhythm.executions: writing here must never
-- wait on an execution's row lock.
CREATE TABLE rhythm.overdue (
    worker_id       text             NOT NULL,
    execution_id    uuid             NOT NULL,
    attempt         integer          NOT NULL,
    name            text             NOT NULL,
    timeout_seconds double precision,
    timed_out_at    timestamptz      NOT NULL DEFAULT now(),
    expires_at      timestamptz      NOT NULL,
    PRIMARY KEY (worker_id, execution_id, attempt)
);
