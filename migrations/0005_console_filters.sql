-- The console's executions list filtered by name and status together: without this it walks
-- every row of the name (or of the status) to fill a page, which for a combination with few or
-- no matches means the whole name's history (bench/bench_console.py: ~300 ms at 1M rows).
CREATE INDEX executions_name_status_created
    ON rhythm.executions (name, status, created_at DESC, id DESC);
