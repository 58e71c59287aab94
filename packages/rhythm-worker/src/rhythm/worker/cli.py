"""`rhythm worker`: run a Worker over the tasks of one or more app modules."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from types import ModuleType

import click

from rhythm.client.cli_options import database_url_option
from rhythm.client.errors import InvalidInput
from rhythm.worker.settings import WorkerSettings


def _import_app(name: str) -> ModuleType:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `--app tasks` finds tasks.py in the app folder
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise click.ClickException(f"--app {name}: cannot import it: {exc}") from None
    except Exception as exc:
        raise click.ClickException(
            f"--app {name}: importing it raised {type(exc).__name__}: {exc}"
        ) from None


@click.command("worker")
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="MODULE",
    help="Module of @task functions (repeatable).",
)
@click.option(
    "--workflows",
    "workflows",
    multiple=True,
    metavar="PATH",
    help="Folder or .flow file of workflows to register at start-up (repeatable). Every worker "
    "runs the steps of every registered workflow.",
)
@click.option(
    "-q",
    "--queue",
    "queues",
    multiple=True,
    metavar="QUEUE",
    help="Queue to take work from (repeatable). Default: the tasks' queues.",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Tasks run at once.",
)
@database_url_option
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.1),
    default=WorkerSettings.lease_seconds,
    show_default=True,
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=WorkerSettings.poll_interval,
    show_default=True,
)
@click.option(
    "--grace-period",
    type=click.FloatRange(min=0),
    default=WorkerSettings.grace_period,
    show_default=True,
)
@click.option(
    "--retry-backoff",
    type=click.FloatRange(min=0.001),
    default=WorkerSettings.retry_backoff,
    show_default=True,
)
@click.option(
    "--statement-timeout",
    type=click.FloatRange(min=0.1),
    default=WorkerSettings.statement_timeout,
    show_default=True,
    help="Seconds a database statement may take before the worker treats it as an outage.",
)
@click.option(
    "--eager/--no-eager",
    default=WorkerSettings.eager,
    show_default=True,
    help="Run the tasks this worker's workflow steps start, and step the workflows their "
    "results wake, at once instead of through the queue (when it has free slots).",
)
@click.option(
    "--chain/--no-chain",
    default=WorkerSettings.chain,
    show_default=True,
    help="Store a task's result together with its parent workflow's next step, in one "
    "transaction, when that workflow awaits it alone (an eager path).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def worker_command(
    apps: tuple[str, ...],
    workflows: tuple[str, ...],
    queues: tuple[str, ...],
    concurrency: int,
    database_url: str | None,
    lease_seconds: float,
    poll_interval: float,
    grace_period: float,
    retry_backoff: float,
    statement_timeout: float,
    eager: bool,
    chain: bool,
    log_level: str,
) -> None:
    """Run tasks and workflow steps from the ready queue until SIGTERM/SIGINT (a second signal
    hands work back now)."""
    from rhythm.worker.worker import Worker

    setup_logging(log_level)
    if not apps and not workflows:
        raise click.UsageError("give --app MODULE (tasks), --workflows PATH, or both")
    modules = [_import_app(name) for name in apps]
    try:
        worker = Worker(
            queues=list(queues) or None,
            concurrency=concurrency,
            tasks=modules or None,
            database_url=database_url,
            workflows=list(workflows) or None,
            settings=WorkerSettings(
                lease_seconds=lease_seconds,
                poll_interval=poll_interval,
                grace_period=grace_period,
                retry_backoff=retry_backoff,
                statement_timeout=statement_timeout,
                eager=eager,
                chain=chain,
            ),
        )
    except (ValueError, InvalidInput) as exc:
        raise click.ClickException(str(exc)) from None
    worker.run()


def setup_logging(level: str) -> None:
    """Log to stderr at `level`; the embedded Postgres library only from warnings up unless
    `debug` is asked for, since its info lines (each pg_ctl command it runs) bury the worker's."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet = level.lower() != "debug"
    logging.getLogger("pgserver").setLevel(logging.WARNING if quiet else logging.NOTSET)
