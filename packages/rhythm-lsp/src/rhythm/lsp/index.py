"""The workspace index: workflows (`.flow` files, named by their stem), tasks (`@task` functions in
Python files, read statically with `ast` — nothing of the user's code is imported or run) and the
signal names used in the workspace's .flow files. Kept current file by file as files change."""

from __future__ import annotations

import ast as pyast
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rhythm.lsp.named_calls import find_named_calls

log = logging.getLogger(__name__)

# Folders never worth scanning: environments, caches, VCS data, Rhythm's embedded database.
SKIPPED_DIRS = frozenset(
    {
        ".venv", "venv", "env", ".env", "node_modules", ".git", ".hg", ".svn", ".rhythm",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox",
        "build", "dist", "site-packages", ".idea", ".eggs",
    }
)  # fmt: skip
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 20_000


@dataclass(frozen=True, slots=True)
class TaskInfo:
    name: str  # the task's registered name
    function: str  # the Python function's name
    path: Path
    line: int  # 1-based line of the `def`
    column: int  # 0-based column of the function name
    end_column: int
    signature: str  # `def fetch(url: str, retries: int = 3) -> dict`
    params: tuple[str, ...]  # parameter names, in order
    docstring: str = ""

    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    name: str  # the file's stem
    path: Path


@dataclass(slots=True)
class FileEntry:
    tasks: list[TaskInfo] = field(default_factory=list)
    workflow: WorkflowInfo | None = None
    signals: set[str] = field(default_factory=set)


def _is_task_decorator(node: pyast.expr) -> bool:
    """`task`, `worker.task`, `rhythm.worker.task`, `app.task`: the last name is `task`."""
    if isinstance(node, pyast.Name):
        return node.id == "task"
    if isinstance(node, pyast.Attribute):
        return node.attr == "task"
    return False


def _task_name(decorator: pyast.expr, function: str) -> str | None:
    """The name a `@task` decorator registers, or None when it is not a task decorator."""
    if _is_task_decorator(decorator):
        return function  # bare `@task`
    if isinstance(decorator, pyast.Call) and _is_task_decorator(decorator.func):
        for keyword in decorator.keywords:
            if keyword.arg == "name":
                if isinstance(keyword.value, pyast.Constant) and isinstance(
                    keyword.value.value, str
                ):
                    return keyword.value.value
                return function
        if decorator.args:
            first = decorator.args[0]
            if isinstance(first, pyast.Constant) and isinstance(first.value, str):
                return first.value
        return function
    return None


