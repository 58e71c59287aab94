"""Calls whose first argument names something outside the file: `Task.run("name")`,
`Workflow.run("name")`, `Signal.next("name")` / `Signal.when("name")`. Found in rhythm.core's AST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rhythm.core import ast

NameKind = Literal["task", "workflow", "signal"]

# (stdlib object, member) -> what the first string argument names.
NAMED_CALLS: dict[tuple[str, str], NameKind] = {
    ("Task", "run"): "task",
    ("Workflow", "run"): "workflow",
    ("Signal", "next"): "signal",
    ("Signal", "when"): "signal",
}


@dataclass(frozen=True, slots=True)
class NamedCall:
    kind: NameKind
    name: str  # the string literal's value
    literal: ast.Span  # span of the string literal, quotes included
    call: ast.Span  # span of the whole call


def callee_key(callee: ast.Node) -> tuple[str, str] | None:
    """`("Task", "run")` for a callee written `Task.run`, else None."""
    if (
        isinstance(callee, ast.Member)
        and isinstance(callee.object, ast.Identifier)
        and not callee.optional
    ):
        return callee.object.name, callee.name
    return None


# A top-level statement -> its named calls, reused for the statements an incremental analysis
# keeps (their spans move in place, so the calls' spans stay right). Keyed by id(), with the
# statement itself kept to tell a reused id apart.
StatementCalls = dict[int, tuple[ast.Node, list[NamedCall]]]


def find_named_calls(program: ast.Program) -> list[NamedCall]:
    """Every named call with a plain string literal as first argument, in source order."""
    return _calls_in(program)


def named_calls_by_statement(
    program: ast.Program, known: StatementCalls | None = None
) -> tuple[list[NamedCall], StatementCalls]:
    """Every named call with a plain string literal as first argument, in source order, and the
    same by top-level statement (reading again only statements `known` does not hold)."""
    found: list[NamedCall] = []
    by_statement: StatementCalls = {}
    for stmt in program.body:
        entry = known.get(id(stmt)) if known is not None else None
        calls = entry[1] if entry is not None and entry[0] is stmt else _calls_in(stmt)
        by_statement[id(stmt)] = (stmt, calls)
        found.extend(calls)
    return found, by_statement


def _calls_in(root: ast.Node) -> list[NamedCall]:
    found: list[NamedCall] = []
    for node in ast.walk(root):
        if not isinstance(node, ast.Call) or not node.arguments:
            continue
        key = callee_key(node.callee)
        kind = NAMED_CALLS.get(key) if key else None
        first = node.arguments[0]
        if kind is not None and isinstance(first, ast.StringLit):
            found.append(NamedCall(kind=kind, name=first.value, literal=first.span, call=node.span))
    return found
