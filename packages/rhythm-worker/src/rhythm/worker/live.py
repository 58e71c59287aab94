"""What `rhythm run` shows while a workflow runs: one line per step as it happens.

`StepReporter.update(inspection)` compares the latest view of the workflow (its descendants and,
when it is suspended, where it waits) with the one before and returns the new events as rich
Text lines: a task or child workflow started, finished (with its duration) or failed (and whether
it will be retried), and the workflow or one of its child workflows waiting on a timer or a signal
(a child's line names its id, which is where a signal for it goes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from rhythm.client.cli_output import STATUS_MARK, STATUS_STYLE, seconds_text
from rhythm.client.inspection import Inspection
from rhythm.client.models import ChildExecution, Execution


@dataclass(frozen=True)
class _Seen:
    status: str
    attempt: int


class StepReporter:
    """Turns successive inspections of one workflow into event lines, each reported once."""

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self._waits: dict[str, tuple[object, ...]] = {}

    def update(self, found: Inspection, nested: Sequence[Inspection] = ()) -> list[Text]:
        """The new lines since the last call. `nested`: inspections of the root's suspended child
        workflows, so that a child waiting on a timer or a signal is shown as well."""
        root = found.execution
        depth = _depths(root, found.children)
        known = set(depth)
        under: dict[str, list[ChildExecution]] = {}
        for child in found.children:
            parent = child.parent_id if child.parent_id in known else root.id
            under.setdefault(parent or root.id, []).append(child)
        lines = self._tree(root.id, under, depth)
        lines.extend(self._waiting(found, 0))
        waiting = {root.id} | {child.execution.id for child in nested}
        for gone in set(self._waits) - waiting:  # resumed since: its next wait is news again
            del self._waits[gone]
        for child in nested:
            lines.extend(self._waiting(child, depth.get(child.execution.id, 1)))
        return lines

    def _tree(
        self, parent: str, under: dict[str, list[ChildExecution]], depth: dict[str, int]
    ) -> list[Text]:
        # Depth first, so that when several steps changed between two looks a child workflow's
        # own steps are shown under it, between its start and its end.
        lines: list[Text] = []
        for child in under.get(parent, []):
            opening, closing = self._child(child, depth.get(child.id, 1))
            lines.extend(opening)
            lines.extend(self._tree(child.id, under, depth))
            lines.extend(closing)
        return lines

    def _child(self, ex: ChildExecution, depth: int) -> tuple[list[Text], list[Text]]:
        """The new lines for one step: those opening it (started) and those closing it."""
        before = self._seen.get(ex.id)
        now = _Seen(ex.status, ex.attempt)
        if before == now:
            return [], []
        self._seen[ex.id] = now
        opening: list[Text] = []
        lines: list[Text] = []
        was_waiting = before is None or before.status == "pending"
        if ex.status in ("running", "suspended"):
            if was_waiting:
                again = f" (attempt {ex.attempt})" if ex.attempt > 1 else ""
                opening.append(_line(depth, "running", ex, f"started{again}"))
        elif ex.status == "pending":
            if before is not None and before.status == "running":
                problem = _message(ex.error)
                lines.append(_line(depth, "failed", ex, f"failed, will retry: {problem}"))
        else:
            if was_waiting and ex.status != "cancelled":
                # It started and finished between two looks: report both.
                opening.append(_line(depth, "running", ex, "started"))
            took = seconds_text(ex.duration)
            if ex.status == "completed":
                lines.append(_line(depth, "completed", ex, f"completed in {took}"))
            elif ex.status == "failed":
                lines.append(
                    _line(depth, "failed", ex, f"failed after {took}: {_message(ex.error)}")
                )
            else:
                lines.append(_line(depth, "cancelled", ex, "cancelled"))
        return opening, lines

    def _waiting(self, found: Inspection, depth: int) -> list[Text]:
        ex = found.execution
        wait = found.wait
        if ex.status != "suspended" or wait is None:
            self._waits.pop(ex.id, None)
            return []
        key = (wait.line, wait.column, tuple(_describe(w) for w in wait.waits_on))
        if self._waits.get(ex.id) == key:
            return []
        self._waits[ex.id] = key
        on = [w for w in wait.waits_on if w.get("kind") in ("timer", "signal")]
        if not on:
            return []  # waiting on tasks or children only: their lines say it all
        text = Text("  " * (depth + 1))
        text.append(f"{STATUS_MARK['suspended']} ", style=STATUS_STYLE["suspended"])
        if depth:
            text.append("workflow ", style="dim")
            text.append(f"{ex.name} {ex.id} ", style="bold")
        text.append("waiting on " + ", ".join(_describe(w) for w in on), style="bold")
        text.append(f"  (line {wait.line})", style="dim")
        return [text]


def _depths(root: Execution, children: list[ChildExecution]) -> dict[str, int]:
    depth = {root.id: 0}
    for child in children:  # parents come before their children (start order)
        depth[child.id] = depth.get(child.parent_id or "", 0) + 1
    return depth


def _line(depth: int, style_of: str, ex: ChildExecution, what: str) -> Text:
    text = Text("  " * depth)
    text.append(f"{STATUS_MARK[style_of]} ", style=STATUS_STYLE[style_of])
    text.append(f"{ex.type} ", style="dim")
    text.append(ex.name, style="bold")
    text.append(f" {what}")
    return text


def _message(error: object) -> str:
    if isinstance(error, dict):
        kind = error.get("type")
        message = str(error.get("message", ""))
        return f"{kind}: {message}" if kind else message
    return str(error)


def _describe(wait: dict[str, object]) -> str:
    kind = str(wait.get("kind", "?"))
    name = wait.get("name")
    if kind == "signal" and name:
        return f"signal {name!r}"
    if kind == "timer" and name:
        return f"timer ({name})"
    return f"{kind} {name!r}" if name else kind
