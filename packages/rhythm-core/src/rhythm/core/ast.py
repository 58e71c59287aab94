"""The syntax tree of a .flow program: small dataclasses, each carrying its source span.

The parser builds these, the checker, formatter, compiler and language server read them. Every
node is constructed with keyword arguments. Spans use 1-based lines and columns (as people and
`file:line:col` messages count) plus 0-based character offsets into the source text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias


@dataclass(frozen=True, slots=True)
class Span:
    line: int  # 1-based line of the first character
    column: int  # 1-based column of the first character
    end_line: int  # 1-based line of the character after the last one
    end_column: int  # 1-based column of the character after the last one
    start: int  # 0-based offset of the first character
    end: int  # 0-based offset just past the last character

    def contains(self, offset: int) -> bool:
        return self.start <= offset <= self.end


NO_SPAN = Span(1, 1, 1, 1, 0, 0)


@dataclass(kw_only=True, slots=True)
class Node:
    span: Span = NO_SPAN


# ---------------------------------------------------------------- expressions


@dataclass(kw_only=True, slots=True)
class NumberLit(Node):
    value: float | int  # ints for integral literals written without a fraction or exponent
    raw: str = ""  # the text as written (for the formatter)


@dataclass(kw_only=True, slots=True)
class StringLit(Node):
    value: str
    quote: Literal["'", '"'] = '"'


@dataclass(kw_only=True, slots=True)
class TemplateLit(Node):
    quasis: list[str]  # cooked text pieces; len(quasis) == len(exprs) + 1
    exprs: list[Expr]


@dataclass(kw_only=True, slots=True)
class RegExpLit(Node):
    """`/pattern/flags`: the pattern as written between the slashes, and the flags."""

    pattern: str
    flags: str


@dataclass(kw_only=True, slots=True)
class BoolLit(Node):
    value: bool


@dataclass(kw_only=True, slots=True)
class NullLit(Node):
    pass


@dataclass(kw_only=True, slots=True)
class UndefinedLit(Node):
    pass


@dataclass(kw_only=True, slots=True)
class Identifier(Node):
    name: str


@dataclass(kw_only=True, slots=True)
class Spread(Node):
    """`...arg` inside an array literal, object literal or call arguments."""

    argument: Expr


@dataclass(kw_only=True, slots=True)
class ArrayLit(Node):
    elements: list[Expr | Spread]


@dataclass(kw_only=True, slots=True)
class Property(Node):
    """`key: value`, `"quoted": value`, `[computed]: value`, shorthand `key`, or a method
    `key(params) { ... }` / `async key(params) { ... }` (`method`; `value` is then its Arrow)."""

    key: str | Expr  # a str for plain and quoted keys, an Expr when computed
    value: Expr
    computed: bool = False
    shorthand: bool = False
    method: bool = False
    key_span: Span = NO_SPAN


@dataclass(kw_only=True, slots=True)
class ObjectLit(Node):
    properties: list[Property | Spread]


@dataclass(kw_only=True, slots=True)
class Member(Node):
    """`object.name` or `object?.name`."""

    object: Expr
    name: str
    optional: bool = False
    name_span: Span = NO_SPAN
    # Written in parentheses around an optional chain: `(a?.b).c` ends the short-circuit there.
    parenthesized: bool = False


@dataclass(kw_only=True, slots=True)
class Index(Node):
    """`object[index]` or `object?.[index]`."""

    object: Expr
    index: Expr
    optional: bool = False
    parenthesized: bool = False  # as in Member


@dataclass(kw_only=True, slots=True)
class Call(Node):
    """`callee(args)`; `optional` for `callee?.(args)`."""

    callee: Expr
    arguments: list[Expr | Spread]
    optional: bool = False
    parenthesized: bool = False  # as in Member


@dataclass(kw_only=True, slots=True)
class New(Node):
    """`new Callee(args)` (`new Callee` without parentheses has no arguments). The callee is a
    name or a dotted path (`new Date(ms)`); .flow constructs builtins only."""

    callee: Expr
    arguments: list[Expr | Spread]


UnaryOp: TypeAlias = Literal["-", "+", "!", "typeof", "~", "void", "delete"]


@dataclass(kw_only=True, slots=True)
class Sequence(Node):
    """The comma operator: `a, b, c` evaluates each and yields the last."""

    expressions: list[Expr]


@dataclass(kw_only=True, slots=True)
class Unary(Node):
    op: UnaryOp
    operand: Expr


BinaryOp: TypeAlias = Literal[
    "+", "-", "*", "/", "%", "**",
    "<", "<=", ">", ">=", "==", "!=", "===", "!==",
    "in", "instanceof",
]  # fmt: skip


@dataclass(kw_only=True, slots=True)
class Binary(Node):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(kw_only=True, slots=True)
class Logical(Node):
    op: Literal["&&", "||", "??"]
    left: Expr
    right: Expr


@dataclass(kw_only=True, slots=True)
class Conditional(Node):
    test: Expr
    consequent: Expr
    alternate: Expr


@dataclass(kw_only=True, slots=True)
class Await(Node):
    argument: Expr


@dataclass(kw_only=True, slots=True)
class Arrow(Node):
    """`x => expr`, `(a, b = 1, ...rest) => { ... }`, `async (x) => { ... }`. `await` is
    allowed only inside an `async` one (and at the workflow's top level)."""

    params: list[Pattern]
    body: Expr | Block
    rest: Pattern | None = None  # `...rest`, the last parameter (added by the parser)
    is_async: bool = False


AssignOp: TypeAlias = Literal["=", "+=", "-=", "*=", "/=", "%=", "**=", "??=", "||=", "&&="]


@dataclass(kw_only=True, slots=True)
class Assign(Node):
    """Assignment is an expression (`a = b = 1` works), usually wrapped in an ExprStmt.
    `target` is an Identifier, Member, Index, or (for `=` only) an ObjectPattern/ArrayPattern."""

    op: AssignOp
    target: Identifier | Member | Index | ObjectPattern | ArrayPattern
    value: Expr


@dataclass(kw_only=True, slots=True)
class Update(Node):
    """`x++`, `--x`, `a.b++`, `a[i]--`."""

    op: Literal["++", "--"]
    prefix: bool
    target: Identifier | Member | Index


Expr: TypeAlias = (
    NumberLit | StringLit | TemplateLit | RegExpLit | BoolLit | NullLit | UndefinedLit | Identifier
    | ArrayLit | ObjectLit | Member | Index | Call | New | Unary | Binary | Logical | Conditional
    | Await | Arrow | Assign | Update | Sequence
)  # fmt: skip


# ---------------------------------------------------------------- patterns (destructuring)


@dataclass(kw_only=True, slots=True)
class AssignPattern(Node):
    """`target = default` inside a destructuring pattern or an arrow's parameters."""

    target: Pattern
    default: Expr


@dataclass(kw_only=True, slots=True)
class PatternProperty(Node):
    """`key`, `key: target`, `key = default`, `key: target = default`, `[expr]: target`."""

    key: str | Expr
    value: Pattern  # for shorthand `{ a }`: Identifier(name="a"); with default: AssignPattern
    computed: bool = False
    shorthand: bool = False
    key_span: Span = NO_SPAN


@dataclass(kw_only=True, slots=True)
class ObjectPattern(Node):
    properties: list[PatternProperty]
    rest: Identifier | None = None


@dataclass(kw_only=True, slots=True)
class ArrayPattern(Node):
    elements: list[Pattern | None]  # None for a hole: `[, b]`
    rest: Pattern | None = None


Pattern: TypeAlias = Identifier | ObjectPattern | ArrayPattern | AssignPattern


# ---------------------------------------------------------------- statements


@dataclass(kw_only=True, slots=True)
class Declarator(Node):
    target: Pattern  # Identifier, ObjectPattern or ArrayPattern
    init: Expr | None = None


@dataclass(kw_only=True, slots=True)
class VarDecl(Node):
    kind: Literal["let", "const"]
    declarations: list[Declarator]


@dataclass(kw_only=True, slots=True)
class ExprStmt(Node):
    expr: Expr


@dataclass(kw_only=True, slots=True)
class Block(Node):
    body: list[Stmt]


@dataclass(kw_only=True, slots=True)
class If(Node):
    test: Expr
    consequent: Stmt
    alternate: Stmt | None = None


@dataclass(kw_only=True, slots=True)
class ForOf(Node):
    """`for (const x of xs)`; kind None for `for (x of xs)` assigning an existing binding."""

    kind: Literal["let", "const"] | None
    target: Pattern
    iterable: Expr
    body: Stmt


@dataclass(kw_only=True, slots=True)
class ForIn(Node):
    kind: Literal["let", "const"] | None
    target: Pattern
    object: Expr
    body: Stmt


@dataclass(kw_only=True, slots=True)
class For(Node):
    init: VarDecl | Expr | None
    test: Expr | None
    update: Expr | None
    body: Stmt


@dataclass(kw_only=True, slots=True)
class While(Node):
    test: Expr
    body: Stmt


@dataclass(kw_only=True, slots=True)
class DoWhile(Node):
    body: Stmt
    test: Expr


@dataclass(kw_only=True, slots=True)
class Break(Node):
    """`break` or `break label`."""

    label: str | None = None
    label_span: Span = NO_SPAN


@dataclass(kw_only=True, slots=True)
class Continue(Node):
    """`continue` or `continue label`."""

    label: str | None = None
    label_span: Span = NO_SPAN


@dataclass(kw_only=True, slots=True)
class Labeled(Node):
    """`label: statement`: `break label` leaves the statement, `continue label` (when it is a
    loop) starts its next iteration."""

    label: str
    body: Stmt
    label_span: Span = NO_SPAN


@dataclass(kw_only=True, slots=True)
class FunctionDecl(Node):
    """`function name(a, b = 1, ...rest) { ... }` or `async function ...`: `name` is bound
    (and the function created) when its block is entered, before the block's first statement.
    `func` holds the parameters and the body (its `span` is the whole declaration)."""

    name: Identifier
    func: Arrow


@dataclass(kw_only=True, slots=True)
class Return(Node):
    argument: Expr | None = None


@dataclass(kw_only=True, slots=True)
class Throw(Node):
    argument: Expr


@dataclass(kw_only=True, slots=True)
class SwitchCase(Node):
    test: Expr | None  # None for `default:`
    body: list[Stmt]


@dataclass(kw_only=True, slots=True)
class Switch(Node):
    """`switch (x) { case a: ... default: ... }`: cases compared with ===, falling through
    until `break`; the case bodies share one block scope."""

    discriminant: Expr
    cases: list[SwitchCase]


@dataclass(kw_only=True, slots=True)
class Try(Node):
    block: Block
    param: Pattern | None = None  # `catch (e)`; None for `catch {` or no catch clause
    handler: Block | None = None
    finalizer: Block | None = None


@dataclass(kw_only=True, slots=True)
class Empty(Node):
    """A lone `;`."""


@dataclass(kw_only=True, slots=True)
class ErrorStmt(Node):
    """What the parser leaves where it recovered from a syntax error (already reported)."""


Stmt: TypeAlias = (
    VarDecl | ExprStmt | Block | If | ForOf | ForIn | For | While | DoWhile | Break | Continue
    | Return | Throw | Try | Empty | ErrorStmt | FunctionDecl | Switch | Labeled
)  # fmt: skip


@dataclass(kw_only=True, slots=True)
class Program(Node):
    body: list[Stmt] = field(default_factory=list)
    # Comments, kept for the formatter: (span, text including the // or /* */ markers).
    comments: list[tuple[Span, str]] = field(default_factory=list)


def iter_children(node: Node):
    """Yield every direct child node (in source order), looking through lists and fields."""
    for name in node.__slots__ if hasattr(node, "__slots__") else ():
        if name in ("span", "key_span", "name_span", "label_span", "comments"):
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(node: Node):
    """Yield `node` and all its descendants, depth-first in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(iter_children(current))))


def callee_text(e: Node) -> str:
    """`Date`, `a.b.C`: how a `new` callee reads in messages ("x is not a constructor")."""
    if isinstance(e, Identifier):
        return e.name
    if isinstance(e, Member):
        return f"{callee_text(e.object)}.{e.name}"
    return "expression"


def has_optional(e: Node) -> bool:
    """Whether `e` is an optional chain: some link of it, up to a parenthesized one, is `?.`."""
    while isinstance(e, Member | Index | Call):
        if e.optional:
            return True
        e = e.callee if isinstance(e, Call) else e.object
        if isinstance(e, Member | Index | Call) and e.parenthesized:
            return False
    return False