def _signature(func: pyast.FunctionDef | pyast.AsyncFunctionDef) -> tuple[str, tuple[str, ...]]:
    args = func.args
    parts: list[str] = []
    names: list[str] = []

    def one(arg: pyast.arg, default: pyast.expr | None, prefix: str = "") -> str:
        names.append(arg.arg)
        text = prefix + arg.arg
        if arg.annotation is not None:
            text += f": {pyast.unparse(arg.annotation)}"
        if default is not None:
            text += (" = " if arg.annotation is not None else "=") + pyast.unparse(default)
        return text

    positional = [*args.posonlyargs, *args.args]
    defaults: list[pyast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        parts.append(one(arg, default))
        if args.posonlyargs and index == len(args.posonlyargs) - 1:
            parts.append("/")
    if args.vararg is not None:
        parts.append(one(args.vararg, None, "*"))
    elif args.kwonlyargs:
        parts.append("*")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        parts.append(one(arg, default))
    if args.kwarg is not None:
        parts.append(one(args.kwarg, None, "**"))
    prefix = "async def" if isinstance(func, pyast.AsyncFunctionDef) else "def"
    text = f"{prefix} {func.name}({', '.join(parts)})"
    if func.returns is not None:
        text += f" -> {pyast.unparse(func.returns)}"
    return text, tuple(names)


def scan_python(source: str, path: Path) -> list[TaskInfo]:
    """Every `@task` function in a Python source; [] when the file does not parse."""
    try:
        tree = pyast.parse(source, filename=str(path))
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        # MemoryError/RecursionError: CPython's parser on very deeply nested code.
        log.debug("skipping %s: %s", path, error)
        return []
    lines = source.splitlines()
    tasks: list[TaskInfo] = []
    for node in pyast.walk(tree):
        if not isinstance(node, pyast.FunctionDef | pyast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            name = _task_name(decorator, node.name)
            if name is None:
                continue
            signature, params = _signature(node)
            line_text = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
            column = line_text.find(node.name, node.col_offset)
            column = column if column >= 0 else node.col_offset
            tasks.append(
                TaskInfo(
                    name=name,
                    function=node.name,
                    path=path,
                    line=node.lineno,
                    column=column,
                    end_column=column + len(node.name),
                    signature=signature,
                    params=params,
                    docstring=pyast.get_docstring(node) or "",
                )
            )
            break
    tasks.sort(key=lambda t: (t.line, t.name))
    return tasks


def scan_flow(source: str, path: Path) -> FileEntry:
    """A .flow file: the workflow it defines and the signal names it uses."""
    entry = FileEntry(workflow=WorkflowInfo(name=path.stem, path=path))
    if len(source) > MAX_FILE_BYTES // 2:
        return entry  # too large to parse in passing (an open buffer; files on disk are skipped)
    try:
        from rhythm.core.parser import parse  # the one parser, rhythm.core's

        program = parse(source).program
        entry.signals = {c.name for c in find_named_calls(program) if c.kind == "signal" and c.name}
    except Exception:  # a broken file still defines its workflow
        log.exception("could not read signals from %s", path)
    return entry


def iter_workspace_files(root: Path) -> Iterator[Path]:
    """`.flow` and `.py` files under `root`, skipping environments, caches and VCS folders."""
    count = 0
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for filename in sorted(filenames):
            if filename.endswith((".flow", ".py")):
                count += 1
                if count > MAX_FILES:
                    log.warning("workspace index stops at %d files under %s", MAX_FILES, root)
                    return
                yield Path(directory) / filename


def is_skipped(path: Path, roots: Iterable[Path]) -> bool:
    """True when `path` lies in a folder the index skips (relative to its workspace root)."""
    for root in roots:
        try:
            parts = path.relative_to(root).parts[:-1]
        except ValueError:
            continue
        return any(p in SKIPPED_DIRS or p.startswith(".") for p in parts)
    return any(p in SKIPPED_DIRS for p in path.parts[:-1])


class WorkspaceIndex:
    """Tasks, workflows and signals of a workspace, updated one file at a time."""

    def __init__(self) -> None:
        self.roots: list[Path] = []
        self._files: dict[Path, FileEntry] = {}

    # ------------------------------------------------------------ updating

    def add_root(self, root: Path) -> None:
        root = root.absolute()
        if root in self.roots:
            return
        self.roots.append(root)
        for path in iter_workspace_files(root):
            self.update_file(path)

    def remove_root(self, root: Path) -> None:
        """Stop indexing `root` (a workspace folder the editor closed): its files are forgotten,
        except those that also lie under another root (nested workspace folders)."""
        root = root.absolute()
        if root not in self.roots:
            return
        self.roots.remove(root)
        for path in list(self._files):
            if path.is_relative_to(root) and not any(path.is_relative_to(r) for r in self.roots):
                del self._files[path]

    def update_file(self, path: Path, text: str | None = None) -> None:
        """(Re)read one file, from `text` when given (an open editor buffer) else from disk."""
        path = path.absolute()
        if path.suffix not in (".flow", ".py"):
            return
        if text is None:
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    self._files.pop(path, None)
                    return
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._files.pop(path, None)
                return
        if path.suffix == ".flow":
            self._files[path] = scan_flow(text, path)
        else:
            tasks = scan_python(text, path)
            if tasks:
                self._files[path] = FileEntry(tasks=tasks)
            else:
                self._files.pop(path, None)

    def set_flow(self, path: Path, signals: set[str]) -> None:
        """Record a .flow document already analysed elsewhere (an open editor buffer)."""
        path = path.absolute()
        self._files[path] = FileEntry(
            workflow=WorkflowInfo(name=path.stem, path=path), signals=set(signals)
        )

    def remove_file(self, path: Path) -> None:
        self._files.pop(path, None)
        prefix = f"{path}{os.sep}"  # a deleted folder
        for known in [p for p in self._files if str(p).startswith(prefix)]:
            del self._files[known]

    # ------------------------------------------------------------ queries

    def tasks(self) -> list[TaskInfo]:
        found = [t for entry in self._files.values() for t in entry.tasks]
        return sorted(found, key=lambda t: (t.name, str(t.path), t.line))

    def task(self, name: str) -> TaskInfo | None:
        for info in self.tasks():
            if info.name == name:
                return info
        return None

    def task_names(self) -> list[str]:
        return sorted({t.name for t in self.tasks()})

    def workflows(self) -> list[WorkflowInfo]:
        found = [e.workflow for e in self._files.values() if e.workflow is not None]
        return sorted(found, key=lambda w: (w.name, str(w.path)))

    def workflow(self, name: str) -> WorkflowInfo | None:
        for info in self.workflows():
            if info.name == name:
                return info
        return None

    def workflow_names(self) -> list[str]:
        return sorted({w.name for w in self.workflows()})

    def signal_names(self) -> list[str]:
        return sorted({s for entry in self._files.values() for s in entry.signals})

    def files(self) -> list[Path]:
        return sorted(self._files)
