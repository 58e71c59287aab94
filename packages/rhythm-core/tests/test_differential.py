"""Differential test: seeded random .flow programs run in Node.js and in Rhythm must give identical
JSON output. All Node programs run in one node process, so the whole test takes seconds.

Set RHYTHM_DIFF_SEED to explore other programs, RHYTHM_DIFF_COUNT for more of them."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import regex
from rhythm.core.testing import run_workflow

SEED = int(os.environ.get("RHYTHM_DIFF_SEED", "20251121"))
COUNT = int(os.environ.get("RHYTHM_DIFF_COUNT", "300"))
TASK_NAMES = ("fetch", "score", "store")
_REPL = ["'+'", "'[$&]'", "''", "'$$'"]
_C0 = ["'*'", "'ab'", "'0'"]
_C1 = ["'a'", "'-'", "''", "'l'"]
_C2 = ["", ", null, 2", ", null, '-'"]
_C3 = ["", "'-'", "', '", "''"]
_C4 = ["','", "''", "'l'", "' '"]
_C5 = ["x", "!x", "typeof x === 'number'", "String(x).length > 1"]
_C6 = ["','", "''", "'-'"]
_C7 = ["x", "typeof x === 'string'", "x > 1"]

# Regular expressions: pieces of random patterns (only those .flow accepts are kept), flags, and
# replacement templates (every `$` form) and functions.
_RE_ATOMS = ["a", "b", "l", "o", "x", "-", ",", " ", "\\d", "\\w", "\\s", "\\S", "\\W", ".",
             "[a-c]", "[^a ]", "[\\s,]", "[0-9]", "\\.", "é", "[^\\S]", "\\b"]  # fmt: skip
_RE_QUANT = ["+", "*", "?", "{1,2}", "+?", "*?", "{2}", "??", "{0,3}"]
_RE_FLAGS = ["", "g", "i", "gi", "m", "gm", "y", "s", "u", "gu", "gy", "gim"]
_RE_REPL = ["'<$&>'", "'$1|$2'", "'[$`]'", "\"$'\"", "'$$'", "'$<g1>:$<g9>'", "'$10$01$0'",
            "(m, ...a) => JSON.stringify([m, ...a])", "(m, p1, i) => `${i}${p1}`"]  # fmt: skip
_RE_SUBJECTS = ['"a1 b22 c333"', '"lo-lo, ab"', '" x.y "', '"éclair 12"', '"aab\\nb"', '""']

NUMS = [
    "0",
    "1",
    "2",
    "3",
    "7",
    "10",
    "-4",
    "0.5",
    "0.1",
    "1.5",
    "2.25",
    "100",
    "-0.25",
    "-2.5",
    "-1.5",
    "0.7",
    "123.456",
    "1e-7",
    "1e21",
    "3e-7",
    "255",
]
STRS = [
    '""',
    '"a"',
    '"abc"',
    '" pad "',
    '"10"',
    '"3.5"',
    '"A-b-C"',
    '"x,y,z"',
    '"hello world"',
    '"0x1F"',
    '"12px"',
    '"Zeta"',
    '"éclair"',
]


class Gen:
    """Builds one random program. Variables are tracked with a type so generated code never
    reads properties of undefined (the comparison is about values, not error messages)."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.vars: dict[str, str] = {}  # name -> "num" | "str" | "bool" | "arr" | "obj" | "any"
        self.n = 0
        self.loop_vars: list[str] = []
        self.depth = 0

    def fresh(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def pick_var(self, kind: str) -> str | None:
        names = [n for n, k in self.vars.items() if k == kind]
        if kind == "num":
            names += self.loop_vars
        return self.r.choice(names) if names else None

    # ------------------------------------------------------------ expressions

    def num(self, d: int = 0) -> str:
        r = self.r
        if d < 3 and r.random() < 0.03:
            return self.regex_use("num")
        c = r.randrange(16 if d < 3 else 3)
        if c >= 14:
            return self.num_method(d)
        if c == 0:
            return r.choice(NUMS)
        if c == 1:
            return self.pick_var("num") or r.choice(NUMS)
        if c == 2:
            return str(r.randrange(0, 20))
        if c == 3:
            if r.random() < 0.3:  # bitwise and shift operators, `~`, `void` and the comma
                ops = ["&", "|", "^", "<<", ">>", ">>>"]
                form = r.randrange(3)
                if form == 0:
                    return f"(~{self.num(d + 1)} {r.choice(ops)} {self.any_(d + 1)})"
                if form == 1:
                    return f"(void {self.any_(d + 1)}, {self.num(d + 1)} {r.choice(ops)} 3)"
                return f"({self.num(d + 1)} {r.choice(ops)} {self.num(d + 1)})"
            return f"({self.num(d + 1)} {r.choice(['+', '-', '*', '/', '%'])} {self.num(d + 1)})"
        if c == 4:
            return f"Math.{r.choice(['floor', 'round', 'abs', 'trunc', 'sign', 'ceil', 'sqrt'])}({self.num(d + 1)})"
        if c == 5:
            return f"Math.{r.choice(['max', 'min'])}({self.num(d + 1)}, {self.num(d + 1)}, {self.num(d + 1)})"
        if c == 6:
            return f"{self.arr(d + 1)}.length"
        if c == 7:
            return f"{self.str_(d + 1)}.length"
        if c == 8:
            return f"{r.choice(['parseInt', 'parseFloat', 'Number'])}({self.str_(d + 1)})"
        if c == 9:
            return f"({self.any_(d + 1)} {r.choice(['*', '-', '/'])} {self.num(d + 1)})"
        if c == 10:
            return f"({self.bool_(d + 1)} ? {self.num(d + 1)} : {self.num(d + 1)})"
        if c == 11:
            # V8's pow (fdlibm) and the platform's correctly rounded pow may differ in the last
            # digit for fractional bases with other exponents (see docs/language.md).
            if r.random() < 0.3:
                return f"(({r.randrange(-9, 10)}) ** {r.randrange(0, 12)})"
            return f"(({self.num(d + 1)}) ** {r.choice(['0', '1', '2', '0.5', '-1'])})"
        if c == 12:
            return f"{self.str_(d + 1)}.indexOf({self.str_(d + 1)})"
        return f"{self.arr(d + 1)}.reduce((acc, x, i) => acc + i, {self.num(d + 1)})"

    def str_(self, d: int = 0) -> str:
        r = self.r
        if d < 2 and r.random() < 0.05:
            return self.regex_use("str")
        c = r.randrange(18 if d < 3 else 2)
        if c >= 16:
            return self.str_method(d)
        if c == 0:
            return r.choice(STRS)
        if c == 1:
            return self.pick_var("str") or r.choice(STRS)
        if c == 2:
            return f"`{r.choice(['', 'n=', 'a '])}${{{self.any_(d + 1)}}}-${{{self.num(d + 1)}}}`"
        if c == 3:
            return f"({self.str_(d + 1)} + {self.any_(d + 1)})"
        if c == 4:
            m = r.choice(["toUpperCase()", "toLowerCase()", "trim()", "trimStart()", "trimEnd()"])
            return f"{self.str_(d + 1)}.{m}"
        if c == 5:
            return f"{self.str_(d + 1)}.slice({r.randrange(-3, 4)}, {r.choice(['', str(r.randrange(-2, 6))]) or 'undefined'})"
        if c == 6:
            return f"{self.str_(d + 1)}.padStart({r.randrange(0, 8)}, {r.choice(_C0)})"
        if c == 7:
            return f"{self.str_(d + 1)}.{r.choice(['replace', 'replaceAll'])}({r.choice(_C1)}, {r.choice(_REPL)})"
        if c == 8:
            return f"String({self.any_(d + 1)})"
        if c == 9:
            return f"String(JSON.stringify({self.any_(d + 1)}{r.choice(_C2)}))"
        if c == 10:
            return f"(typeof {self.any_(d + 1)})"
        if c == 11:
            return f"{self.arr(d + 1)}.join({r.choice(_C3)})"
        if c == 12:
            return f"{self.str_(d + 1)}.repeat({r.randrange(0, 4)})"
        if c == 13:
            return f"{self.str_(d + 1)}.substring({r.randrange(-1, 5)}, {r.randrange(-1, 7)})"
        if c == 14:
            return f'({self.str_(d + 1)}.at({r.randrange(-3, 3)}) ?? "none")'
        return f'{self.str_(d + 1)}.split({r.choice(_C4)}).join("|")'

    def num_method(self, d: int) -> str:
        """Number statics, exact Math functions and the number-valued string/function members.
        (sin, exp, log and the like are left out: V8's fdlibm and the platform's libm may differ
        in the last digit, see docs/language.md.)"""
        r = self.r
        c = r.randrange(8)
        if c == 0:
            f = r.choice(["hypot", "imul"])
            return f"Math.{f}({self.num(d + 1)}, {self.num(d + 1)})"
        if c == 1:
            f = r.choice(["clz32", "fround", "trunc", "sign", "cbrt", "log2", "log10"])
            exact = {  # arguments whose result is exact, so every libm agrees
                "cbrt": ["0", "-0", "8", "-27", "1000", "Infinity", "NaN"],
                "log2": ["1", "8", "1024", "0.5", "0", "Infinity", "-1"],
                "log10": ["1", "1000", "1e21", "0", "-0", "NaN"],
            }
            arg = r.choice(exact[f]) if f in exact else self.num(d + 1)
            return f"Math.{f}({arg})"
        if c == 2:
            f = r.choice(["charCodeAt", "codePointAt", "lastIndexOf"])
            a = self.str_(d + 1) if f == "lastIndexOf" else str(r.randrange(-1, 5))
            return f"({self.str_(d + 1)}.{f}({a}) ?? -7)"
        if c == 3:
            return (
                f"Number({r.choice(['Number.parseFloat', 'Number.parseInt'])}({self.str_(d + 1)}))"
            )
        if c == 4:
            return f"Number.{r.choice(['MAX_SAFE_INTEGER', 'EPSILON', 'MIN_VALUE', 'MAX_VALUE', 'MIN_SAFE_INTEGER'])}"
        if c == 5:
            # Lower-case ASCII only: there code-point order and the locale's order agree.
            words = ['""', '"a"', '"ab"', '"abc"', '"b"', '"ba"', '"hello"']
            return f"{r.choice(words)}.localeCompare({r.choice(words)})"
        if c == 6:
            return f"(({self.num(d + 1)}) ** 0 + {r.choice(['Math.max', 'parseInt', 'String', 'Number'])}.length)"
        return f"{r.choice(['Math.LN2', 'Math.SQRT2', 'Math.LOG10E', 'Math.PI'])}"

    def str_method(self, d: int) -> str:
        """Number formatting (toFixed, toPrecision, toExponential, toString(radix)), String
        statics and string methods, toString on values, function names."""
        r = self.r
        c = r.randrange(7)
        n = self.num(d + 1)
        if c == 0:
            return f"({n}).toFixed({r.randrange(0, 12)})"
        if c == 1:
            return f"({n}).{r.choice(['toPrecision', 'toExponential'])}({r.randrange(1, 22)})"
        if c == 2:
            return f"({n}).toString({r.choice(['2', '3', '8', '16', '36', '7', ''])})"
        if c == 3:
            f = r.choice(["fromCharCode", "fromCodePoint"])
            return f"String.{f}({r.randrange(32, 0x3000)}, {r.randrange(48, 123)})"
        if c == 4:
            m = r.choice([f"charAt({r.randrange(-1, 5)})", "concat(1, null)", "normalize()"])
            return f"{self.str_(d + 1)}.{m}"
        if c == 5:
            return f"String({r.choice([self.arr, self.any_, self.obj, self.bool_])(d + 1)}?.toString())"
        return f"{r.choice(['Math.max', 'parseInt', 'String', 'Number.isInteger'])}.name"

    def bool_(self, d: int = 0) -> str:
        r = self.r
        if d < 3 and r.random() < 0.05:
            return self.regex_use("bool")
        c = r.randrange(9 if d < 3 else 2)
        if c == 0:
            return r.choice(["true", "false"])
        if c == 1:
            return f"({self.num(d + 1)} {r.choice(['<', '>', '<=', '>=', '===', '!=='])} {self.num(d + 1)})"
        if c == 2:
            return f"({self.any_(d + 1)} {r.choice(['==', '!=', '===', '!=='])} {self.any_(d + 1)})"
        if c == 3:
            return f"({self.str_(d + 1)} {r.choice(['<', '>', '>='])} {self.str_(d + 1)})"
        if c == 4:
            return f"(!{self.any_(d + 1)})"
        if c == 5:
            return f"{self.str_(d + 1)}.{r.choice(['includes', 'startsWith', 'endsWith'])}({self.str_(d + 1)})"
        if c == 6:
            return f"{self.arr(d + 1)}.{r.choice(['some', 'every'])}(x => x {r.choice(['>', '<', '=='])} {self.num(d + 1)})"
        if c == 7:
            return f"({self.bool_(d + 1)} {r.choice(['&&', '||'])} {self.bool_(d + 1)})"
        if r.random() < 0.3:
            f = r.choice(["isInteger", "isSafeInteger", "isFinite", "isNaN"])
            return f"{r.choice(['Number.', '' if f in ('isFinite', 'isNaN') else 'Number.'])}{f}({self.any_(d + 1)})"
        return f"{r.choice(['Array.isArray', 'isNaN', 'Boolean'])}({self.any_(d + 1)})"

    def arr(self, d: int = 0) -> str:
        r = self.r
        c = r.randrange(14 if d < 3 else 2)
        if c >= 12:
            return self.arr_method(d)
        if c == 0:
            items = [
                self.r.choice([self.num, self.str_, self.any_])(d + 1)
                for _ in range(r.randrange(0, 4))
            ]
            return "[" + ", ".join(items) + "]"
        if c == 1:
            return self.pick_var("arr") or f"[{self.num(d + 1)}, {self.num(d + 1)}]"
        if c == 2:
            return f"{self.arr(d + 1)}.map((x, i) => {r.choice(['x + i', 'String(x) + i', '[x, i]', 'typeof x', 'x ?? i'])})"
        if c == 3:
            return f"{self.arr(d + 1)}.filter(x => {r.choice(_C5)})"
        if c == 4:
            return f"[...{self.arr(d + 1)}, {self.any_(d + 1)}, ...{self.arr(d + 1)}]"
        if c == 5:
            return f"[{self.num(d + 1)}, {self.num(d + 1)}, {self.num(d + 1)}, {self.num(d + 1)}].sort({r.choice(['', '(a, b) => a - b', '(a, b) => b - a'])})"
        if c == 6:
            return f"Object.{r.choice(['keys', 'values', 'entries'])}({self.obj(d + 1)})"
        if c == 7:
            return f"{self.str_(d + 1)}.split({r.choice(_C6)})"
        if c == 8:
            return f"{self.arr(d + 1)}.slice({r.randrange(-3, 3)})"
        if c == 9:
            return f"{self.arr(d + 1)}.concat({self.arr(d + 1)}, {self.num(d + 1)})"
        if c == 10:
            return f"[[1, [2]], {self.arr(d + 1)}].{r.choice(['flat()', 'flat(2)', 'flatMap(x => x)'])}"
        return f"[...{self.arr(d + 1)}].reverse()"

    def arr_method(self, d: int) -> str:
        """Array.from/of and the copying array methods (splice and fill work on a fresh copy,
        so shared arrays held in variables are not changed behind the generator's back)."""
        r = self.r
        c = r.randrange(8)
        a = self.arr(d + 1)
        if c == 0:
            src = r.choice(
                [
                    a,
                    self.str_(d + 1),
                    f"{{ length: {r.randrange(0, 4)}, 0: {self.any_(d + 1)} }}",
                    f"{a}.entries()",
                ]
            )
            fn = r.choice(["", ", (x, i) => [x, i]", ", String"])
            return f"Array.from({src}{fn})"
        if c == 1:
            return f"Array.of({self.any_(d + 1)}, {self.num(d + 1)})"
        if c == 2:
            if r.random() < 0.5:  # iterators in JavaScript: spread them
                return f"[...{a}.{r.choice(['keys()', 'values()', 'entries()'])}]"
            return f"{a}.{r.choice(['toSorted()', 'toReversed()', 'toSorted((x, y) => String(y).length - String(x).length)'])}"
        if c == 3:
            return f"[...{a}, 0].with({r.randrange(-1, 1)}, {self.any_(d + 1)})"
        if c == 4:
            return f"[...{a}].splice({r.randrange(-3, 3)}, {r.randrange(0, 3)}, {self.any_(d + 1)})"
        if c == 5:
            return f"[...{a}, 1, 2].fill({self.any_(d + 1)}, {r.randrange(-3, 3)}, {r.randrange(-1, 4)})"
        if c == 6:
            f = r.choice(["findLast", "findLastIndex"])
            return f"[{a}.{f}(x => {r.choice(_C7)}) ?? null, {a}.lastIndexOf({self.any_(d + 1)})]"
        return f"[{a}.toString(), [{a}, [{a}]].toString()]"

    def obj(self, d: int = 0) -> str:
        r = self.r
        c = r.randrange(6 if d < 3 else 2)
        if c == 0:
            keys = r.sample(["a", "b", "zed", "2", "10", "1", "x y", "k"], r.randrange(0, 4))
            props = [
                f"{json.dumps(k) if not k.isidentifier() else k}: {self.any_(d + 1)}" for k in keys
            ]
            return "{ " + ", ".join(props) + " }"
        if c == 1:
            return self.pick_var("obj") or '{ a: 1, "2": "two" }'
        if c == 2:
            return f"{{ ...{self.obj(d + 1)}, b: {self.any_(d + 1)}, ...{self.obj(d + 1)} }}"
        if c == 3:
            return f"Object.assign({{}}, {self.obj(d + 1)}, {self.obj(d + 1)})"
        if c == 4:
            return f'Object.fromEntries([["q", {self.any_(d + 1)}], ["3", {self.num(d + 1)}]])'
        return f"JSON.parse(JSON.stringify({self.obj(d + 1)}))"

    def any_(self, d: int = 0) -> str:
        r = self.r
        c = r.randrange(13 if d < 3 else 5)
        if c == 0:
            return self.num(d + 1)
        if c == 1:
            return self.str_(d + 1)
        if c == 2:
            return r.choice(
                ["null", "undefined", "true", "false", "[]", "{}", "[1, 2]", '["b", "a"]']
            )
        if c == 3:
            return self.bool_(d + 1)
        if c == 4:
            return self.pick_var("any") or "null"
        if c == 5:
            return self.arr(d + 1)
        if c == 6:
            return self.obj(d + 1)
        if c == 7:
            return f"({self.any_(d + 1)} + {self.any_(d + 1)})"
        if c == 8:
            return f"({self.any_(d + 1)} {r.choice(['??', '||', '&&'])} {self.any_(d + 1)})"
        if c == 9:
            return f"{self.obj(d + 1)}.{r.choice(['a', 'b', 'zed', 'missing'])}"
        if c == 10:
            return f"{self.arr(d + 1)}[{r.randrange(-1, 4)}]"
        if c == 11:
            return f"{self.obj(d + 1)}?.missing?.deep"
        return f"{self.arr(d + 1)}.find(x => {r.choice(_C7)})"

    def expr(self, kind: str) -> str:
        return {
            "num": self.num,
            "str": self.str_,
            "bool": self.bool_,
            "arr": self.arr,
            "obj": self.obj,
            "any": self.any_,
        }[kind]()

    def task(self) -> str:
        name = self.r.choice(TASK_NAMES)
        return f'Task.run("{name}", {{ v: {self.any_(2)}, k: {self.num(2)} }})'

    # ------------------------------------------------------------ regular expressions

    def regex_pattern(self, d: int = 0) -> str:
        r = self.r
        alts = []
        for _ in range(r.randrange(1, 3) if d < 2 else 1):
            parts = []
            for _ in range(r.randrange(1, 4)):
                if d < 2 and r.random() < 0.25:
                    self.n += 1
                    head = r.choice(["(", "(?:", f"(?<g{self.n % 10}>"])
                    atom = f"{head}{self.regex_pattern(d + 1)})"
                else:
                    atom = r.choice(_RE_ATOMS)
                if r.random() < 0.35:
                    atom += r.choice(_RE_QUANT)
                parts.append(atom)
            alts.append("".join(parts))
        pattern = "|".join(alts)
        if d == 0 and r.random() < 0.2:
            pattern = r.choice(["^", "(?<=a)", "(?!b)"]) + pattern + r.choice(["$", "", "\\b"])
        return pattern

    def regex(self, flags: str | None = None) -> str:
        """A random literal .flow accepts (a few tries, else a plain one)."""
        for _ in range(8):
            pattern = self.regex_pattern()
            f = self.r.choice(_RE_FLAGS) if flags is None else flags
            if regex.problem(pattern, f) is None:
                return f"/{pattern}/{f}"
        return "/a/g"

    def subject(self) -> str:
        return self.r.choice(_RE_SUBJECTS) if self.r.random() < 0.6 else self.str_(2)

    def regex_use(self, kind: str) -> str:
        r = self.r
        s = self.subject()
        if kind == "bool":
            return f"{self.regex()}.test({s})"
        if kind == "num":
            return r.choice(
                [
                    f"{s}.search({self.regex()})",
                    f"({s}.match({self.regex(r.choice(['g', 'gi', 'gm']))}) ?? []).length",
                    f"({self.regex()}.exec({s})?.index ?? -1)",
                ]
            )
        c = r.randrange(7)
        if c == 0:
            return f"{s}.replace({self.regex()}, {r.choice(_RE_REPL)})"
        if c == 1:
            return (
                f"{s}.replaceAll({self.regex(r.choice(['g', 'gi', 'gy']))}, {r.choice(_RE_REPL)})"
            )
        if c == 2:
            return f"JSON.stringify({s}.split({self.regex()}{r.choice(['', ', 2'])}))"
        if c == 3:
            return f"JSON.stringify({s}.match({self.regex()}))"
        if c == 4:
            g = self.regex(r.choice(["g", "gi", "gs"]))
            return f"JSON.stringify([...{s}.matchAll({g})].map(m => [m.index, ...m, m.groups]))"
        if c == 5:
            return f"JSON.stringify({self.regex()}.exec({s})?.groups ?? null)"
        return f"String({self.regex()}.exec({s}))"

    def regex_snippet(self) -> list[str]:
        """A regex held in a variable across an await: lastIndex, aliasing and exec results."""
        u = self.fresh()
        s = self.subject()
        return [
            f"const {u} = {self.regex(self.r.choice(['g', 'y', 'gi', '']))};",
            f"const m{u} = {u}.exec({s});",
            f"out.push({u}.test({s}), {u}.lastIndex, String({u}));",
            f"out.push((await {self.task()}).n);",
            f"out.push(m{u} && [m{u}.index, m{u}.input, m{u}.groups, ...m{u}], {u}.lastIndex,",
            f"  {u}.exec({s}), {u}.source, {u}.flags, {u}.global, {u}.sticky);",
        ]

    # ------------------------------------------------------------ statements

    def stmt(self, depth: int = 0) -> list[str]:
        r = self.r
        if depth < 2 and r.random() < 0.04:
            return self.regex_snippet()
        c = r.randrange(27 if depth < 2 else 4)
        if c >= 16:
            return self.snippet(c - 16)
        if c == 0 or c == 1:
            return [f"out.push({self.any_()});"]
        if c == 2:
            kind = r.choice(["num", "str", "bool", "arr", "obj", "any"])
            name = self.fresh()
            code = f"{r.choice(['let', 'const'])} {name} = {self.expr(kind)};"
            self.vars[name] = kind
            return [code]
        if c == 3:
            call = self.task()
            name = self.fresh()
            self.vars[name] = "any"
            return [f"const {name} = await {call};", f"out.push({name}.n, {name}.name);"]
        if c == 4:
            body = self.block(depth + 1)
            other = self.block(depth + 1)
            return [f"if ({self.bool_()}) {{", *body, "} else {", *other, "}"]
        if c == 5:
            i = f"i{self.n}"
            self.n += 1
            self.loop_vars.append(i)
            body = self.block(depth + 1)
            self.loop_vars.pop()
            return [f"for (let {i} = 0; {i} < {r.randrange(0, 4)}; {i}++) {{", *body, "}"]
        if c == 6:
            x = f"x{self.n}"
            self.n += 1
            self.vars[x] = "any"
            body = self.block(depth + 1)
            del self.vars[x]
            return [f"for (const {x} of {self.arr()}) {{", *body, "}"]
        if c == 7:
            k = f"k{self.n}"
            self.n += 1
            self.vars[k] = "str"
            body = self.block(depth + 1)
            del self.vars[k]
            return [f"for (const {k} in {self.obj()}) {{", f"out.push({k});", *body, "}"]
        if c == 8:
            w = f"w{self.n}"
            self.n += 1
            return [
                f"let {w} = 0;",
                f"while ({w} < 5) {{",
                f"{w}++;",
                f"if ({w} === {r.randrange(1, 4)}) continue;",
                f"if ({w} === {r.randrange(2, 6)}) break;",
                f"out.push({w}, await {self.task()});" if r.random() < 0.4 else f"out.push({w});",
                "}",
            ]
        if c == 9:
            thrown = self.any_()
            body = self.block(depth + 1)
            return [
                "try {",
                f"if ({self.bool_()}) throw {thrown};",
                *body,
                'out.push("tried");',
                "} catch (e) {",
                'out.push("caught", e);',
                "} finally {",
                'out.push("finally");',
                "}",
            ]
        if c == 10:
            default, source = self.num(), self.obj()
            a, b, rest = self.fresh(), self.fresh(), self.fresh()
            self.vars.update({a: "any", b: "any", rest: "obj"})
            return [f"const {{ a: {a}, zed: {b} = {default}, ...{rest} }} = {source};"]
        if c == 11:
            default, source = self.str_(), self.arr()
            p, q, rest = self.fresh(), self.fresh(), self.fresh()
            self.vars.update({p: "any", q: "any", rest: "arr"})
            return [f"const [{p}, , {q} = {default}, ...{rest}] = {source};"]
        if c == 12:
            f = self.fresh()
            extra = self.pick_var("num") or "1"
            call = f"out.push({f}({self.num()}), {f}({self.num()}, {self.num()}), {f}(1, 2, 3, 4));"
            if r.random() < 0.5:  # a hoisted function declaration, called before it
                return [
                    call,
                    f"function {f}(a, b = 2, ...more) {{",
                    f"return a * b + {extra} + more.length;",
                    "}",
                ]
            return [f"const {f} = (a, b = 2, ...more) => a * b + {extra} + more.length;", call]
        if c == 13:
            return [f"out.push({{ first: await {self.task()}, second: {self.any_()} }});"]
        if c == 14:
            a, b = self.task(), self.task()
            combo = r.choice(["all", "allSettled", "race", "any"])
            # Plain values settle at once in Rhythm but only after a microtask in Node, so
            # race/any get handles only.
            extra = f", {self.num()}" if combo in ("all", "allSettled") else ""
            return [f"out.push(await Promise.{combo}([{a}, {b}{extra}]));"]
        return [f"out.push((await {self.task()}).inputs);"]

    def snippet(self, c: int) -> list[str]:
        """Fixed shapes with random parts: compound assignment, closures over loop variables,
        break/continue through finally, do-while, swaps, `in`, string iteration, async calls
        suspended side by side."""
        r = self.r
        u = self.fresh()
        if c == 5 and r.random() < 0.5:
            # switch: === matching, fall-through, default in the middle, a block case
            pick = r.choice([self.num(), self.str_(), self.any_()])
            return [
                f"switch ({pick}) {{",
                f"case {self.any_()}: out.push('a{u}');",
                f"case {self.num()}: out.push('b{u}'); break;",
                f"default: out.push('d{u}');",
                f"case {self.str_()}: {{ const q = {self.any_()}; out.push(q); }}",
                f"case {pick}: out.push('same{u}');",
                "}",
            ]
        if c == 10:
            return self.objects(u)
        if c == 8:
            # Async calls awaited together, suspending in between; one may throw after its first
            # await; one is left running (it never throws: Node would stop at the rejection).
            combo = r.choice(["all", "allSettled", "any"])
            thrower = r.choice(["2", "-1"])
            return [
                f"const f{u} = async (x, y = {self.num()}) => {{",
                f"const t = await {self.task()};",
                'out.push("in" + x, t.n);',
                f'if (x === {thrower}) throw {{ type: "Bad", message: "bad " + t.n }};',
                f"const t2 = await {self.task()};",
                "return [t.n, t2.n, x, typeof y];",
                "};",
                f"const p{u} = f{u}(1);",
                f'out.push("sync{u}");',
                f"f{u}(3);",
                "try {",
                f"out.push(await Promise.{combo}([p{u}, f{u}(2), f{u}(4, {self.any_()})]));",
                "} catch (e) {",
                'out.push("rejected", e.message);',
                "}",
            ]
        if c == 9:
            # The fan-out shape: a sequence per item, all items in parallel, nested calls.
            return [
                f"const g{u} = async (x) => (await {self.task()}).n + x;",
                f"async function h{u}(xs) {{",
                f"const rs = await Promise.all(xs.map(async (x) => [x, await g{u}(x)]));",
                f"out.push(rs.length, await g{u}(rs.length));",
                "return rs;",
                "};",
                f"out.push(await h{u}({self.arr()}), await h{u}([]));",
            ]
        if c == 0:
            return [
                f"let {u} = {self.num()};",
                f"{u} += {self.num()}; {u} -= {self.num()}; {u} *= {r.choice(['2', '-1', '0.5'])};",
                f"{u} %= {r.choice(['3', '-4', '7'])}; {u} **= 2; {u} /= {r.choice(['4', '3', '-8'])};",
                f"out.push({u}, {u}++, ++{u}, {u}--, --{u});",
            ]
        if c == 1:
            return [
                f"const {u} = {{ count: 1, name: {self.str_()}, list: [1, 2] }};",
                f"{u}.count += {self.num()}; {u}.count++; ++{u}.count; {u}.list[0] += 5; {u}.list[5] = 1;",
                f"{u}.extra ??= {self.any_()}; {u}.name ||= 'empty'; {u}.count &&= {self.num()};",
                f"{u}['new' + 'key'] = {u}.list.length; {u}.list.length = 3;",
                f"out.push({u}, 'count' in {u}, 'nope' in {u}, 0 in {u}.list);",
                f"out.push(delete {u}.{r.choice(['name', 'count', 'nope'])}, delete {u}.list[1], {u});",
            ]
        if c == 2:
            return [
                f"const {u} = [];",
                f"for (let i = 0; i < {r.randrange(1, 4)}; i++) {{ {u}.push(() => i * {self.num()}); }}",
                f"let acc{u} = {self.num()};",
                f"const add{u} = (x) => {{ acc{u} += x; return acc{u}; }};",
                f"out.push({u}.map(f => f()), add{u}(1), add{u}(2), acc{u});",
            ]
        if c == 3 and r.random() < 0.5:
            # Labels: continue/break an outer loop through finally, break a labelled block,
            # an await between them.
            return [
                f"outer{u}: for (const x of [1, 2, 3, 4]) {{",
                f"inner{u}: for (let j = 0; j < 3; j++) {{",
                "try {",
                f"if (j === {r.randrange(0, 3)}) continue outer{u};",
                f"if (x === {r.randrange(1, 5)}) break outer{u};",
                f"if (j + x === {r.randrange(2, 6)}) break inner{u};",
                f"if (x === {r.randrange(1, 5)}) out.push((await {self.task()}).n);",
                "out.push(x * 10 + j);",
                "} finally {",
                "out.push('f' + x + j);",
                "}",
                "}",
                "}",
                f"blk{u}: {{ out.push('b{u}'); if ({self.bool_()}) break blk{u}; out.push('nb{u}'); }}",
            ]
        if c == 3:
            return [
                "for (const x of [1, 2, 3, 4, 5]) {",
                "try {",
                f"if (x === {r.randrange(1, 4)}) continue;",
                f"if (x === {r.randrange(3, 6)}) break;",
                "out.push('body' + x);",
                "} finally {",
                "out.push('f' + x);",
                "}",
                "}",
            ]
        if c == 4:
            return [
                f"let {u} = 0;",
                f"do {{ {u} += 2; out.push({u}); }} while ({u} < {r.randrange(0, 7)});",
                f"let a{u} = {self.any_()}, b{u} = {self.any_()};",
                f"[a{u}, b{u}] = [b{u}, a{u}];",
                f"out.push([a{u}, b{u}]);",
                f"for (const ch of {self.str_()}) {{ out.push(ch); }}",
            ]
        if c == 6 and r.random() < 0.5:
            # Method shorthand: plain, async with an await, computed key, default and rest
            # parameters, one method calling another through the object's variable.
            return [
                f"const {u} = {{ f(x) {{ return x + {self.num()}; }},",
                f"async g(x) {{ const t = await {self.task()}; return t.n + x; }},",
                f"['k' + {r.randrange(0, 3)}](...a) {{ return a.length; }},",
                f"h(a = {self.num()}) {{ return {u}.f(a); }}, v: {self.any_()} }};",
                f"const p{u} = {u}.g({self.num()});",
                f"out.push({u}.f(1), {u}.h(), {u}.k0?.(1, 2), {u}.k2?.(), JSON.stringify({u}),"
                f" Object.keys({u}), await {u}.g(2), await p{u});",
            ]
        if c == 6:
            body = self.block(2)
            return [
                f"if ((await {self.task()}).n % 2 === 0) {{",
                *body,
                "}",
                f"const {u} = {{ f: (x) => x + 1 }};",
                f"out.push({u}.f?.(1), {u}.g?.(1), {u}?.f(2), [1, 2].map({u}.f));",
            ]
        if c == 7:
            return [
                f"const {u} = {self.str_()};",
                f"out.push({u}.split('').reverse().join(''), {u} < {self.str_()}, {u}.length > 2 ? {u}[1] : 'short');",
                f"out.push(Object.keys({{ b: 1, 10: 2, a: 3, 2: 4 }}), JSON.stringify({{ z: [{self.any_()}], 5: null }}));",
            ]
        return [
            f"const {u} = {self.arr()};",
            f"out.push({u}.map(x => typeof x).join(), {u}.indexOf({self.any_()}), {u}.includes({self.any_()}));",
            f"out.push(`${{{u}.length}} items: ${{{u}}}`, {u}.findIndex(x => !x), [...{u}].sort());",
        ]

    def objects(self, u: str) -> list[str]:
        """Builtin constructors: Error classes thrown and caught (`instanceof`, name, message,
        cause, enumerability), Dates (ms, ISO text, UTC parts, getters, setters, invalid ones),
        Maps and Sets (SameValueZero keys, order, iteration), held across an await."""
        r = self.r
        c = r.randrange(3)
        if c == 0:
            cls = r.choice(["Error", "TypeError", "RangeError"])
            other = r.choice(["Error", "TypeError", "RangeError", "Array", "Object", "Map"])
            new = "" if r.random() < 0.2 else "new "
            cause = r.choice(["", f", {{ cause: {self.any_(2)} }}", ", {}"])
            vm_error = r.choice(["null.x", "undefined()", "(5)()", "'a'.repeat(-1)"])
            return [
                f"const e{u} = {new}{cls}({self.str_(2)}{cause});",
                f"e{u}.{r.choice(['code', 'status'])} = {self.num(2)};",
                f"out.push(e{u}.name, e{u}.message, String(e{u}), Object.keys(e{u}),"
                f" JSON.stringify(e{u}), e{u} instanceof {other}, e{u}.cause ?? 'none');",
                "try {",
                f"if ({self.bool_(2)}) throw e{u};",
                f"{vm_error};",
                "} catch (err) {",
                f"out.push(err === e{u}, err.name, err instanceof {cls}, err instanceof {other},"
                " err instanceof Error, typeof err);",
                "}",
                f"const t{u} = await {self.task()};",
                f"out.push(e{u} instanceof Error, e{u}.message, t{u} instanceof Object);",
            ]
        if c == 1:
            ms = r.choice(["0", "1706704215250", "-1", "86399999", "951782400000", "-62198755200000",
                           "8.64e15", "NaN", str(r.randrange(-10**12, 10**13))])  # fmt: skip
            iso = r.choice(['"2024-01-31"', '"2024-02-29T23:59:59.999Z"', '"2020-06-15T08:00+02:00"',
                            '"1999-12-31T23:59"', '"bad"', '"2024-13-01"', '"+012345-01-01"'])  # fmt: skip
            parts = ", ".join(str(r.randrange(-3, 40)) for _ in range(r.randrange(1, 6)))
            year = r.choice(["2024", "1970", "99", "2000", "-5"])
            getter = r.choice(["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds",
                               "Milliseconds"])  # fmt: skip
            setter = r.choice(["FullYear", "Month", "Date", "Hours", "Minutes", "Seconds"])
            return [
                f"const d{u} = new Date({ms}), i{u} = new Date({iso}), c{u} = new Date(Date.UTC({year}, {parts}));",
                f"const dd{u} = d{u};",
                f"out.push(d{u}.getTime(), i{u}.getTime(), c{u}.getTime(), Date.parse({iso}), d{u}.getUTC{getter}(),"
                f" i{u}.get{getter}(), JSON.stringify({{ d: d{u}, i: i{u} }}), d{u} < c{u}, c{u} - i{u});",
                f"out.push(c{u}.setUTC{setter}({self.num(2)}), c{u}.getTime(), new Date({year}, {parts}).getTime());",
                f"await {self.task()};",
                f"dd{u}.setUTC{setter}({r.randrange(-5, 30)});",
                f"out.push(d{u}.getTime(), dd{u} === d{u}, String(i{u}), d{u} instanceof Date);",
                "try {",
                f"out.push(c{u}.toISOString(), i{u}.toISOString(), d{u}.toUTCString());",
                "} catch (err) {",
                "out.push(err.name, err instanceof RangeError);",
                "}",
            ]
        keys = ", ".join(
            r.choice(["1", '"1"', "NaN", "-0", "0", '"a"', "true", "null", "undefined", f"k{u}"])
            for _ in range(r.randrange(0, 6))
        )
        key = r.choice(["1", '"1"', "NaN", "0", '"a"', "true", f"k{u}", "{}"])
        return [
            f"const k{u} = {{ id: {self.num(2)} }};",
            f"const m{u} = new Map([{keys}].map((k, i) => [k, i])), s{u} = new Set([{keys}]);",
            f"m{u}.set({key}, {self.any_(2)}).set(k{u}, 'obj');",
            f"s{u}.add({key});",
            f"out.push(m{u}.size, s{u}.size, m{u}.get({key}), m{u}.has({key}), s{u}.has({key}),"
            f" [...m{u}.keys()].length, [...s{u}].map(x => typeof x));",
            f"out.push(m{u}.delete({key}), s{u}.delete({r.choice(['NaN', '1', '0', 'null'])}),"
            f" [...m{u}.values()], [...s{u}.entries()].length);",
            f"const a{u} = m{u};",
            f"const v{u} = await {self.task()};",
            f"a{u}.set('late', v{u}.n);",
            f"for (const [k, v] of m{u}) out.push(typeof k, v);",
            f"s{u}.forEach((v) => out.push(v === k{u} ? 'key' : v));",
            f"out.push(m{u}.get('late'), m{u}.get(k{u}), JSON.stringify(m{u}), Array.isArray([...s{u}]));",
        ]

    def block(self, depth: int) -> list[str]:
        saved = dict(self.vars)
        lines = [line for _ in range(self.r.randrange(1, 3)) for line in self.stmt(depth)]
        self.vars = saved
        return lines

    def program(self) -> str:
        lines = ["const out = [];"]
        for _ in range(self.r.randrange(3, 9)):
            lines.extend(self.stmt())
        if self.r.random() < 0.3:
            lines += [
                "for (let z = 0; z < 3; z++) {",
                "try {",
                "if (z === 1) return { early: out };",
                "} finally {",
                'out.push("fin" + z);',
                "}",
                "}",
            ]
        lines.append("return out;")
        return "\n".join(lines)


def generate(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [Gen(rng).program() for _ in range(count)]


NODE_PRELUDE = """
// A task's result arrives in a later macrotask, as the runtime delivers it after the step
// that started it. Each program gets its own Task (and counter): async calls a program left
// running keep going while the next program runs.
const makeTask = () => {
  let counter = 0;
  return {
    run: (name, inputs = {}) => {
      const r = { name, inputs: JSON.parse(JSON.stringify(inputs)), n: ++counter };
      return new Promise((resolve) => setImmediate(() => resolve(r)));
    },
  };
};
"""


def run_node(programs: list[str], inputs: dict[str, Any]) -> list[Any]:
    parts = [NODE_PRELUDE, "const programs = ["]
    for src in programs:
        parts.append(f"async (Inputs, Task) => {{\n{src}\n}},")
    parts.append("];")
    parts.append(
        f"""
for (let i = 0; i < programs.length; i++) {{
  try {{
    const r = await programs[i]({json.dumps(inputs)}, makeTask());
    console.log(JSON.stringify({{ ok: r === undefined ? null : r }}));
  }} catch (e) {{
    console.log(JSON.stringify({{ error: String(e && e.message || e) }}));
  }}
}}
"""
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "programs.mjs"
        path.write_text("\n".join(parts))
        proc = subprocess.run(  # in UTC: .flow's local time is UTC (Date's local forms)
            ["node", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "TZ": "UTC"},
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def run_rhythm(src: str, inputs: dict[str, Any]) -> Any:
    counter = itertools.count(1)

    def make(name: str) -> Any:
        return lambda inp: {"name": name, "inputs": inp, "n": next(counter)}

    result = run_workflow(src, inputs, tasks={n: make(n) for n in TASK_NAMES})
    if result.status != "completed":
        return {"error": result.error}
    return {"ok": result.output}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_rhythm_matches_node() -> None:
    programs = generate(SEED, COUNT)
    inputs = {"n": 3, "name": "x"}
    expected = run_node(programs, inputs)
    assert len(expected) == len(programs)
    failures = []
    node_errors = 0
    for i, (src, want) in enumerate(zip(programs, expected, strict=True)):
        got = run_rhythm(src, inputs)
        if "error" in want:  # the generator's typing slipped: both must fail
            node_errors += 1
            if "error" not in got:
                failures.append(f"--- program {i}\n{src}\nnode failed: {want}\nrhythm: {got}")
            continue
        if json.dumps(got) != json.dumps(want):
            failures.append(
                f"--- program {i}\n{src}\nnode:   {json.dumps(want)}\nrhythm: {json.dumps(got)}"
            )
    assert node_errors < len(programs) // 20, f"{node_errors} programs failed in node"
    assert not failures, f"{len(failures)} of {len(programs)} differ:\n" + "\n".join(failures[:3])
