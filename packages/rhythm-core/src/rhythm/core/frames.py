"""The VM's call frame and its uncatchable error: the types that both the interpreter
(`rhythm.core.vm`) and the snapshot codec (`rhythm.core.snapshot`) build, kept in this leaf module
so neither imports the other from inside a function."""

from __future__ import annotations

from typing import Any

from rhythm.core.values import Scope


class Frame:
    """One running function: its index in `CompiledWorkflow.functions`, the next pc, its scope,
    where its operand stack starts, its arguments, and whether a Python caller (a builtin's
    callback, or the program itself) waits for it to return."""

    __slots__ = ("args", "base", "env", "func", "handlers", "native", "pc")

    def __init__(
        self,
        func: int,
        pc: int,
        env: Scope,
        base: int,
        args: list[Any],
        native: bool,
        handlers: list[list[Any]] | None = None,
    ) -> None:
        self.func = func
        self.pc = pc
        self.env = env
        self.base = base
        self.args = args
        self.native = native
        # Each handler: [kind ("catch" | "finally"), pc, env, stack height].
        self.handlers: list[list[Any]] = handlers if handlers is not None else []


class FatalError(Exception):
    """An error the workflow cannot catch (budget exhausted, state too large, bad state)."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
