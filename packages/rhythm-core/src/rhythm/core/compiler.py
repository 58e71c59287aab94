"""Compiler: .flow AST -> one flat list of stack-machine instructions.

Every instruction is a tuple `(opcode, *args)` (see `rhythm.core.opcodes`). Names are resolved at
compile time to `(hops, slot)` pairs: `hops` scopes up the environment chain, then a slot. The main
program is function 0; each arrow is another function whose code follows the main program's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rhythm.core import ast as A
from rhythm.core import opcodes as op
from rhythm.core.analysis import analyze
from rhythm.core.ast import NO_SPAN, Span
from rhythm.core.diagnostics import Severity
from rhythm.core.snapshot import program_fingerprint
from rhythm.core.stdlib import GLOBALS, Builtin, StdObject
from rhythm.core.values import UNDEFINED, Completion
from rhythm.core.versions import version_hash


class FlowCompileError(Exception):
    """A .flow source with errors: the message lists each as `file:line:col: message`."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    entry: int  # pc of the first instruction
    nslots: int  # size of the function's root scope
    name: str
    line: int
    # An async function: calling it starts an async call (rhythm.core.vm), returning its promise.
    is_async: bool = False
    # What the function's `name` and `length` properties read (as JavaScript names them).
    js_name: str = ""
    length: int = 0


#: Names visible at an `await`, innermost scope first: for each scope up the environment chain
#: (hops 0, 1, ...), its (name, slot) pairs. Hidden slots (loop counters) are not listed.
ScopeNames = tuple[tuple[tuple[str, int], ...], ...]


@dataclass(slots=True)
class CompiledWorkflow:
    instructions: list[tuple[Any, ...]]
    functions: list[FunctionInfo]
    spans: list[Span]  # the source span of the node each instruction was compiled from
    source: str
    version_hash: str  # SHA-256 hex of the source text
    fingerprint: str  # of the compiled program (rhythm.core.snapshot.program_fingerprint)
    filename: str = "<flow>"
    # pc of each AWAIT -> the names in scope there (for describing a suspended workflow).
    await_scopes: dict[int, ScopeNames] = field(default_factory=dict)

    def line_of(self, pc: int) -> int:
        return self.spans[pc].line if 0 <= pc < len(self.spans) else 0

    def span_of(self, pc: int) -> Span:
        return self.spans[pc] if 0 <= pc < len(self.spans) else NO_SPAN


class Label:
    __slots__ = ("pos",)

    def __init__(self) -> None:
        self.pos: int = -1


@dataclass(slots=True)
class _CScope:
    names: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (slot, kind)
    size: int = 0
    enter_at: int = -1  # index of the ENTER_SCOPE instruction to patch with the final size
    func_root: bool = False

    def add(self, name: str, kind: str) -> int:
        slot = self.size
        self.size += 1
        if name:
            self.names[name] = (slot, kind)
        return slot


@dataclass(slots=True)
class _Loop:
    break_label: Label
    continue_label: Label | None  # None for a switch
    break_depth: int  # scope depth (within the function) at the break target
    continue_depth: int
    handler_depth: int
    labels: tuple[str, ...] = ()  # `outer: for ...`: what `break outer` / `continue outer` name
    label_only: bool = False  # a labelled block/if/switch: only `break label` leaves it


@dataclass(slots=True)
class _FuncState:
    scopes: list[_CScope]  # scope chain visible from this function, innermost last
    base_depth: int  # len(scopes) when the function's root scope was pushed, minus one
    loops: list[_Loop] = field(default_factory=list)
    handler_depth: int = 0


