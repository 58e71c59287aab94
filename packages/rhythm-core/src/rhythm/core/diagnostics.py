"""Diagnostics: what the parser and checker report. Codes are stable: editors, tests and users'
suppressions refer to them, so a code never changes meaning once released."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rhythm.core.ast import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


class Code(StrEnum):
    SYNTAX = "RY001"  # the parser could not read the text
    UNDEFINED_NAME = "RY101"
    CONST_ASSIGN = "RY102"
    DUPLICATE_DECLARATION = "RY103"
    UNKNOWN_GLOBAL = "RY104"  # unknown stdlib object (e.g. `Taks.run`), with "did you mean"
    UNKNOWN_MEMBER = "RY105"  # unknown stdlib member (e.g. `Task.runn`), with "did you mean"
    ARGUMENT_COUNT = "RY106"  # wrong number of arguments to a stdlib call
    BREAK_OUTSIDE_LOOP = "RY107"
    CONTINUE_OUTSIDE_LOOP = "RY108"
    AWAIT_IN_ARROW = "RY109"
    INVALID_ASSIGNMENT_TARGET = "RY110"
    NOT_A_CONSTRUCTOR = "RY111"  # `new f()` on a non-constructor, `Map()` without `new`
    UNDEFINED_LABEL = "RY112"  # `break x` / `continue x` with no enclosing statement labelled x
    INVALID_LABEL = "RY113"  # a label repeated inside itself, or put on a declaration
    UNSUPPORTED_REGEX = (
        "RY120"  # valid JavaScript regex that .flow cannot run with the same meaning
    )
    UNREACHABLE_CODE = "RY201"  # warning
    UNUSED_VARIABLE = "RY202"  # warning
    UNKNOWN_TASK = "RY301"  # (language server) Task.run("x") with no @task("x") in the workspace
    UNKNOWN_WORKFLOW = "RY302"  # (language server) Workflow.run("x") with no x.flow


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    severity: Severity
    message: str
    span: Span
    # For "did you mean" diagnostics: the text that should replace `span` (a quick fix).
    replacement: str | None = None

    def format(self, filename: str) -> str:
        """`path:line:col: severity code message`, the form `rhythm check` prints."""
        return (
            f"{filename}:{self.span.line}:{self.span.column}: "
            f"{self.severity.value} {self.code.value} {self.message}"
        )


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
