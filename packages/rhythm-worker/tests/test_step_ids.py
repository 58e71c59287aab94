"""The ids a step gives the tasks and child workflows it starts (no database: the effect
collector the stepper fills before its one commit)."""

from __future__ import annotations

import uuid

from rhythm.core.effects import StartTask, StartWorkflow, TaskOptions
from rhythm.worker.stepper import _Effects


def test_children_and_tasks_of_a_step_get_time_ordered_ids_in_start_order() -> None:
    # `rhythm inspect` and `rhythm run` list a workflow's steps ordered by (created_at, id), and
    # everything a step starts shares one created_at: the ids must follow the start order, and
    # be UUIDv7 like every other execution id (child workflows had random UUIDv4 ones).
    effects = _Effects(str(uuid.uuid4()))
    for handle in range(200):
        if handle % 3:
            effects.add(StartTask(handle, "leaf", {"n": handle}, TaskOptions()))
        else:
            effects.add(StartWorkflow(handle, "child", {"n": handle}))
    by_handle = dict(zip(effects.tasks["handles"], effects.tasks["ids"], strict=True))
    by_handle.update({handle: wid for wid, handle, _, _ in effects.workflows})
    ids = [by_handle[h] for h in range(200)]
    assert all(uuid.UUID(str(i)).version == 7 for i in ids)
    assert ids == sorted(ids, key=lambda i: uuid.UUID(str(i)))