def _declared_names(stmts: list[A.Stmt]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for s in stmts:
        if isinstance(s, A.VarDecl):
            for d in s.declarations:
                out.extend((n, s.kind) for n in pattern_names(d.target))
        elif isinstance(s, A.FunctionDecl):
            out.append((s.name.name, "let"))
    return out


def pattern_names(p: A.Pattern | None) -> list[str]:
    if p is None:
        return []
    if isinstance(p, A.Identifier):
        return [p.name]
    if isinstance(p, A.AssignPattern):
        return pattern_names(p.target)
    if isinstance(p, A.ObjectPattern):
        names = [n for prop in p.properties for n in pattern_names(prop.value)]
        if p.rest is not None:
            names.append(p.rest.name)
        return names
    if isinstance(p, A.ArrayPattern):
        names = [n for e in p.elements for n in pattern_names(e)]
        names.extend(pattern_names(p.rest))
        return names
    return []


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.code: list[list[Any]] = []
        self.spans: list[Span] = []
        self.span = NO_SPAN
        self.await_scopes: dict[int, ScopeNames] = {}
        self.loop_labels: tuple[str, ...] = ()  # labels of the loop statement compiled next
        self.functions: list[FunctionInfo | None] = []
        self.pending: list[tuple[int, A.Arrow, list[_CScope]]] = []
        # id(arrow) -> the name JavaScript gives it (`const f = () => 1` is named "f").
        self.arrow_names: dict[int, str] = {}
        self.f: _FuncState = _FuncState(scopes=[], base_depth=0)
        self.chain_end: Label | None = None

    # ------------------------------------------------------------ emission helpers

    def emit(self, *ins: Any) -> int:
        self.code.append(list(ins))
        self.spans.append(self.span)
        return len(self.code) - 1

    def mark(self, label: Label) -> None:
        label.pos = len(self.code)

    def at(self, node: A.Node) -> None:
        if node.span.line:
            self.span = node.span

    @property
    def depth(self) -> int:
        return len(self.f.scopes) - self.f.base_depth

    def push_scope(self, names: list[tuple[str, str]]) -> _CScope:
        scope = _CScope()
        for name, kind in names:
            scope.add(name, kind)
        scope.enter_at = self.emit(op.ENTER_SCOPE, 0)
        self.f.scopes.append(scope)
        return scope

    def pop_scope(self) -> None:
        scope = self.f.scopes.pop()
        self.code[scope.enter_at][1] = scope.size
        self.emit(op.EXIT_SCOPE)

    def resolve(self, name: str) -> tuple[int, int, str] | None:
        for hops, scope in enumerate(reversed(self.f.scopes)):
            if name in scope.names:
                slot, kind = scope.names[name]
                return hops, slot, kind
        return None

    def is_global(self, name: str) -> bool:
        return self.resolve(name) is None and (name in GLOBALS)

    # ------------------------------------------------------------ program and functions

    def compile_program(self, program: A.Program) -> CompiledWorkflow:
        self.functions.append(None)
        root = _CScope(func_root=True)
        for name, kind in _declared_names(program.body):
            root.add(name, kind)
        self.f = _FuncState(scopes=[root], base_depth=1)
        self.hoist_functions(program.body)
        for stmt in program.body:
            self.stmt(stmt)
        self.emit(op.CONST, None)
        self.emit(op.RETURN)
        self.functions[0] = FunctionInfo(entry=0, nslots=root.size, name="<main>", line=1)
        while self.pending:
            index, arrow, scopes = self.pending.pop(0)
            self.compile_arrow(index, arrow, scopes)
        return self.finish()

    def compile_arrow(self, index: int, arrow: A.Arrow, scopes: list[_CScope]) -> None:
        self.at(arrow)
        entry = len(self.code)
        root = _CScope(func_root=True)
        for param in [*arrow.params, getattr(arrow, "rest", None)]:
            for name in pattern_names(param):
                root.add(name, "let")
        body_decls = _declared_names(arrow.body.body) if isinstance(arrow.body, A.Block) else []
        for name, kind in body_decls:
            root.add(name, kind)
        self.f = _FuncState(scopes=[*scopes, root], base_depth=len(scopes) + 1)
        for i, param in enumerate(arrow.params):
            self.emit(op.LOAD_ARG, i, False)
            if isinstance(param, A.AssignPattern):
                self.default_value(param.default, param.target)
                self.bind(param.target, declare=True)
            else:
                self.bind(param, declare=True)
        rest = getattr(arrow, "rest", None)
        if rest is not None:
            self.emit(op.LOAD_ARG, len(arrow.params), True)
            self.bind(rest, declare=True)
        if isinstance(arrow.body, A.Block):
            self.hoist_functions(arrow.body.body)
            for stmt in arrow.body.body:
                self.stmt(stmt)
            self.emit(op.CONST, UNDEFINED)
            self.emit(op.RETURN)
        else:
            self.expr(arrow.body)
            self.emit(op.RETURN)
        self.functions[index] = FunctionInfo(
            entry=entry,
            nslots=root.size,
            name="<arrow>",
            line=arrow.span.line,
            is_async=arrow.is_async,
            js_name=self.arrow_names.get(id(arrow), ""),
            length=_expected_arguments(arrow),
        )

    def finish(self) -> CompiledWorkflow:
        instructions: list[tuple[Any, ...]] = []
        for ins in self.code:
            instructions.append(tuple(a.pos if isinstance(a, Label) else a for a in ins))
        functions = [f for f in self.functions if f is not None]
        assert len(functions) == len(self.functions)
        return CompiledWorkflow(
            instructions=instructions,
            functions=functions,
            spans=self.spans,
            await_scopes=self.await_scopes,
            source=self.source,
            version_hash=version_hash(self.source),
            fingerprint=program_fingerprint(instructions, functions),
        )

    # ------------------------------------------------------------ statements

    def stmt(self, s: A.Stmt) -> None:
        self.at(s)
        method = getattr(self, "stmt_" + type(s).__name__)
        method(s)

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        self.expr(s.expr)
        self.emit(op.POP)

    def stmt_Empty(self, s: A.Empty) -> None:
        pass

    def stmt_ErrorStmt(self, s: A.ErrorStmt) -> None:
        self.emit(op.THROW_ERROR, "SyntaxError", "this statement could not be parsed")

    def stmt_VarDecl(self, s: A.VarDecl) -> None:
        for d in s.declarations:
            self.at(d)
            if d.init is None:
                self.emit(op.CONST, UNDEFINED)
            else:
                self.named_expr(d.init, d.target)
            self.bind(d.target, declare=True)

    def block_body(self, body: list[A.Stmt]) -> None:
        names = _declared_names(body)
        if names:
            self.push_scope(names)
        self.hoist_functions(body)
        for stmt in body:
            self.stmt(stmt)
        if names:
            self.pop_scope()

    def hoist_functions(self, body: list[A.Stmt]) -> None:
        """Creates the block's function declarations before its first statement (hoisting)."""
        for s in body:
            if isinstance(s, A.FunctionDecl):
                self.at(s)
                self.arrow_names[id(s.func)] = s.name.name
                self.expr_Arrow(s.func)
                self.store_name(s.name, declare=True)

    def stmt_FunctionDecl(self, s: A.FunctionDecl) -> None:
        pass  # created by hoist_functions when its block was entered

    def stmt_Block(self, s: A.Block) -> None:
        self.block_body(s.body)

    def stmt_If(self, s: A.If) -> None:
        self.expr(s.test)
        else_ = Label()
        self.emit(op.JUMP_IF_FALSE, else_)
        self.stmt(s.consequent)
        if s.alternate is None:
            self.mark(else_)
            return
        end = Label()
        self.emit(op.JUMP, end)
        self.mark(else_)
        self.stmt(s.alternate)
        self.mark(end)

    def loop(self, brk: Label, cont: Label, cont_depth: int | None = None) -> _Loop:
        labels, self.loop_labels = self.loop_labels, ()
        lp = _Loop(
            break_label=brk,
            continue_label=cont,
            break_depth=self.depth,
            continue_depth=self.depth if cont_depth is None else cont_depth,
            handler_depth=self.f.handler_depth,
            labels=labels,
        )
        self.f.loops.append(lp)
        return lp

    def stmt_While(self, s: A.While) -> None:
        test, end = Label(), Label()
        self.mark(test)
        self.expr(s.test)
        self.emit(op.JUMP_IF_FALSE, end)
        self.loop(end, test)
        self.stmt(s.body)
        self.f.loops.pop()
        self.emit(op.JUMP, test)
        self.mark(end)

    def stmt_DoWhile(self, s: A.DoWhile) -> None:
        body, cont, end = Label(), Label(), Label()
        self.mark(body)
        self.loop(end, cont)
        self.stmt(s.body)
        self.f.loops.pop()
        self.mark(cont)
        self.at(s.test)
        self.expr(s.test)
        self.emit(op.JUMP_IF_TRUE, body)
        self.mark(end)

    def stmt_For(self, s: A.For) -> None:
        scoped = isinstance(s.init, A.VarDecl)
        if scoped:
            assert isinstance(s.init, A.VarDecl)
            self.push_scope(_declared_names([s.init]))
            self.stmt(s.init)
        elif s.init is not None:
            self.expr(s.init)
            self.emit(op.POP)
        test, cont, end = Label(), Label(), Label()
        self.mark(test)
        if s.test is not None:
            self.at(s.test)
            self.expr(s.test)
            self.emit(op.JUMP_IF_FALSE, end)
        self.loop(end, cont)
        self.stmt(s.body)
        self.f.loops.pop()
        self.mark(cont)
        if scoped:
            self.emit(op.COPY_SCOPE)
        if s.update is not None:
            self.at(s.update)
            self.expr(s.update)
            self.emit(op.POP)
        self.emit(op.JUMP, test)
        self.mark(end)
        if scoped:
            self.pop_scope()

    def _for_each(self, s: A.ForOf | A.ForIn, iterable: A.Expr, keys: bool) -> None:
        loop_scope = self.push_scope([])
        items = loop_scope.add("", "hidden")
        index = loop_scope.add("", "hidden")
        self.expr(iterable)
        self.at(s)
        self.emit(op.ITER_KEYS if keys else op.ITER_VALUES)
        self.emit(op.STORE_INIT, 0, items)
        self.emit(op.CONST, 0)
        self.emit(op.STORE_INIT, 0, index)
        test, cont, end = Label(), Label(), Label()
        self.mark(test)
        self.emit(op.ITER_NEXT, items, index, end)
        declared = s.kind is not None
        if declared:
            self.push_scope([(n, s.kind or "let") for n in pattern_names(s.target)])
        self.bind(s.target, declare=declared)
        self.loop(end, cont)
        self.f.loops[-1].break_depth = self.depth - (1 if declared else 0)
        self.stmt(s.body)
        self.f.loops.pop()
        self.mark(cont)
        if declared:
            self.pop_scope()
        self.emit(op.JUMP, test)
        self.mark(end)
        self.pop_scope()

    def stmt_ForOf(self, s: A.ForOf) -> None:
        self._for_each(s, s.iterable, keys=False)

    def stmt_ForIn(self, s: A.ForIn) -> None:
        self._for_each(s, s.object, keys=True)

    def _jump_out(self, label: Label, depth: int, handler_depth: int) -> None:
        hops = self.depth - depth
        if hops == 0 and handler_depth == self.f.handler_depth:
            self.emit(op.JUMP, label)
        else:
            self.emit(op.JUMP_OUT, label, hops, handler_depth)

    def _target(self, label: str | None, continuing: bool) -> _Loop | None:
        """The loop (or labelled statement) a break/continue leaves; the checker reports the
        cases where there is none (RY107, RY108, RY111)."""
        for lp in reversed(self.f.loops):
            if label is not None:
                if label in lp.labels:
                    return lp if not continuing or lp.continue_label is not None else None
            elif not lp.label_only and (not continuing or lp.continue_label is not None):
                return lp
        return None

    def stmt_Break(self, s: A.Break) -> None:
        lp = self._target(s.label, continuing=False)
        if lp is None:
            self.emit(op.THROW_ERROR, "SyntaxError", "break outside a loop")
            return
        self._jump_out(lp.break_label, lp.break_depth, lp.handler_depth)

    def stmt_Labeled(self, s: A.Labeled) -> None:
        labels = [s.label]
        body = s.body
        while isinstance(body, A.Labeled):
            labels.append(body.label)
            body = body.body
        if isinstance(body, A.For | A.ForOf | A.ForIn | A.While | A.DoWhile):
            self.loop_labels = tuple(labels)  # taken by the loop's `self.loop(...)`
            self.stmt(body)
            return
        end = Label()
        self.loop(end, None)  # type: ignore[arg-type]  # a break target only
        lp = self.f.loops[-1]
        lp.labels, lp.label_only = tuple(labels), True
        self.stmt(body)
        self.f.loops.pop()
        self.mark(end)

    def stmt_Switch(self, s: A.Switch) -> None:
        body = [st for case in s.cases for st in case.body]
        self.expr(s.discriminant)  # in the outer scope, before the cases' scope opens
        scope = self.push_scope(_declared_names(body))
        slot = scope.add("", "let")
        self.emit(op.STORE_INIT, 0, slot)
        self.hoist_functions(body)
        starts = [Label() for _ in s.cases]
        end = Label()
        default = None
        for case, start in zip(s.cases, starts, strict=True):
            if case.test is None:
                default = start
                continue
            self.emit(op.LOAD, 0, slot, "")
            self.expr(case.test)
            self.at(case)
            self.emit(op.BINARY, "===")
            self.emit(op.JUMP_IF_TRUE, start)
        self.emit(op.JUMP, default or end)
        self.loop(end, None)  # type: ignore[arg-type]  # a break target, not a continue one
        for case, start in zip(s.cases, starts, strict=True):
            self.mark(start)
            for st in case.body:
                self.stmt(st)
        self.f.loops.pop()
        self.mark(end)
        self.pop_scope()

    def stmt_Continue(self, s: A.Continue) -> None:
        lp = self._target(s.label, continuing=True)
        if lp is None or lp.continue_label is None:
            self.emit(op.THROW_ERROR, "SyntaxError", "continue outside a loop")
            return
        self._jump_out(lp.continue_label, lp.continue_depth, lp.handler_depth)

    def stmt_Return(self, s: A.Return) -> None:
        if s.argument is None:
            self.emit(op.CONST, UNDEFINED if self.f.base_depth > 1 else None)
        else:
            self.expr(s.argument)
        self.emit(op.RETURN)

    def stmt_Throw(self, s: A.Throw) -> None:
        self.expr(s.argument)
        self.at(s)
        self.emit(op.THROW)

    def stmt_Try(self, s: A.Try) -> None:
        fin = Label()
        if s.finalizer is not None:
            self.emit(op.PUSH_HANDLER, "finally", fin)
            self.f.handler_depth += 1
        if s.handler is not None:
            catch, after = Label(), Label()
            self.emit(op.PUSH_HANDLER, "catch", catch)
            self.f.handler_depth += 1
            self.stmt(s.block)
            self.emit(op.POP_HANDLER)
            self.f.handler_depth -= 1
            self.emit(op.JUMP, after)
            self.mark(catch)
            self.at(s.handler)
            names = [(n, "let") for n in pattern_names(s.param)]
            names += _declared_names(s.handler.body)
            self.push_scope(names)
            if s.param is not None:
                self.bind(s.param, declare=True)
            else:
                self.emit(op.POP)
            for stmt in s.handler.body:
                self.stmt(stmt)
            self.pop_scope()
            self.mark(after)
        else:
            self.stmt(s.block)
        if s.finalizer is not None:
            self.emit(op.POP_HANDLER)
            self.f.handler_depth -= 1
            self.emit(op.CONST, Completion("normal"))
            self.mark(fin)
            self.at(s.finalizer)
            scope = self.push_scope([])
            slot = scope.add("", "hidden")
            self.emit(op.STORE_INIT, 0, slot)
            self.block_body(s.finalizer.body)
            self.emit(op.LOAD, 0, slot)
            self.pop_scope()
            self.emit(op.END_FINALLY)

    # ------------------------------------------------------------ patterns

    def default_value(self, default: A.Expr, target: object = None) -> None:
        """Value on the stack; replace it by `default` when it is undefined."""
        skip = Label()
        self.emit(op.JUMP_IF_NOT_UNDEFINED, skip)
        self.emit(op.POP)
        self.named_expr(default, target)
        self.mark(skip)

    def named_expr(self, e: A.Expr, target: object) -> None:
        """Compiles `e`; an arrow assigned to a name (`const f = () => 1`, `{ f: () => 1 }`,
        a default value) is named after it, as JavaScript's NamedEvaluation does."""
        if isinstance(e, A.Arrow):
            if isinstance(target, A.Identifier):
                self.arrow_names[id(e)] = target.name
            elif isinstance(target, str):
                self.arrow_names[id(e)] = target
        self.expr(e)

    def bind(self, p: A.Pattern, declare: bool) -> None:
        """Pops the value on the stack into the pattern's bindings."""
        if isinstance(p, A.Identifier):
            self.store_name(p, declare)
        elif isinstance(p, A.AssignPattern):
            self.default_value(p.default, p.target)
            self.bind(p.target, declare)
        elif isinstance(p, A.ObjectPattern):
            self.at(p)
            self.emit(op.REQUIRE_OBJECT)
            static_keys: list[str] = []
            for prop in p.properties:
                self.emit(op.DUP)
                if prop.computed:
                    assert not isinstance(prop.key, str)
                    self.expr(prop.key)
                    self.emit(op.GET_INDEX)
                else:
                    assert isinstance(prop.key, str)
                    static_keys.append(prop.key)
                    self.emit(op.GET_PROP, prop.key)
                self.bind(prop.value, declare)
            if p.rest is not None:
                if any(prop.computed for prop in p.properties):
                    self.emit(op.THROW_ERROR, "SyntaxError", "a rest element after computed keys")
                self.emit(op.OBJECT_REST, tuple(static_keys))
                self.store_name(p.rest, declare)
            else:
                self.emit(op.POP)
        elif isinstance(p, A.ArrayPattern):
            self.at(p)
            self.emit(op.ITER_VALUES)
            for i, element in enumerate(p.elements):
                if element is None:
                    continue
                self.emit(op.DUP)
                self.emit(op.CONST, float(i))
                self.emit(op.GET_INDEX)
                self.bind(element, declare)
            if p.rest is not None:
                self.emit(op.SLICE_FROM, len(p.elements))
                self.bind(p.rest, declare)
            else:
                self.emit(op.POP)
        else:
            self.emit(op.POP)
            self.emit(op.THROW_ERROR, "SyntaxError", "invalid destructuring target")

    def store_name(self, ident: A.Identifier, declare: bool) -> None:
        r = self.resolve(ident.name)
        if r is None:
            self.emit(op.POP)
            self.emit(op.THROW_ERROR, "ReferenceError", f"{ident.name} is not defined")
            return
        hops, slot, kind = r
        if declare:
            self.emit(op.STORE_INIT, hops, slot)
        elif kind == "const":
            self.emit(op.POP)
            self.emit(
                op.THROW_ERROR, "TypeError", f"Assignment to constant variable '{ident.name}'"
            )
        else:
            self.emit(op.STORE, hops, slot, ident.name)

    # ------------------------------------------------------------ expressions

    def expr(self, e: A.Expr | A.Spread) -> None:
        saved, self.chain_end = self.chain_end, None
        getattr(self, "expr_" + type(e).__name__)(e)
        self.chain_end = saved

    def expr_NumberLit(self, e: A.NumberLit) -> None:
        self.emit(op.CONST, float(e.value))

    def expr_StringLit(self, e: A.StringLit) -> None:
        self.emit(op.CONST, e.value)

    def expr_RegExpLit(self, e: A.RegExpLit) -> None:
        # A new object at each evaluation, as in JavaScript; the checker has vetted the pattern.
        self.emit(op.CONST, e.pattern)
        self.emit(op.CONST, e.flags)
        self.at(e)
        self.emit(op.CALL_BUILTIN, "RegExp", 2)

    def expr_BoolLit(self, e: A.BoolLit) -> None:
        self.emit(op.CONST, bool(e.value))

    def expr_NullLit(self, e: A.NullLit) -> None:
        self.emit(op.CONST, None)

    def expr_UndefinedLit(self, e: A.UndefinedLit) -> None:
        self.emit(op.CONST, UNDEFINED)

    def expr_TemplateLit(self, e: A.TemplateLit) -> None:
        for i, q in enumerate(e.quasis):
            if q:
                self.emit(op.CONST, q)
            if i < len(e.exprs):
                self.expr(e.exprs[i])
                self.emit(op.TO_STRING)
        count = sum(1 for q in e.quasis if q) + len(e.exprs)
        if count == 0:
            self.emit(op.CONST, "")
        elif count > 1:
            self.emit(op.CONCAT, count)

    def expr_Identifier(self, e: A.Identifier) -> None:
        r = self.resolve(e.name)
        if r is not None:
            self.emit(op.LOAD, r[0], r[1], e.name)
        elif e.name in GLOBALS:
            self.emit(op.LOAD_GLOBAL, e.name)
        else:
            self.at(e)
            self.emit(op.THROW_ERROR, "ReferenceError", f"{e.name} is not defined")

    def elements(self, items: list[A.Expr | A.Spread], build: str) -> None:
        """Builds an array from items (spreads included)."""
        if not any(isinstance(x, A.Spread) for x in items):
            for x in items:
                self.expr(x)
            self.emit(op.ARRAY, len(items))
            return
        self.emit(op.ARRAY, 0)
        for x in items:
            if isinstance(x, A.Spread):
                self.expr(x.argument)
                self.at(x)
                self.emit(op.ARRAY_SPREAD)
            else:
                self.expr(x)
                self.emit(op.ARRAY_PUSH)

    def expr_ArrayLit(self, e: A.ArrayLit) -> None:
        self.elements(e.elements, "array")

    def expr_ObjectLit(self, e: A.ObjectLit) -> None:
        self.emit(op.OBJECT)
        for p in e.properties:
            if isinstance(p, A.Spread):
                self.expr(p.argument)
                self.emit(op.OBJECT_SPREAD)
            elif p.computed:
                assert not isinstance(p.key, str)
                self.expr(p.key)
                self.expr(p.value)
                self.emit(op.DEFINE_INDEX)
            else:
                assert isinstance(p.key, str)
                self.named_expr(p.value, p.key)
                self.emit(op.DEFINE_PROP, p.key)

    # -- member chains (with optional chaining)

    def _chain(self, e: A.Expr, fn: Any) -> None:
        """Run `fn`, giving it a chain-end label when `e` is the top of an optional chain."""
        if self.chain_end is None and A.has_optional(e):
            end = self.chain_end = Label()
            fn()
            self.mark(end)
            self.chain_end = None
        else:
            fn()

    def _optional_check(self) -> None:
        assert self.chain_end is not None
        self.emit(op.JUMP_IF_NULLISH, self.chain_end)

    def expr_Member(self, e: A.Member) -> None:
        def go() -> None:
            obj = e.object
            if isinstance(obj, A.Identifier) and self.is_global(obj.name):
                entry = GLOBALS.get(obj.name)
                if isinstance(entry, StdObject) and not entry.open and e.name in entry.members:
                    self.at(e)
                    self.emit(op.GLOBAL_MEMBER, obj.name, e.name)
                    return
            self.sub(obj)
            if e.optional:
                self._optional_check()
            self.at(e)
            self.emit(op.GET_PROP, e.name)

        self._chain(e, go)

    def expr_Index(self, e: A.Index) -> None:
        def go() -> None:
            self.sub(e.object)
            if e.optional:
                self._optional_check()
            self.expr(e.index)
            self.at(e)
            self.emit(op.GET_INDEX)

        self._chain(e, go)

    def sub(self, e: A.Expr) -> None:
        """Compile a link inside a chain (keeps the chain's end label, unless the link is in
        parentheses: `(a?.b).c` throws when `a` is nullish)."""
        if isinstance(e, A.Member | A.Index | A.Call) and not e.parenthesized:
            getattr(self, "expr_" + type(e).__name__)(e)
        else:
            self.expr(e)

    def args(self, items: list[A.Expr | A.Spread]) -> int | None:
        """Pushes arguments; returns their count, or None when spread into one array."""
        if any(isinstance(x, A.Spread) for x in items):
            self.elements(items, "args")
            return None
        for x in items:
            self.expr(x)
        return len(items)

    def expr_Call(self, e: A.Call) -> None:
        def go() -> None:
            callee = e.callee
            # Task.run(...), Math.max(...): a direct builtin call.
            if (
                isinstance(callee, A.Member)
                and not callee.optional
                and not e.optional
                and isinstance(callee.object, A.Identifier)
                and self.is_global(callee.object.name)
            ):
                entry = GLOBALS.get(callee.object.name)
                if isinstance(entry, StdObject) and callee.name in entry.members:
                    n = self.args(e.arguments)
                    self.at(e)
                    self.emit(op.CALL_BUILTIN, f"{callee.object.name}.{callee.name}", n)
                    return
            if isinstance(callee, A.Identifier) and self.is_global(callee.name):
                entry = GLOBALS.get(callee.name)
                if isinstance(entry, StdObject) and entry.constructor is not None:
                    entry = entry.constructor  # `Error("x")`, `Date()`: called without `new`
                if isinstance(entry, Builtin) and entry.kind != "property":
                    n = self.args(e.arguments)
                    self.at(e)
                    self.emit(op.CALL_BUILTIN, callee.name, n)
                    return
            if isinstance(callee, A.Member) and not e.optional and not callee.parenthesized:
                self.sub(callee.object)
                if callee.optional:
                    self._optional_check()
                n = self.args(e.arguments)
                self.at(e)
                self.emit(op.CALL_METHOD, callee.name, n)
                return
            self.sub(callee)
            if e.optional:
                self._optional_check()
            n = self.args(e.arguments)
            self.at(e)
            self.emit(op.CALL, n)

        self._chain(e, go)

    def expr_New(self, e: A.New) -> None:
        self.expr(e.callee)
        n = self.args(e.arguments)
        self.at(e)
        self.emit(op.NEW, n, A.callee_text(e.callee))

    def delete(self, e: A.Unary) -> None:
        t = e.operand
        if isinstance(t, A.Member):
            self.expr(t.object)
            self.emit(op.CONST, t.name)
        elif isinstance(t, A.Index):
            self.expr(t.object)
            self.expr(t.index)
        else:  # the checker reports `delete name`; any other operand is deleted as a value
            self.expr(t)
            self.emit(op.POP)
            self.emit(op.CONST, True)
            return
        self.at(e)
        self.emit(op.DELETE)

    def expr_Sequence(self, e: A.Sequence) -> None:
        for i, x in enumerate(e.expressions):
            if i:
                self.emit(op.POP)
            self.expr(x)

    def expr_Unary(self, e: A.Unary) -> None:
        if e.op == "delete":
            self.delete(e)
            return
        if e.op == "typeof" and isinstance(e.operand, A.Identifier):
            name = e.operand.name
            if self.resolve(name) is None and not self.is_global(name):
                self.emit(op.CONST, "undefined")
                return
        self.expr(e.operand)
        self.at(e)
        self.emit(op.UNARY, e.op)

    def expr_Binary(self, e: A.Binary) -> None:
        self.expr(e.left)
        self.expr(e.right)
        self.at(e)
        self.emit(op.BINARY, e.op)

    def expr_Logical(self, e: A.Logical) -> None:
        end = Label()
        self.expr(e.left)
        jump = {"&&": op.AND_JUMP, "||": op.OR_JUMP, "??": op.NULLISH_JUMP}[e.op]
        self.emit(jump, end)
        self.expr(e.right)
        self.mark(end)

    def expr_Conditional(self, e: A.Conditional) -> None:
        other, end = Label(), Label()
        self.expr(e.test)
        self.emit(op.JUMP_IF_FALSE, other)
        self.expr(e.consequent)
        self.emit(op.JUMP, end)
        self.mark(other)
        self.expr(e.alternate)
        self.mark(end)

    def expr_Await(self, e: A.Await) -> None:
        self.expr(e.argument)
        self.at(e)
        pc = self.emit(op.AWAIT)
        self.await_scopes[pc] = tuple(
            tuple((name, slot) for name, (slot, _kind) in scope.names.items())
            for scope in reversed(self.f.scopes)
        )

    def expr_Arrow(self, e: A.Arrow) -> None:
        index = len(self.functions)
        self.functions.append(None)
        self.pending.append((index, e, list(self.f.scopes)))
        self.emit(op.CLOSURE, index)

    def expr_Spread(self, e: A.Spread) -> None:
        self.emit(
            op.THROW_ERROR, "SyntaxError", "spread is only allowed in arrays, objects and calls"
        )

    def expr_Assign(self, e: A.Assign) -> None:
        t = e.target
        self.at(e)
        if isinstance(t, A.ObjectPattern | A.ArrayPattern):
            self.expr(e.value)
            self.emit(op.DUP)
            self.bind(t, declare=False)
            return
        if e.op == "=":
            if isinstance(t, A.Identifier):
                self.named_expr(e.value, t)
                self.emit(op.DUP)
                self.store_name(t, declare=False)
            elif isinstance(t, A.Member):
                self.expr(t.object)
                self.expr(e.value)
                self.at(e)
                self.emit(op.SET_PROP, t.name)
            elif isinstance(t, A.Index):
                self.expr(t.object)
                self.expr(t.index)
                self.expr(e.value)
                self.at(e)
                self.emit(op.SET_INDEX)
            return
        binop = e.op[:-1]
        logical = binop in ("&&", "||", "??")
        jump = {"&&": op.AND_JUMP, "||": op.OR_JUMP, "??": op.NULLISH_JUMP}.get(binop)
        if isinstance(t, A.Identifier):
            self.expr_Identifier(t)
            if logical:
                end = Label()
                self.emit(jump, end)
                self.named_expr(e.value, t)
                self.emit(op.DUP)
                self.store_name(t, declare=False)
                self.mark(end)
            else:
                self.expr(e.value)
                self.at(e)
                self.emit(op.BINARY, binop)
                self.emit(op.DUP)
                self.store_name(t, declare=False)
            return
        # Member or Index: [obj, (key)] stay below the current value.
        if isinstance(t, A.Member):
            self.expr(t.object)
            self.emit(op.DUP)
            self.emit(op.GET_PROP, t.name)
            keep = 1
        else:
            assert isinstance(t, A.Index)
            self.expr(t.object)
            self.expr(t.index)
            self.emit(op.DUP2)
            self.emit(op.GET_INDEX)
            keep = 2
        if logical:
            short, end = Label(), Label()
            self.emit(jump, short)
            self.expr(e.value)
            self.emit(op.SET_PROP, t.name) if isinstance(t, A.Member) else self.emit(op.SET_INDEX)
            self.emit(op.JUMP, end)
            self.mark(short)
            self.emit(op.DROP_UNDER, keep)
            self.mark(end)
        else:
            self.expr(e.value)
            self.at(e)
            self.emit(op.BINARY, binop)
            self.emit(op.SET_PROP, t.name) if isinstance(t, A.Member) else self.emit(op.SET_INDEX)

    def expr_Update(self, e: A.Update) -> None:
        t = e.target
        delta = 1.0 if e.op == "++" else -1.0
        self.at(e)
        if isinstance(t, A.Identifier):
            r = self.resolve(t.name)
            if r is None:
                self.emit(op.THROW_ERROR, "ReferenceError", f"{t.name} is not defined")
                return
            if r[2] == "const":
                self.emit(
                    op.THROW_ERROR, "TypeError", f"Assignment to constant variable '{t.name}'"
                )
                return
            self.emit(op.UPDATE_VAR, r[0], r[1], delta, e.prefix, t.name)
        elif isinstance(t, A.Member):
            self.expr(t.object)
            self.emit(op.UPDATE_PROP, t.name, delta, e.prefix)
        else:
            self.expr(t.object)
            self.expr(t.index)
            self.emit(op.UPDATE_INDEX, delta, e.prefix)


def compile_program(program: A.Program, source: str, filename: str = "<flow>") -> CompiledWorkflow:
    """Compiles an already checked program (no diagnostics are looked at here)."""
    compiled = _Compiler(source).compile_program(program)
    compiled.filename = filename
    return compiled


def compile_source(source: str, filename: str = "<flow>") -> CompiledWorkflow:
    """Parses, checks and compiles `source`; raises FlowCompileError listing every error."""
    result = analyze(source)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if errors:
        lines = [f"{filename}:{d.span.line}:{d.span.column}: {d.message}" for d in errors]
        raise FlowCompileError("\n".join(lines), lines)
    return compile_program(result.program, source, filename)


def _expected_arguments(arrow: A.Arrow) -> int:
    """A function's `length`: its parameters before the first with a default value."""
    for i, param in enumerate(arrow.params):
        if isinstance(param, A.AssignPattern):
            return i
    return len(arrow.params)
