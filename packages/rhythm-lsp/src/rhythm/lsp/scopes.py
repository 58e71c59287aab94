"""Variables as the language features see them, from rhythm.core's symbol table (the same scope
resolution the checker uses): the binding under the cursor, what is visible at an offset, and the
obvious type of a name."""

from __future__ import annotations

from dataclasses import dataclass

from rhythm.core import ast
from rhythm.core.stdlib import StdObject
from rhythm.core.symbols import Binding as CoreBinding
from rhythm.lsp.document import Document
from rhythm.lsp.receivers import ResolveName, expression_type, global_type


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    kind: str  # "let", "const", "param", "catch"
    declaration: ast.Span  # the declaring identifier
    references: tuple[ast.Span, ...]  # every other use, in source order

    def span_at(self, offset: int) -> ast.Span | None:
        """The declaration or reference span holding `offset`, if any."""
        for span in (self.declaration, *self.references):
            if span.start <= offset <= span.end:
                return span
        return None


# An offset where an identifier starts -> (its binding, whether it is the declaration).
BindingIndex = dict[int, tuple[Binding, bool]]


def _convert(binding: CoreBinding) -> Binding:
    refs = tuple(sorted((r.span for r in binding.references), key=lambda s: s.start))
    return Binding(binding.name, binding.kind, binding.span, refs)


def binding_at(document: Document, offset: int) -> Binding | None:
    """The variable declared or used at `offset` (not stdlib globals)."""
    found = document.analysis.symbols.binding_at(document.analysed(offset))
    if found is None or found.kind == "global":
        return None
    return _convert(found)


def visible_bindings(document: Document, offset: int) -> list[Binding]:
    """Variables visible at `offset`, innermost first; stdlib globals left out."""
    visible = document.analysis.symbols.visible_at(document.analysed(offset))
    return [_convert(b) for b in visible.values() if b.kind != "global"]


def binding_index(document: Document) -> BindingIndex:
    cached = document.cache.get("binding_index")
    if cached is not None:
        return cached
    index: BindingIndex = {}
    for core in document.analysis.symbols.bindings:
        if core.kind == "global":
            continue
        binding = _convert(core)
        index[binding.declaration.start] = (binding, True)
        for span in binding.references:
            index.setdefault(span.start, (binding, False))
    document.cache["binding_index"] = index
    return index


def _declared_init(binding: CoreBinding) -> ast.Node | None:
    """The initialiser of a plain `let x = …` / `const x = …` binding (not destructured)."""
    decl = binding.declaration
    if not isinstance(decl, ast.VarDecl):
        return None
    for declarator in decl.declarations:
        if isinstance(declarator.target, ast.Identifier) and declarator.target.span == binding.span:
            return declarator.init
    return None


def text_resolver(document: Document) -> ResolveName:
    """`type_resolver` for offsets in the current text (which the analysis may be older than)."""
    resolve = type_resolver(document)
    return lambda name, offset: resolve(name, document.analysed(offset))


def type_resolver(document: Document) -> ResolveName:
    """The obvious type of a name at an offset of the analysed text: `string`, `array`, a
    stdlib object, or None."""
    symbols = document.analysis.symbols
    resolving: set[int] = set()

    def resolve(name: str, offset: int) -> str | None:
        found = symbols.scope_at(offset).lookup(name)
        if found is None:
            return global_type(name)
        if found.kind == "global":
            return found.name if isinstance(found.value, StdObject) else global_type(name)
        if id(found) in resolving:
            return None  # `const a = a`: no type, and no endless loop
        resolving.add(id(found))
        try:
            return expression_type(_declared_init(found), resolve)
        finally:
            resolving.discard(id(found))

    return resolve


def is_variable(document: Document, name: str, offset: int) -> bool:
    """True when `name` at `offset` resolves to a declared variable (shadowing any global)."""
    found = document.analysis.symbols.scope_at(document.analysed(offset)).lookup(name)
    return found is not None and found.kind != "global"


def clashes(document: Document, binding: Binding, new_name: str) -> bool:
    """True when renaming `binding` to `new_name` would collide with, or be captured by, another
    variable: somewhere the binding is declared or used, `new_name` already means a variable."""
    symbols = document.analysis.symbols
    for span in (binding.declaration, *binding.references):
        found = symbols.scope_at(span.start).lookup(new_name)
        if found is not None and found.kind != "global":
            return True
    return False
