"""Restart from here: what a new execution started from a kept snapshot needs, as statements.

A snapshot (migration 0004's rhythm.workflow_history) is the VM's whole state at one suspension.
Resuming it as a new execution needs more than the state: everything it had started and not
yet received a result for - its `pending` handles, awaited now or later - must exist again for
the new execution, or the await would never wake:

    task       started again (ready at once) with the inputs, queue, priority, retries and
               timeout of the task the original started for that handle
    workflow   a child workflow started again from its beginning with the original child's
               inputs, on the version the original child ran
    timer      armed again at the time it was due in the original (rhythm.timer_history,
               migration 0007): one whose time has passed fires at once
    signal     the wait registered again (signals sent to the original are not carried over),
               with its Signal.when timeout re-armed like a timer

Results the original received after the snapshot are not carried over: the new execution gets
its own. Pure: `plan_restart` turns the rows read by operations.restart_workflow into the
parameters of the statements it writes in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rhythm.client import step_tasks
from rhythm.client.errors import CannotRestart
from rhythm.client.ids import new_id


@dataclass(frozen=True)
class PendingHandle:
    """A handle the snapshot had started and not received a result for."""

    handle: int
    kind: str  # "task" | "workflow" | "timer" | "signal"
    name: str  # the task, workflow or signal name ("" for a timer)


def pending_handles(state: dict[str, Any]) -> list[PendingHandle]:
    """The unresolved handles of a snapshot (its `pending` list, see rhythm.core.snapshot), in
    handle order. CannotRestart when the state is not one the VM wrote."""
    try:
        heap = state["heap"]
        found = []
        for handle, ref in state.get("pending", []):
            entry = heap[ref["$r"]]
            found.append(PendingHandle(int(handle), str(entry["k"]), str(entry["n"])))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise CannotRestart(f"the snapshot is damaged ({exc!r}); it cannot be resumed") from None
    return sorted(found, key=lambda p: p.handle)


@dataclass
class RestartPlan:
    """The parameters of start_step_tasks, restart_child_workflows, restart_timers and
    start_step_waits for the new execution (`parent_id`)."""

    parent_id: uuid.UUID
    tasks: dict[str, list[Any]] = field(default_factory=step_tasks.empty)
    workflows: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("ids", "handles", "names", "inputs", "version_hashes")
        }
    )
    timers: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("handles", "kinds", "fire_ats", "signal_names", "timeouts")
        }
    )
    waits: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in ("handles", "names", "timeouts")}
    )

    def statements(self) -> list[tuple[str, dict[str, Any]]]:
        """(query name, parameters) of each statement with something to store, in order."""
        out: list[tuple[str, dict[str, Any]]] = []
        if self.tasks["ids"]:
            # Created for the queue, never already claimed (a worker's eager dispatch).
            unclaimed = {
                "eager": [False] * len(self.tasks["ids"]),
                "worker_id": None,
                "lease_seconds": None,
            }
            parents = {"parent_ids": [self.parent_id] * len(self.tasks["ids"])}
            out.append(("start_step_tasks", {**unclaimed, **self.tasks, **parents}))
        if self.workflows["ids"]:
            out.append(("restart_child_workflows", {**self.workflows, "parent_id": self.parent_id}))
        if self.timers["handles"]:
            out.append(("restart_timers", {**self.timers, "id": self.parent_id}))
        if self.waits["handles"]:
            out.append(("start_step_waits", {**self.waits, "id": self.parent_id}))
        return out

    def add_timer(self, handle: int, row: dict[str, Any]) -> None:
        t = self.timers
        t["handles"].append(handle)
        t["kinds"].append(row["kind"])
        t["fire_ats"].append(row["fire_at"])
        t["signal_names"].append(row["signal_name"])
        t["timeouts"].append(row["timeout_seconds"])


def plan_restart(
    original: str,
    step: int,
    pending: Sequence[PendingHandle],
    children: Sequence[dict[str, Any]],
    timers: Sequence[dict[str, Any]],
    new_execution: uuid.UUID,
) -> RestartPlan:
    """What to create so that `pending` (of the snapshot of `step` of workflow `original`) can
    settle for `new_execution`; `children` and `timers` are the rows of restart_children and
    restart_timers_of. CannotRestart names a handle whose origin is no longer stored."""
    by_handle = {int(r["handle"]): r for r in children}
    timer_rows = {int(r["handle"]): r for r in timers}
    plan = RestartPlan(new_execution)
    for p in pending:
        what = (
            f"{p.kind} {p.name!r} (handle {p.handle})"
            if p.name
            else f"{p.kind} (handle {p.handle})"
        )
        if p.kind in ("task", "workflow"):
            row = by_handle.get(p.handle)
            if row is None or row["type"] != p.kind:
                raise CannotRestart(
                    f"cannot restart workflow {original} from step {step}: the {what} it had "
                    "started is no longer stored (pruned?), so it cannot be started again"
                )
            if p.kind == "task":
                _add_task(plan, p, row)
            else:
                w = plan.workflows
                w["ids"].append(new_id())
                w["handles"].append(p.handle)
                w["names"].append(row["name"])
                w["inputs"].append(row["ordered_inputs"])
                w["version_hashes"].append(row["version_hash"])
        elif p.kind == "timer":
            timer = timer_rows.get(p.handle)
            if timer is None:
                raise CannotRestart(
                    f"cannot restart workflow {original} from step {step}: when its {what} was "
                    "due is not stored (it was armed while history was off, or before "
                    "migration 0007)"
                )
            plan.add_timer(p.handle, timer)
        elif p.kind == "signal":
            plan.waits["handles"].append(p.handle)
            plan.waits["names"].append(p.name)
            plan.waits["timeouts"].append(None)  # a timeout is re-armed as a timer below
            timeout = timer_rows.get(p.handle)
            if timeout is not None and timeout["kind"] == "timeout":
                plan.add_timer(p.handle, timeout)
        else:
            raise CannotRestart(
                f"cannot restart workflow {original} from step {step}: its snapshot holds a "
                f"pending handle of unknown kind {p.kind!r}"
            )
    return plan


def _add_task(plan: RestartPlan, p: PendingHandle, row: dict[str, Any]) -> None:
    step_tasks.append(
        plan.tasks,
        id=new_id(),
        handle=p.handle,
        name=row["name"],
        queue=row["queue"],
        priority=row["priority"],
        inputs=row["inputs"],
        max_retries=row["max_retries"],
        timeout=row["timeout_seconds"],
        delay=None,  # a delay was served by the original; the task runs at once
    )


def describe_kept(row: dict[str, Any]) -> str:
    """The kept history of a restart_source row, for error messages."""
    kept = int(row["kept"] or 0)
    if kept == 0:
        return "none is kept"
    if kept == 1:
        return f"the only one kept is step {row['first_step']}"
    return f"kept: {kept} snapshots, steps {row['first_step']} to {row['last_step']}"
