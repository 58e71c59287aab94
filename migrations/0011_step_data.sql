-- What a workflow's step needs, as one JSON text: the row load_steps returns (name, version,
-- source, inputs with their key order, snapshot, steps, and the inbox as [[handle, result], ...]
-- oldest first). `claim` and `claim_woken` return it with every workflow they claim, so that
-- the stepper needs no load round trip. STABLE: it reads with the snapshot of the statement
-- that calls it, as a subquery of that statement would.
CREATE FUNCTION rhythm.step_data(workflow_id uuid) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT json_build_object(
            'id', e.id, 'name', e.name, 'version_hash', e.version_hash,
            'parent_id', e.parent_id, 'parent_handle', e.parent_handle,
            'inputs', coalesce(e.ordered_inputs, e.inputs::json), 'source', d.source,
            'state', s.state, 'steps', s.steps,
            'results', (SELECT json_agg(json_build_array(r.handle, r.result) ORDER BY r.seq)
                        FROM rhythm.workflow_results AS r WHERE r.execution_id = e.id)
        )::text
        FROM rhythm.executions AS e
        LEFT JOIN rhythm.workflow_definitions AS d
            ON d.name = e.name AND d.version_hash = e.version_hash
        LEFT JOIN rhythm.workflow_state AS s ON s.execution_id = e.id
        WHERE e.id = workflow_id
    );
END
$$;
