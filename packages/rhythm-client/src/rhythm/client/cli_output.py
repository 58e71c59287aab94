"""How the `rhythm` commands print: rich tables and panels for people, plain JSON for scripts.

Every command that shows data takes `--json`; without it, output goes through `console()`, which
prints colours on a terminal and plain text (no escape codes) when piped."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rhythm.client.models import STATUSES, ChildExecution, Execution, OverdueTask, Overview

F = TypeVar("F", bound=Callable[..., Any])

# Piped output is read by people too (in CI logs, `| less`): wide enough that ids never wrap.
PIPED_WIDTH = 160

STATUS_STYLE = {
    "pending": "yellow",
    "running": "cyan",
    "suspended": "magenta",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "dim",
}
STATUS_MARK = {
    "pending": "·",
    "running": "▶",
    "suspended": "⏸",
    "completed": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}


def json_option(fn: F) -> F:
    """`--json`: print machine-readable JSON instead of tables."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of tables."
    )(fn)


class _PipedConsole(Console):
    """A console for output that is not a terminal: plain text whose lines carry no padding
    (rich pads table cells and panels to a common width, which is noise in a log or a file)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        with self.capture() as captured:
            super().print(*objects, **kwargs)
        text = "\n".join(line.rstrip() for line in captured.get().split("\n"))
        self.file.write(text)
        self.file.flush()


def console(stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr; click's test runner swaps them): colours on a
    terminal; plain, unpadded text that never wraps long ids when piped."""
    out = sys.stderr if stderr else sys.stdout
    if out.isatty():
        return Console(file=out, highlight=False, emoji=False)
    return _PipedConsole(file=out, width=PIPED_WIDTH, highlight=False, soft_wrap=True, emoji=False)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def status_text(status: str) -> Text:
    return Text(f"{STATUS_MARK.get(status, '?')} {status}", style=STATUS_STYLE.get(status, ""))


def seconds_text(seconds: float | None) -> str:
    """0.052 -> '52ms', 3.4 -> '3.4s', 125 -> '2m05s', 7300 -> '2h01m'."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def elapsed(ex: Execution | ChildExecution, now: datetime | None = None) -> float | None:
    """How long it ran: start to end, or start to now while it is unfinished."""
    if ex.started_at is None:
        return None
    end = ex.completed_at
    if end is None:
        if ex.finished:
            return None
        end = now or datetime.now(ex.started_at.tzinfo)
    return max(0.0, (end - ex.started_at).total_seconds())


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def steps_text(count: int) -> str:
    """A workflow's step count: its attempt counter, since a workflow is claimed once per step."""
    return "1 step" if count == 1 else f"{count} steps"


def listed_status(ex: Execution) -> Text:
    """The status; for an unfinished workflow that a worker handed back (it could not resume
    it: docs/workflows.md, "Versions and rolling upgrades"), why, from its `error`."""
    text = status_text(ex.status)
    if ex.type == "workflow" and not ex.finished and isinstance(ex.error, dict):
        text.append(f" ({ex.error.get('type', 'handed back')})", style="yellow")
    return text


def executions_table(found: Iterable[Execution]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("TYPE")
    table.add_column("NAME", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("QUEUE")
    table.add_column("ATTEMPT/STEPS", justify="right")
    table.add_column("CREATED", no_wrap=True)
    table.add_column("TOOK", justify="right")
    for ex in found:
        table.add_row(
            ex.id,
            ex.type,
            ex.name,
            listed_status(ex),
            ex.queue,
            str(ex.attempt) if ex.type == "task" else steps_text(ex.attempt),
            when(ex.created_at),
            seconds_text(elapsed(ex)),
        )
    return table


def status_tables(overview: Overview) -> tuple[Table, Table]:
    by_status = Table(box=None, header_style="bold", title="Executions", title_justify="left")
    for status in STATUSES:
        by_status.add_column(status.upper(), justify="right", style=STATUS_STYLE[status])
    by_status.add_row(*(str(overview.executions.get(s, 0)) for s in STATUSES))
    per_queue = Table(box=None, header_style="bold", title="Queues", title_justify="left")
    per_queue.add_column("QUEUE")
    per_queue.add_column("READY", justify="right")
    per_queue.add_column("SCHEDULED", justify="right")
    per_queue.add_column("RUNNING", justify="right")
    for q in overview.queues:
        per_queue.add_row(q.queue, str(q.ready), str(q.scheduled), str(q.running))
    return by_status, per_queue


OVERDUE_TITLE = "Still running past their timeout (slot held)"


def overdue_table(overdue: Iterable[OverdueTask]) -> Table:
    """Tasks whose attempt timed out but which could not be stopped: each holds a worker slot."""
    table = Table(box=None, header_style="bold", title=OVERDUE_TITLE, title_justify="left")
    table.add_column("WORKER", overflow="fold")
    table.add_column("TASK", overflow="fold")
    table.add_column("ID", no_wrap=True)
    table.add_column("ATTEMPT", justify="right")
    table.add_column("TIMEOUT", justify="right")
    table.add_column("OVERDUE FOR", justify="right")
    for t in overdue:
        table.add_row(
            t.worker_id,
            t.name,
            t.execution_id,
            str(t.attempt),
            seconds_text(t.timeout_seconds),
            seconds_text(t.overdue_seconds),
            style="yellow",
        )
    return table
