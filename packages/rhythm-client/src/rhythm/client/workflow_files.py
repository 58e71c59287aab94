"""Workflow definitions from .flow files: find, read and check them, then store them.

`load_workflows` takes .flow files, folders (searched recursively) and `WorkflowFile(name=...,
file_path=...)` items and returns one `WorkflowDefinition` per workflow: its name (the file's stem
unless given), its source and its version (rhythm.core's version hash of the source). Every file
is checked by rhythm.core first; if anything is wrong (a missing file, a file that is not UTF-8,
a syntax or semantic error, two files claiming one name) nothing is returned and one
`WorkflowFileError` lists every problem, .flow errors as `path:line:col: message`.

`store_workflow_definitions(conn, definitions)` stores a list of definitions in one statement
(so in one transaction) under (name, version hash); storing a version again changes nothing. It
works on a blocking and on an asyncio psycopg connection alike."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, overload

import psycopg

from rhythm.client.errors import InvalidInput
from rhythm.client.queries import query
from rhythm.client.validation import check_name
from rhythm.core.analysis import analyze
from rhythm.core.diagnostics import Diagnostic, Severity
from rhythm.core.versions import version_hash

FLOW_SUFFIX = ".flow"


@dataclass(frozen=True, slots=True)
class WorkflowFile:
    """A .flow file registered under a name other than its stem:
    `WorkflowFile(name="onboard_user", file_path="flows/onboard.flow")`."""

    name: str
    file_path: str | os.PathLike[str]


WorkflowSource: TypeAlias = str | os.PathLike[str] | WorkflowFile
WorkflowSources: TypeAlias = WorkflowSource | Iterable[WorkflowSource]


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """One version of a workflow, ready to store: stored under (name, version_hash)."""

    name: str
    version_hash: str
    source: str
    path: Path


class WorkflowFileError(InvalidInput):
    """Workflow files that cannot be registered. `problems` holds one line per problem (a .flow
    error as `path:line:col: message`); the message lists them all."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(
            f"workflow files not registered ({head}):\n" + "\n".join(f"  {p}" for p in problems)
        )


def load_workflows(sources: WorkflowSources) -> list[WorkflowDefinition]:
    """The workflows named by `sources` (one item or several), each read and checked; raises
    WorkflowFileError listing every problem if any file cannot be used."""
    problems: list[str] = []
    chosen: dict[str, WorkflowDefinition] = {}
    for name, path in _expand(sources, problems):
        source = _read(path, problems)
        if source is None:
            continue
        shown = str(path)
        analysis = analyze(source)
        errors = _errors(shown, analysis.diagnostics)
        if errors:
            problems.extend(errors)
            continue
        earlier = chosen.get(name)
        if earlier is not None:
            if earlier.path.resolve() != path.resolve():
                problems.append(
                    f"{shown}: the workflow name {name!r} is already taken by {earlier.path}"
                )
            continue
        chosen[name] = WorkflowDefinition(name, version_hash(source), source, path)
    if problems:
        raise WorkflowFileError(problems)
    return list(chosen.values())


def _expand(sources: WorkflowSources, problems: list[str]) -> list[tuple[str, Path]]:
    """(name, path) of every file named by `sources`, folders searched recursively."""
    items: list[object]
    if isinstance(sources, str | os.PathLike | WorkflowFile):
        items = [sources]
    elif isinstance(sources, Iterable) and not isinstance(sources, bytes):
        items = list(sources)
    else:
        raise InvalidInput(
            "workflows must be a path, a folder, a WorkflowFile or a list of them, "
            f"got {type(sources).__name__} {sources!r}"
        )
    if not items:
        raise InvalidInput("no workflow files given: pass .flow files or folders")
    found: list[tuple[str, Path]] = []
    for item in items:
        if isinstance(item, WorkflowFile):
            path = Path(item.file_path)
            try:
                name = check_name(item.name, "workflow name")
            except InvalidInput as exc:
                problems.append(f"{path}: {exc}")
                continue
            if path.is_dir():
                problems.append(f"{path}: is a folder; WorkflowFile names one .flow file")
            elif _flow_file(path, problems):
                found.append((name, path))
        elif isinstance(item, str | os.PathLike):
            path = Path(item)
            if path.is_dir():
                files = sorted(p for p in path.rglob(f"*{FLOW_SUFFIX}") if p.is_file())
                if not files:
                    problems.append(f"{path}: no {FLOW_SUFFIX} files in this folder")
                for file in files:
                    _add_by_stem(file, found, problems)
            elif _flow_file(path, problems):
                _add_by_stem(path, found, problems)
        else:
            raise InvalidInput(
                "each workflow must be a path, a folder or a WorkflowFile, "
                f"got {type(item).__name__} {item!r}"
            )
    return found


def _add_by_stem(path: Path, found: list[tuple[str, Path]], problems: list[str]) -> None:
    try:
        found.append((check_name(path.stem, "workflow name"), path))
    except InvalidInput as exc:
        problems.append(f"{path}: {exc}")


def _flow_file(path: Path, problems: list[str]) -> bool:
    if not path.exists():
        problems.append(f"{path}: no such file or directory")
        return False
    if path.suffix != FLOW_SUFFIX:
        problems.append(f"{path}: workflow files must end in {FLOW_SUFFIX}")
        return False
    return True


def _read(path: Path, problems: list[str]) -> str | None:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None
    if "\x00" in source:
        # Postgres text cannot hold NUL; the parser would not accept it either.
        problems.append(f"{path}: contains a NUL character (byte offset {source.index(chr(0))})")
        return None
    return source


def _errors(shown: str, diagnostics: Iterable[Diagnostic]) -> list[str]:
    """`path:line:col: message` for every error rhythm.core found (warnings do not refuse)."""
    return [
        f"{shown}:{d.span.line}:{d.span.column}: {d.message}"
        for d in diagnostics
        if d.severity is Severity.ERROR
    ]


def store_parameters(definitions: Sequence[WorkflowDefinition]) -> dict[str, Any]:
    return {
        "names": [d.name for d in definitions],
        "version_hashes": [d.version_hash for d in definitions],
        "sources": [d.source for d in definitions],
    }


AnyConnection: TypeAlias = psycopg.Connection[Any] | psycopg.AsyncConnection[Any]


@overload
def store_workflow_definitions(
    conn: psycopg.Connection[Any], definitions: Sequence[WorkflowDefinition]
) -> psycopg.Cursor[Any]: ...
@overload
def store_workflow_definitions(
    conn: psycopg.AsyncConnection[Any], definitions: Sequence[WorkflowDefinition]
) -> Awaitable[psycopg.AsyncCursor[Any]]: ...
def store_workflow_definitions(
    conn: AnyConnection, definitions: Sequence[WorkflowDefinition]
) -> Any:
    """Store `definitions` in one statement (one transaction) and return its cursor, whose rows
    are the (name, version_hash) pairs that were new. On an AsyncConnection, await the result."""
    return conn.execute(query("store_workflow_definitions"), store_parameters(definitions))
