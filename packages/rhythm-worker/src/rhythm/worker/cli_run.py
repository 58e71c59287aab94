"""`rhythm run path/to/flow.flow --input JSON`: run one workflow from start to end, here and now.

It finds the app around the file (the nearest pyproject.toml's [tool.rhythm]), uses the
configured database or the embedded one, applies the schema, registers the app's workflows and
this file, runs a worker in this process, starts the workflow and shows each step as it happens
(on stderr). The workflow's output is printed as JSON on stdout; the exit status is 0 when it
completed, 1 when it failed or was cancelled (with its error on stderr)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from rhythm.client.cli_inspect import error_text, failure
from rhythm.client.cli_options import database_url_option, inputs_option
from rhythm.client.cli_output import STATUS_MARK, STATUS_STYLE, console, seconds_text
from rhythm.client.client import AsyncClient
from rhythm.client.config import resolve_database
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.database import describe_target
from rhythm.client.errors import ConfigError, RhythmError
from rhythm.client.models import Execution
from rhythm.client.workflow_files import WorkflowSource, load_workflows
from rhythm.worker.app import App, app_tasks, find_app, import_tasks
from rhythm.worker.live import StepReporter
from rhythm.worker.registry import DEFAULT_QUEUE
from rhythm.worker.worker import Worker

# How often the live view looks at the workflow's tree (each look is two small queries).
LOOK_SECONDS = 0.1


@click.command("run")
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@inputs_option("The workflow's inputs.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Give up (exit 1) if the workflow has not finished after this many seconds; it keeps "
    "its state and continues when a worker runs.",
)
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also show the worker's log (warnings and above)."
)
@database_url_option
def run_command(
    flow_file: Path,
    inputs: dict[str, Any],
    timeout: float | None,
    concurrency: int,
    verbose: bool,
    database_url: str | None,
) -> None:
    """Run a workflow here with an in-process worker, showing each step as it happens, then
    print its output as JSON (exit 0; 1 if the workflow failed)."""
    err = console(stderr=True)
    # The live view reports every step, failures included; the worker's own log would repeat
    # them between its lines. Errors (a worker in trouble) still show.
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rhythm").setLevel(logging.WARNING if verbose else logging.ERROR)
    if not flow_file.exists():
        raise click.ClickException(f"{flow_file}: no such file")
    app = find_app(flow_file)
    modules = import_tasks(app)
    try:
        status = asyncio.run(
            _run(app, modules, flow_file, inputs, timeout, concurrency, database_url, err)
        )
    except KeyboardInterrupt:
        err.print("interrupted: the workflow keeps its state and continues when a worker runs")
        sys.exit(130)
    sys.exit(status)


def _sources(app: App, flow_file: Path) -> list[WorkflowSource]:
    """The app's workflows folder and the file itself (which may live elsewhere)."""
    sources: list[WorkflowSource] = []
    if app.workflows is not None:
        sources.append(app.workflows)
        if flow_file.resolve().is_relative_to(app.workflows.resolve()):
            return sources
    sources.append(flow_file)
    return sources


async def _run(
    app: App,
    modules: list[ModuleType],
    flow_file: Path,
    inputs: dict[str, Any],
    timeout: float | None,
    concurrency: int,
    database_url: str | None,
    err: Console,
) -> int:
    definitions = load_workflows(_sources(app, flow_file))  # refuse a broken file before anything
    name = next(d.name for d in definitions if d.path.resolve() == flow_file.resolve())
    setting = resolve_database(database_url, app.root)
    url = await asyncio.to_thread(resolve_database_url, database_url, app.root)
    where = app.embedded_label() if setting.url is None else describe_target(url)
    tasks = app_tasks(app, modules)
    queues = sorted({d.queue for d in tasks.values()} | {DEFAULT_QUEUE})
    try:
        worker = Worker(
            queues=queues,
            concurrency=concurrency,
            tasks=modules or None,
            database_url=url,
            workflows=_sources(app, flow_file),
        )
    except ValueError as exc:
        raise ConfigError(f"{app.label}: {exc}") from None
    async with AsyncClient(url) as client:
        applied = await client.migrate()
        await client.register_workflows(_sources(app, flow_file))
        err.print(
            Text(
                f"{where}: schema {'applied' if applied else 'up to date'}, "
                f"{len(definitions)} workflow(s) and {len(tasks)} task(s) registered",
                style="dim",
            )
        )
        serving = asyncio.create_task(worker.run_async(), name="rhythm-run-worker")
        try:
            execution_id = await client.workflows.run(name, inputs)
            err.print(
                Text.assemble(("▶ workflow ", "dim"), (name, "bold"), (f"  {execution_id}", "dim"))
            )
            final = await _follow(client, execution_id, serving, timeout, err)
        finally:
            worker.stop()
            await asyncio.gather(serving, return_exceptions=True)
    return _report(final, err, timeout)


async def _follow(
    client: AsyncClient,
    execution_id: str,
    serving: asyncio.Task[None],
    timeout: float | None,
    err: Console,
) -> Execution:
    reporter = StepReporter()
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        found = await client.executions.inspect(execution_id)
        nested = [
            await client.executions.inspect(child.id)
            for child in found.children
            if child.type == "workflow" and child.status == "suspended"
        ]
        for line in reporter.update(found, nested):
            err.print(line)
        if found.execution.finished:
            return found.execution
        if serving.done():
            problem = serving.exception() if not serving.cancelled() else None
            raise RhythmError(f"the in-process worker stopped: {problem or 'cancelled'}")
        if deadline is not None and loop.time() >= deadline:
            return found.execution
        await asyncio.sleep(LOOK_SECONDS)


def _report(ex: Execution, err: Console, timeout: float | None) -> int:
    took = seconds_text(ex.duration)
    mark = Text(f"{STATUS_MARK.get(ex.status, '?')} workflow ", style=STATUS_STYLE.get(ex.status))
    mark.append(ex.name, style="bold")
    if ex.status == "completed":
        err.print(mark + Text(f" completed in {took}"))
        click.echo(json.dumps(ex.output, indent=2, ensure_ascii=False))
        return 0
    if ex.status == "failed":
        err.print(mark + Text(f" failed after {took}"))
        error = failure(ex)
        if error is not None:
            err.print(error_text(error))
        return 1
    if ex.status == "cancelled":
        err.print(mark + Text(" was cancelled"))
        return 1
    err.print(
        mark
        + Text(
            f" has not finished after {timeout:g}s (status {ex.status}); it keeps its state: "
            f"`rhythm inspect {ex.id}`"
        )
    )
    return 1
