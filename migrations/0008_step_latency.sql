-- /metrics' step latency (rhythm.console.metrics): for a result a workflow received from a
-- child (a task or child workflow finishing), the time to the workflow's next step commit, read
-- as the creation time of the next child that step started (each step's commit stamps its new
-- children with its transaction's time) or the workflow's end. That lookup - the first child of
-- a workflow created after a moment - walks this index; it replaces executions_parent (the same
-- rows, one more key column), so a task insert maintains no more indexes than before.
CREATE INDEX executions_parent_created ON rhythm.executions (parent_id, created_at)
    WHERE parent_id IS NOT NULL;
DROP INDEX rhythm.executions_parent;
