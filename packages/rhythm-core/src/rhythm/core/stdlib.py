"""The stdlib table: every builtin object, function, method and property of .flow, with its
signature and doc text. The VM, the checker and the language server all read this one table, so
hover text, "wrong argument count" and behaviour cannot drift apart.

(Shape fixed here; the entries are filled in alongside the VM's implementations.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str = "any"  # documentation type: "string", "number", "object", "TaskHandle", ...
    optional: bool = False
    rest: bool = False  # `...values`
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str  # "run", "toUpperCase", "parseInt"
    owner: str  # "Task", "Math", ... ; "string" / "array" for methods of values; "" for globals
    kind: Literal["function", "method", "property"]
    params: tuple[Param, ...] = ()
    returns: str = "any"
    doc: str = ""
    example: str = ""

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and not p.rest)

    @property
    def max_args(self) -> int | None:
        """None when the builtin takes any number of arguments (a rest parameter)."""
        if any(p.rest for p in self.params):
            return None
        return len(self.params)

    @property
    def qualified_name(self) -> str:
        if self.owner in ("", "string", "array"):
            return self.name if not self.owner else f"{self.owner}.{self.name}"
        return f"{self.owner}.{self.name}"

    @property
    def signature(self) -> str:
        """`Task.run(name: string, inputs?: object, options?: object): TaskHandle`."""
        if self.kind == "property":
            return f"{self.qualified_name}: {self.returns}"
        params = ", ".join(
            f"{'...' if p.rest else ''}{p.name}{'?' if p.optional else ''}: {p.type}"
            for p in self.params
        )
        return f"{self.qualified_name}({params}): {self.returns}"


@dataclass(frozen=True, slots=True)
class StdObject:
    name: str  # "Task", "Math", "Inputs"
    doc: str
    members: dict[str, Builtin] = field(default_factory=dict)
    # An open object (Inputs) may hold any key: its members are not checked.
    open: bool = False
