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


class Fiber:
    """One line of execution: the workflow's top level (`promise` None) or an async call in
    progress, with its own frames and operand stack. A fiber that is not running is parked at an
    AWAIT (pc on it, the awaited value on top of its stack), or has returned a promise it is
    adopting (no frames, that promise on its stack)."""

    __slots__ = ("frames", "promise", "stack")

    def __init__(self, frames: list[Frame], stack: list[Any], promise: Any) -> None:
        self.frames = frames
        self.stack = stack
        self.promise = promise  # the Handle (kind "async") its callers await; None for the top


class FatalError(Exception):
    """An error the workflow cannot catch (budget exhausted, state too large, bad state)."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
