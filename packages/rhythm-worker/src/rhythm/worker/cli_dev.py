"""`rhythm dev [APP_DIR]`: the app's database (embedded unless configured), schema, workflows and a
worker, in one process, while you edit.

The .flow files of the app's workflows folder are registered at start and again whenever one
changes (checked twice a second). A file with errors is reported, `path:line:col: message` for
each, and its previous version stays the latest, so new runs keep working; executions already
running always stay on the version they started with. Ctrl-C (or SIGTERM) stops the worker
cleanly: running tasks finish within the grace period, the rest is handed back."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click
from rich.console import Console
from rich.text import Text

from rhythm.client.cli_options import database_url_option
from rhythm.client.cli_output import console
from rhythm.client.client import AsyncClient
from rhythm.client.config import resolve_database
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.database import describe_target
from rhythm.client.errors import ConfigError
from rhythm.client.workflow_files import FLOW_SUFFIX, WorkflowFileError, load_workflows
from rhythm.worker.app import App, app_tasks, find_app, import_tasks
from rhythm.worker.cli import setup_logging
from rhythm.worker.registry import DEFAULT_QUEUE
from rhythm.worker.worker import Worker

WATCH_SECONDS = 0.5


@click.command("dev")
@click.argument(
    "app_dir", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--watch-interval",
    type=click.FloatRange(min=0.05),
    default=WATCH_SECONDS,
    show_default=True,
    help="Seconds between looks at the .flow files.",
)
@database_url_option
def dev_command(
    app_dir: Path, concurrency: int, watch_interval: float, database_url: str | None
) -> None:
    """Run the app for development: database, schema, workflows and a worker; re-register .flow
    files when they change. Ctrl-C stops."""
    app = find_app(app_dir)
    if app.workflows is None:
        raise click.ClickException(
            f'{app.label}: set `workflows = "<folder>"` under [tool.rhythm]: rhythm dev '
            "registers and watches the .flow files there"
        )
    modules = import_tasks(app)
    setup_logging("info")
    asyncio.run(_dev(app, modules, concurrency, watch_interval, database_url))


@dataclass
class _Registered:
    """What the watcher knows about the folder: each file's (mtime, size) and each workflow's
    latest registered version."""

    stamps: dict[Path, tuple[int, int]]
    versions: dict[str, str]


def _stamps(folder: Path) -> dict[Path, tuple[int, int]]:
    found: dict[Path, tuple[int, int]] = {}
    for path in folder.rglob(f"*{FLOW_SUFFIX}"):
        with contextlib.suppress(OSError):  # deleted between listing and stat
            st = path.stat()
            found[path] = (st.st_mtime_ns, st.st_size)
    return found


async def _register(
    client: AsyncClient, paths: list[Path], state: _Registered, out: Console
) -> None:
    """Register each file on its own, so one broken file never holds back the others."""
    for path in sorted(paths):
        try:
            [definition] = await asyncio.to_thread(load_workflows, path)
        except WorkflowFileError as exc:
            out.print(Text(f"✗ {path}: not registered", style="bold red"))
            for problem in exc.problems:
                out.print(Text(f"  {problem}", style="red"))
            kept = state.versions.get(path.stem)
            if kept:
                out.print(Text(f"  {path.stem} stays on version {kept[:12]}", style="yellow"))
            continue
        if state.versions.get(definition.name) == definition.version_hash:
            continue
        await client.register_workflows(path)
        first = definition.name not in state.versions
        state.versions[definition.name] = definition.version_hash
        what = "registered" if first else "registered new version of"
        out.print(
            Text.assemble(
                ("✓ ", "green"),
                f"{what} ",
                (definition.name, "bold"),
                (f" ({definition.version_hash[:12]})", "dim"),
            )
        )


async def _dev(
    app: App,
    modules: list[ModuleType],
    concurrency: int,
    watch_interval: float,
    database_url: str | None,
) -> None:
    assert app.workflows is not None
    out = console()
    setting = resolve_database(database_url, app.root)
    url = await asyncio.to_thread(resolve_database_url, database_url, app.root)
    where = app.embedded_label() if setting.url is None else describe_target(url)
    tasks = app_tasks(app, modules)
    queues = sorted({d.queue for d in tasks.values()} | {DEFAULT_QUEUE})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncClient(url) as client:
        applied = await client.migrate()
        out.print(f"rhythm dev: {where}, schema {'applied' if applied else 'up to date'}")
        out.print(f"tasks: {', '.join(sorted(tasks)) or '(none)'}")
        state = _Registered(_stamps(app.workflows), {})
        await _register(client, list(state.stamps), state, out)
        good = [p for p in state.stamps if p.stem in state.versions]
        try:
            # The files that registered cleanly (a broken one is already reported above).
            worker = Worker(
                queues=queues,
                concurrency=concurrency,
                tasks=modules or None,
                database_url=url,
                workflows=good or None,
            )
        except ValueError as exc:
            raise ConfigError(f"{app.label}: {exc}") from None
        serving = asyncio.create_task(worker.run_async(), name="rhythm-dev-worker")
        out.print(
            f"worker on queue(s) {', '.join(queues)}; watching {app.workflows} for changes. "
            "Ctrl-C stops."
        )
        try:
            while not stop.is_set() and not serving.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(watch_interval):
                        await stop.wait()
                now = _stamps(app.workflows)
                changed = [p for p, stamp in now.items() if state.stamps.get(p) != stamp]
                for gone in sorted(state.stamps.keys() - now.keys()):
                    out.print(
                        Text(
                            f"- {gone} removed (its versions stay stored for the executions "
                            "that use them)",
                            style="yellow",
                        )
                    )
                state.stamps = now
                if changed:
                    await _register(client, changed, state, out)
        finally:
            out.print("stopping: running work finishes or is handed back...")
            worker.stop()
            await asyncio.gather(serving, return_exceptions=True)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        if serving.done() and not serving.cancelled() and serving.exception() is not None:
            raise click.ClickException(f"the worker stopped: {serving.exception()}")
    out.print("stopped")
