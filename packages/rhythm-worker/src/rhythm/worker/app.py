"""The app around a .flow file or folder, as `rhythm run` and `rhythm dev` find it.

An app is the folder of the nearest pyproject.toml, configured by its `[tool.rhythm]` table:

    [tool.rhythm]
    tasks = ["billing.tasks", "emails"]   # modules of @task functions, importable from the folder
    workflows = "flows"                   # the folder of .flow files, relative to the app
    database_url = "postgresql://..."     # optional: else $RHYTHM_DATABASE_URL, else embedded
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from rhythm.client.config import load_tool_settings
from rhythm.client.errors import ConfigError
from rhythm.worker.registry import TaskDefinition, collect


@dataclass(frozen=True)
class App:
    root: Path  # the folder of its pyproject.toml (or the starting folder if there is none)
    pyproject: Path | None
    tasks: tuple[str, ...]  # module names
    workflows: Path | None  # the folder of .flow files

    @property
    def label(self) -> str:
        return str(self.pyproject) if self.pyproject else str(self.root)

    def embedded_label(self) -> str:
        """Where the embedded Postgres lives, relative to the working directory when inside it."""
        folder = self.root / ".rhythm"
        with contextlib.suppress(ValueError):
            return f"embedded Postgres in {folder.relative_to(Path.cwd())}"
        return f"embedded Postgres in {folder}"


def find_app(start: Path) -> App:
    """The app whose pyproject.toml is nearest at or above `start` (a file or a folder)."""
    folder = start if start.is_dir() else start.parent
    settings, pyproject = load_tool_settings(folder)
    root = pyproject.parent if pyproject else folder.resolve()
    where = f"{pyproject}: [tool.rhythm]"
    raw_tasks = settings.get("tasks", [])
    if isinstance(raw_tasks, str):
        raw_tasks = [raw_tasks]
    if not isinstance(raw_tasks, list) or not all(
        isinstance(t, str) and t.strip() for t in raw_tasks
    ):
        raise ConfigError(f"{where} tasks must be a list of module names, got {raw_tasks!r}")
    raw_workflows = settings.get("workflows")
    workflows: Path | None = None
    if raw_workflows is not None:
        if not isinstance(raw_workflows, str) or not raw_workflows.strip():
            raise ConfigError(f"{where} workflows must be a folder name, got {raw_workflows!r}")
        workflows = _near(root / raw_workflows)
        if not workflows.is_dir():
            raise ConfigError(f"{where} workflows = {raw_workflows!r}: no such folder {workflows}")
    return App(root, pyproject, tuple(raw_tasks), workflows)


def _near(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it: messages then name
    `flows/x.flow`, as the user would."""
    with contextlib.suppress(ValueError):
        return path.relative_to(Path.cwd())
    return path


def import_tasks(app: App) -> list[ModuleType]:
    """Import the app's task modules (the app folder first on sys.path), with one clear error
    naming the module if one cannot be imported."""
    root = str(app.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    modules: list[ModuleType] = []
    for name in app.tasks:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise ConfigError(f"{app.label}: cannot import task module {name!r}: {exc}") from None
        except Exception as exc:
            raise ConfigError(
                f"{app.label}: importing task module {name!r} raised {type(exc).__name__}: {exc}"
            ) from None
    return modules


def app_tasks(app: App, modules: list[ModuleType]) -> dict[str, TaskDefinition]:
    """The @task definitions of the app's modules (a module without any is a clear error)."""
    if not modules:
        return {}
    try:
        return collect(modules)
    except ValueError as exc:
        raise ConfigError(f"{app.label}: {exc}") from None
