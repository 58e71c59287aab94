"""`rhythm inspect ID`: one execution for people (or `--json` for scripts).

Shows its status, inputs, output and error (a traceback printed as text), the tree of its child
workflows and tasks with their timings, and, for a suspended workflow, the line of its .flow
source where it waits with a few lines around it, what it waits on, and its variables' values."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from rhythm.client.cli_options import database_url_option
from rhythm.client.cli_output import (
    console,
    elapsed,
    json_option,
    print_json,
    seconds_text,
    status_text,
    steps_text,
    when,
)
from rhythm.client.inspection import Inspection, WaitPoint
from rhythm.client.models import ChildExecution, Execution

# Lines of .flow source shown above and below the line a workflow waits at.
CONTEXT_LINES = 3
# A variable's value longer than this is cut (the JSON output has it whole).
VALUE_WIDTH = 200


@click.command("inspect")
@click.argument("execution_id")
@json_option
@database_url_option
def inspect_command(execution_id: str, as_json: bool, database_url: str | None) -> None:
    """Show one execution: status, inputs, output, error, its child workflows and tasks, and
    where a suspended workflow waits."""
    from rhythm.client.client import Client

    with Client(database_url, max_connections=1) as client:
        found = client.executions.inspect(execution_id)
    if as_json:
        print_json(found.to_json())
    else:
        show(found, console())


def show(found: Inspection, out: Console) -> None:
    ex = found.execution
    out.print(heading(ex))
    out.print(Padding(facts(ex), (0, 0, 0, 2), expand=False))
    section(out, "Inputs", json_text(ex.inputs))
    if ex.status == "completed":
        section(out, "Output", json_text(ex.output))
    error = failure(ex)
    if error is not None:
        section(out, "Error", error_text(error), wrap=True)
    if found.children:
        section(out, "Steps", tree(found))
    if found.wait is not None:
        section(out, "Waiting", wait_view(found.wait))
    elif found.wait_problem:
        section(out, "Waiting", Text(found.wait_problem, style="yellow"))


def section(out: Console, title: str, body: RenderableType, wrap: bool = False) -> None:
    """`wrap`: long lines wrap even when piped (whose console otherwise crops them, so that
    ids stay whole): an error message is read to its end."""
    out.print()
    out.print(Text(title, style="bold"))
    out.print(Padding(body, (0, 0, 0, 2), expand=False), soft_wrap=False if wrap else None)


def heading(ex: Execution) -> Text:
    text = Text()
    text.append(f"{ex.type} ", style="dim")
    text.append(ex.name, style="bold")
    text.append("  ")
    text.append_text(status_text(ex.status))
    return text


def facts(ex: Execution) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("id", ex.id)
    counted = steps_text(ex.attempt) if ex.type == "workflow" else f"attempt {ex.attempt}"
    table.add_row("queue", f"{ex.queue}  (priority {ex.priority}, {counted})")
    if ex.version_hash:
        table.add_row("version", ex.version_hash)
    if ex.parent_id:
        table.add_row("parent", ex.parent_id)
    if ex.restarted_from:
        step = ex.restarted_from_step
        where = "the beginning" if not step else f"step {step}"
        table.add_row("restarted from", f"{ex.restarted_from} at {where}")
    if ex.idempotency_key is not None:
        table.add_row("idempotency key", ex.idempotency_key)
    table.add_row("created", when(ex.created_at))
    table.add_row("started", when(ex.started_at))
    finished = when(ex.completed_at)
    took = elapsed(ex)
    table.add_row(
        "finished" if ex.finished else "running for",
        f"{finished}  (took {seconds_text(took)})" if ex.finished else seconds_text(took),
    )
    return table


def json_text(value: Any) -> Text:
    return Text(json.dumps(value, indent=2, ensure_ascii=False))


def failure(ex: Execution) -> dict[str, Any] | None:
    """The error to show: the last attempt's, or a failed workflow's output (its uncaught error)."""
    if ex.error:
        return ex.error
    if ex.status == "failed" and isinstance(ex.output, dict):
        return ex.output
    return None


def error_text(error: dict[str, Any]) -> Text:
    """`Type: message`, then the traceback as the text it is (not a JSON string)."""
    text = Text()
    text.append(str(error.get("type") or "Error"), style="bold red")
    text.append(f": {error.get('message', '')}")
    # Anything else the error carries (a task's name, a child's id...), but not the attempt
    # number, which the facts above already show.
    shown = ("type", "message", "traceback", "attempt")
    extra = {k: v for k, v in error.items() if k not in shown}
    if extra:
        text.append("\n" + json.dumps(extra, indent=2, ensure_ascii=False), style="dim")
    traceback = error.get("traceback")
    if traceback:
        text.append("\n" + str(traceback).rstrip("\n"), style="dim")
    return text


def node_label(ex: Execution | ChildExecution) -> Text:
    text = Text()
    text.append(f"{ex.type} ", style="dim")
    text.append(ex.name, style="bold")
    text.append("  ")
    text.append_text(status_text(ex.status))
    text.append(f"  {seconds_text(elapsed(ex))}")
    if ex.attempt > 1 and ex.type == "task":
        text.append(f"  attempt {ex.attempt}", style="yellow")
    text.append(f"  {ex.id}", style="dim")
    return text


def tree(found: Inspection) -> Tree:
    """The execution and its descendants, each with status and timing, in start order."""
    by_parent: dict[str, list[ChildExecution]] = {}
    for child in found.children:
        by_parent.setdefault(child.parent_id or "", []).append(child)
    root = Tree(node_label(found.execution))

    def grow(branch: Tree, parent_id: str) -> None:
        for child in by_parent.get(parent_id, []):
            sub = branch.add(node_label(child))
            grow(sub, child.id)

    grow(root, found.execution.id)
    return root


def wait_view(wait: WaitPoint) -> Group:
    """The source around the await, the span marked; what it waits on; the variables."""
    lines = wait.source.splitlines()
    first = max(1, wait.line - CONTEXT_LINES)
    last = min(len(lines), wait.end_line + CONTEXT_LINES)
    number_width = len(str(last))
    code = Text()
    where = Text(f"{wait.workflow} (version {wait.version_hash[:12]}), line {wait.line}:\n")
    where.stylize("dim")
    for n in range(first, last + 1):
        inside = wait.line <= n <= wait.end_line
        marker = ">" if inside else " "
        code.append(f"{marker} {n:>{number_width}} │ ", style="bold magenta" if inside else "dim")
        code.append(lines[n - 1] + "\n", style="bold" if inside else "")
        if n == wait.line and wait.end_line == wait.line:
            start = max(1, wait.column)
            width = max(1, wait.end_column - wait.column)
            code.append(" " * (number_width + 5 + start - 1) + "^" * width + "\n", style="magenta")
    waits = Text("waits on: ", style="bold")
    waits.append(", ".join(describe_wait(w) for w in wait.waits_on) or "nothing (about to resume)")
    parts: list[RenderableType] = [where, code, waits]
    if wait.variables:
        table = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
        table.add_column("VARIABLE", no_wrap=True)
        table.add_column("VALUE", overflow="fold")
        for name, value in wait.variables.items():
            shown = json.dumps(value, ensure_ascii=False)
            if len(shown) > VALUE_WIDTH:
                shown = shown[: VALUE_WIDTH - 1] + "…"
            table.add_row(name, shown)
        parts += [Text(), table]
    return Group(*parts)


def describe_wait(item: dict[str, Any]) -> str:
    kind = str(item.get("kind", "?"))
    name = item.get("name")
    return f"{kind} {name!r}" if name else kind
