"""The stdlib table: every builtin object, function, method and property of .flow, with its
signature and doc text. The VM, the checker and the language server all read this one table, so
hover text, "wrong argument count" and behaviour cannot drift apart.

The VM binds each entry to its implementation by qualified name (`rhythm.core.builtins`), and a
test checks that every entry has an implementation and vice versa."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Owners of the methods of values ("" is the owner of global functions).
_VALUE_OWNERS = ("", "string", "array", "number", "boolean", "object", "function")


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
    def js_length(self) -> int:
        """The function's `length` as JavaScript gives it (the spec's count, which for many
        builtins includes parameters that may be left out)."""
        return JS_LENGTHS.get(self.qualified_name, self.min_args)

    @property
    def max_args(self) -> int | None:
        """None when the builtin takes any number of arguments (a rest parameter)."""
        if any(p.rest for p in self.params):
            return None
        return len(self.params)

    @property
    def qualified_name(self) -> str:
        if self.owner in _VALUE_OWNERS:
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


# `length` of the builtins whose JavaScript `length` is not their number of required parameters.
JS_LENGTHS: dict[str, int] = {
    "Number": 1,
    "String": 1,
    "Boolean": 1,
    "Math.max": 2,
    "Math.min": 2,
    "Math.hypot": 2,
    "JSON.stringify": 3,
    "parseInt": 2,
    "Number.parseInt": 2,
    "Object.assign": 2,
    "String.fromCharCode": 1,
    "String.fromCodePoint": 1,
    "number.toFixed": 1,
    "number.toPrecision": 1,
    "number.toExponential": 1,
    "number.toString": 1,
    "string.split": 2,
    "string.slice": 2,
    "string.substring": 2,
    "string.replace": 2,
    "string.replaceAll": 2,
    "string.padStart": 2,
    "string.padEnd": 2,
    "string.concat": 1,
    "string.lastIndexOf": 1,
    "string.charAt": 1,
    "string.charCodeAt": 1,
    "string.codePointAt": 1,
    "array.push": 1,
    "array.unshift": 1,
    "array.concat": 1,
    "array.slice": 2,
    "array.sort": 1,
    "array.join": 1,
    "array.splice": 2,
    "array.with": 2,
    "array.lastIndexOf": 1,
    "array.toSorted": 1,
    "Array.from": 1,
    "Date": 7,
    "Error": 1,
    "TypeError": 1,
    "RangeError": 1,
    "ReferenceError": 1,
    "SyntaxError": 1,
    "RegExp": 2,
    "array.fill": 1,
    "array.findLast": 1,
    "array.findLastIndex": 1,
}


@dataclass(frozen=True, slots=True)
class StdObject:
    name: str  # "Task", "Math", "Inputs"
    doc: str
    members: dict[str, Builtin] = field(default_factory=dict)
    # An open object (Inputs) may hold any key: its members are not checked.
    open: bool = False
    # A builtin constructor (`Date`, `Map`, `Error`): what `new Date(...)` and `Date(...)` take.
    constructor: Builtin | None = None


# ---------------------------------------------------------------- table builders


def _p(spec: str, doc: str = "") -> Param:
    """`"name: type"`, `"name?: type"` or `"...name: type"` -> Param."""
    name, _, type_ = spec.partition(":")
    name, type_ = name.strip(), (type_.strip() or "any")
    rest = name.startswith("...")
    name = name.removeprefix("...")
    optional = name.endswith("?")
    return Param(name=name.removesuffix("?"), type=type_, optional=optional, rest=rest, doc=doc)


def _fn(
    owner: str,
    name: str,
    params: tuple[str, ...],
    returns: str,
    doc: str,
    example: str = "",
    kind: Literal["function", "method", "property"] | None = None,
) -> Builtin:
    if kind is None:
        kind = "method" if owner in _VALUE_OWNERS[1:] else "function"
    return Builtin(
        name=name,
        owner=owner,
        kind=kind,
        params=tuple(_p(s) for s in params),
        returns=returns,
        doc=doc,
        example=example,
    )


def _prop(owner: str, name: str, returns: str, doc: str, example: str = "") -> Builtin:
    return _fn(owner, name, (), returns, doc, example, kind="property")


def _obj(
    name: str, doc: str, *members: Builtin, open: bool = False, constructor: Builtin | None = None
) -> StdObject:
    return StdObject(
        name=name,
        doc=doc,
        members={m.name: m for m in members},
        open=open,
        constructor=constructor,
    )


# ---------------------------------------------------------------- objects

_TASK = _obj(
    "Task",
    "Starts tasks: Python functions registered with `@task` and run by workers.",
    _fn(
        "Task",
        "run",
        ("name: string", "inputs?: object", "options?: object"),
        "TaskHandle",
        "Starts the task `name` with `inputs` and returns a handle at once; `await` the handle for "
        "the task's output (a failed task throws an Error with `type`, `message` and `task`). A task that is never "
        "awaited still runs (fire-and-forget). `options` may set `queue` (string), `priority` "
        "(integer, higher runs first), `retries` (integer 0 to 1000), `timeout` (seconds) and "
        "`delay` (seconds before it starts), within the same limits as the Python client's.",
        'const receipt = await Task.run("charge_card", { amount: 42 }, { retries: 3, timeout: 30 });',
    ),
)

_TIMER = _obj(
    "Timer",
    "Durable timers: a workflow waiting on a timer holds no worker.",
    _fn(
        "Timer",
        "delay",
        ("seconds: number",),
        "TimerHandle",
        "Returns a timer that fires after `seconds` (fractions allowed); `await` it to sleep.",
        "await Timer.delay(1.5);",
    ),
    _fn(
        "Timer",
        "until",
        ("time: string | number | Date",),
        "TimerHandle",
        "Returns a timer that fires at `time`, an ISO 8601 timestamp, milliseconds since the "
        "epoch (as `Date.now()` and `Context.now()` return) or a Date; a time in the past fires "
        "at once.",
        'await Timer.until("2030-01-01T09:00:00Z");',
    ),
)

_SIGNAL = _obj(
    "Signal",
    "Signals: named messages sent to a running workflow from outside (`rhythm signal`, the client).",
    _fn(
        "Signal",
        "next",
        ("name: string",),
        "SignalHandle",
        "Returns a handle for the next signal called `name` (signals sent earlier are buffered, "
        "in order); awaiting it yields the signal's payload.",
        'const approval = await Signal.next("approved");',
    ),
    _fn(
        "Signal",
        "when",
        ("name: string", "options?: object"),
        "SignalHandle",
        'Like `Signal.next`, with `options.timeout` in seconds or as a duration string (`"24h"`, '
        '`"15m"`, `"30s"`, `"1h30m"`); when the timeout expires first, awaiting throws an error '
        'whose `type` is `"Timeout"`.',
        'try {\n  await Signal.when("approved", { timeout: "24h" });\n} catch (e) {\n'
        '  if (e.type === "Timeout") return "expired";\n}',
    ),
)

_WORKFLOW = _obj(
    "Workflow",
    "Child workflows: other .flow files run as executions of their own.",
    _fn(
        "Workflow",
        "run",
        ("name: string", "inputs?: object"),
        "WorkflowHandle",
        "Starts the workflow `name` (the .flow file's name) as a child with `inputs`; awaiting "
        "the handle yields the child's return value or throws its error.",
        'const report = await Workflow.run("build_report", { day: Inputs.day });',
    ),
)

_PROMISE = _obj(
    "Promise",
    "Combinators over handles (and plain values) for running work in parallel.",
    _fn(
        "Promise",
        "all",
        ("values: array",),
        "Handle",
        "Waits for every value; yields their results in order, or throws the first failure.",
        'const [a, b] = await Promise.all([Task.run("a"), Task.run("b")]);',
    ),
    _fn(
        "Promise",
        "allSettled",
        ("values: array",),
        "Handle",
        'Waits for every value; yields `{status: "fulfilled", value}` or '
        '`{status: "rejected", reason}` for each, in order. Never throws.',
        "const outcomes = await Promise.allSettled(jobs);",
    ),
    _fn(
        "Promise",
        "any",
        ("values: array",),
        "Handle",
        "Yields the first value to succeed; when all fail, throws "
        '`{type: "AggregateError", message, errors}` with every failure in order.',
        'const fastest = await Promise.any([Task.run("mirror_a"), Task.run("mirror_b")]);',
    ),
    _fn(
        "Promise",
        "race",
        ("values: array",),
        "Handle",
        "Settles like the first value to settle: yields its result or throws its error.",
        'const first = await Promise.race([Signal.next("done"), Timer.delay(60)]);',
    ),
)

_MATH = _obj(
    "Math",
    "Number functions, as in JavaScript.",
    _fn("Math", "abs", ("x: number",), "number", "The absolute value of `x`.", "Math.abs(-3) // 3"),
    _fn(
        "Math",
        "ceil",
        ("x: number",),
        "number",
        "The smallest integer >= `x`.",
        "Math.ceil(1.2) // 2",
    ),
    _fn(
        "Math",
        "floor",
        ("x: number",),
        "number",
        "The largest integer <= `x`.",
        "Math.floor(1.8) // 1",
    ),
    _fn(
        "Math",
        "round",
        ("x: number",),
        "number",
        "`x` rounded to the nearest integer; halves round up (towards +Infinity), as in JavaScript.",
        "Math.round(2.5) // 3, Math.round(-2.5) // -2",
    ),
    _fn(
        "Math",
        "trunc",
        ("x: number",),
        "number",
        "The integer part of `x`.",
        "Math.trunc(-1.7) // -1",
    ),
    _fn(
        "Math",
        "sign",
        ("x: number",),
        "number",
        "1, -1 or 0 by the sign of `x`.",
        "Math.sign(-4) // -1",
    ),
    _fn(
        "Math",
        "min",
        ("...values: number",),
        "number",
        "The smallest argument (Infinity with none; NaN if any is NaN).",
        "Math.min(3, 1, 2) // 1",
    ),
    _fn(
        "Math",
        "max",
        ("...values: number",),
        "number",
        "The largest argument (-Infinity with none; NaN if any is NaN).",
        "Math.max(...[3, 1, 2]) // 3",
    ),
    _fn(
        "Math",
        "pow",
        ("base: number", "exponent: number"),
        "number",
        "`base` to the power `exponent` (same as `**`).",
        "Math.pow(2, 10) // 1024",
    ),
    _fn(
        "Math",
        "sqrt",
        ("x: number",),
        "number",
        "The square root of `x` (NaN when negative).",
        "Math.sqrt(9) // 3",
    ),
    _fn(
        "Math",
        "random",
        (),
        "number",
        "A pseudo-random number in [0, 1). The generator's state is part of the workflow's saved "
        "state, so a resumed workflow continues the same sequence.",
        "const jitter = Math.random() * 10;",
    ),
    *(
        _fn("Math", name, ("x: number",), "number", doc, example)
        for name, doc, example in (
            ("acos", "The arccosine of `x` in radians (NaN outside [-1, 1]).", "Math.acos(1) // 0"),
            ("acosh", "The inverse hyperbolic cosine of `x` (NaN below 1).", "Math.acosh(1) // 0"),
            ("asin", "The arcsine of `x` in radians (NaN outside [-1, 1]).", "Math.asin(0) // 0"),
            ("asinh", "The inverse hyperbolic sine of `x`.", "Math.asinh(0) // 0"),
            ("atan", "The arctangent of `x` in radians.", "Math.atan(1) // 0.7853981633974483"),
            (
                "atanh",
                "The inverse hyperbolic tangent of `x` (Infinity at 1, NaN outside [-1, 1]).",
                "Math.atanh(0) // 0",
            ),
            ("cbrt", "The cube root of `x`.", "Math.cbrt(-27) // -3"),
            (
                "clz32",
                "The number of leading zero bits of `x` as a 32-bit unsigned integer.",
                "Math.clz32(1) // 31",
            ),
            ("cos", "The cosine of `x` (radians).", "Math.cos(0) // 1"),
            ("cosh", "The hyperbolic cosine of `x`.", "Math.cosh(0) // 1"),
            ("exp", "e raised to the power `x`.", "Math.exp(1) // 2.718281828459045"),
            ("expm1", "`Math.exp(x) - 1`, accurate for `x` near 0.", "Math.expm1(0) // 0"),
            (
                "fround",
                "`x` rounded to the nearest 32-bit float.",
                "Math.fround(5.5) // 5.5, Math.fround(0.1) // 0.10000000149011612",
            ),
            (
                "log",
                "The natural logarithm of `x` (-Infinity at 0, NaN below 0).",
                "Math.log(Math.E) // 1",
            ),
            ("log10", "The base-10 logarithm of `x`.", "Math.log10(1000) // 3"),
            (
                "log1p",
                "The natural logarithm of `1 + x`, accurate for `x` near 0.",
                "Math.log1p(0) // 0",
            ),
            ("log2", "The base-2 logarithm of `x`.", "Math.log2(8) // 3"),
            ("sin", "The sine of `x` (radians).", "Math.sin(0) // 0"),
            ("sinh", "The hyperbolic sine of `x`.", "Math.sinh(0) // 0"),
            ("tan", "The tangent of `x` (radians).", "Math.tan(0) // 0"),
            ("tanh", "The hyperbolic tangent of `x`.", "Math.tanh(0) // 0"),
        )
    ),
    _fn(
        "Math",
        "atan2",
        ("y: number", "x: number"),
        "number",
        "The angle in radians from the positive x axis to the point (`x`, `y`).",
        "Math.atan2(1, 1) // 0.7853981633974483",
    ),
    _fn(
        "Math",
        "hypot",
        ("...values: number",),
        "number",
        "The square root of the sum of the squares of the arguments (0 with none; Infinity if "
        "any is infinite, even beside NaN).",
        "Math.hypot(3, 4) // 5",
    ),
    _fn(
        "Math",
        "imul",
        ("a: number", "b: number"),
        "number",
        "The product of `a` and `b` as 32-bit integers, wrapped like C's int32 multiplication.",
        "Math.imul(0xffffffff, 5) // -5",
    ),
    *(
        _prop("Math", name, "number", doc, f"Math.{name} // {value}")
        for name, doc, value in (
            ("LN10", "The natural logarithm of 10.", "2.302585092994046"),
            ("LN2", "The natural logarithm of 2.", "0.6931471805599453"),
            ("LOG10E", "The base-10 logarithm of e.", "0.4342944819032518"),
            ("LOG2E", "The base-2 logarithm of e.", "1.4426950408889634"),
            ("SQRT1_2", "The square root of 1/2.", "0.7071067811865476"),
            ("SQRT2", "The square root of 2.", "1.4142135623730951"),
        )
    ),
    _prop(
        "Math",
        "PI",
        "number",
        "The ratio of a circle's circumference to its diameter.",
        "Math.PI // 3.141592653589793",
    ),
    _prop(
        "Math",
        "E",
        "number",
        "Euler's number, the base of natural logarithms.",
        "Math.E // 2.718281828459045",
    ),
)

_NUMBER = _obj(
    "Number",
    "Converts values to numbers (`Number(x)`); tests and constants about numbers.",
    _fn(
        "Number",
        "isInteger",
        ("value: any",),
        "boolean",
        'Whether `value` is a number with no fractional part (no conversion: `"1"` is not).',
        "Number.isInteger(5.0) // true",
    ),
    _fn(
        "Number",
        "isFinite",
        ("value: any",),
        "boolean",
        "Whether `value` is a finite number (no conversion, unlike the global `isFinite`).",
        'Number.isFinite("1") // false',
    ),
    _fn(
        "Number",
        "isNaN",
        ("value: any",),
        "boolean",
        "Whether `value` is the number NaN (no conversion, unlike the global `isNaN`).",
        'Number.isNaN("abc") // false',
    ),
    _fn(
        "Number",
        "isSafeInteger",
        ("value: any",),
        "boolean",
        "Whether `value` is an integer that a number holds exactly (at most 2**53 - 1 in size).",
        "Number.isSafeInteger(2 ** 53) // false",
    ),
    _fn(
        "Number",
        "parseFloat",
        ("text: string",),
        "number",
        "The same function as the global `parseFloat`.",
        'Number.parseFloat("2.5e3x") // 2500',
    ),
    _fn(
        "Number",
        "parseInt",
        ("text: string", "radix?: number"),
        "number",
        "The same function as the global `parseInt`.",
        'Number.parseInt("ff", 16) // 255',
    ),
    *(
        _prop("Number", name, "number", doc, f"Number.{name} // {value}")
        for name, doc, value in (
            (
                "MAX_SAFE_INTEGER",
                "The largest integer a number holds exactly, 2**53 - 1.",
                "9007199254740991",
            ),
            (
                "MIN_SAFE_INTEGER",
                "The smallest integer a number holds exactly, -(2**53 - 1).",
                "-9007199254740991",
            ),
            (
                "EPSILON",
                "The gap between 1 and the next larger number, 2**-52.",
                "2.220446049250313e-16",
            ),
            ("MAX_VALUE", "The largest finite number.", "1.7976931348623157e+308"),
            ("MIN_VALUE", "The smallest positive number (a subnormal).", "5e-324"),
            ("POSITIVE_INFINITY", "Positive infinity, the same as `Infinity`.", "Infinity"),
            ("NEGATIVE_INFINITY", "Negative infinity, the same as `-Infinity`.", "-Infinity"),
            ("NaN", "Not-a-Number, the same as the global `NaN`.", "NaN"),
        )
    ),
    constructor=_fn(
        "",
        "Number",
        ("value?: any",),
        "number",
        'Converts `value` to a number, as JavaScript does (`""` -> 0, `"12px"` -> NaN, null -> 0, undefined -> NaN).',
        'Number("42") // 42',
    ),
)

_STRING = _obj(
    "String",
    "Converts values to strings (`String(x)`); builds strings from character codes.",
    _fn(
        "String",
        "fromCharCode",
        ("...codes: number",),
        "string",
        "The string of the given UTF-16 code units (each taken modulo 65536); a surrogate pair "
        "written as two codes becomes the one character it encodes.",
        'String.fromCharCode(72, 105) // "Hi"',
    ),
    _fn(
        "String",
        "fromCodePoint",
        ("...codePoints: number",),
        "string",
        "The string of the given Unicode code points; a RangeError for anything that is not an "
        "integer from 0 to 0x10FFFF.",
        'String.fromCodePoint(0x1F600) // "😀"',
    ),
    constructor=_fn(
        "",
        "String",
        ("value?: any",),
        "string",
        'Converts `value` to a string, as JavaScript does (arrays join with commas, objects give "[object Object]").',
        'String(1.5) // "1.5"',
    ),
)

_JSON = _obj(
    "JSON",
    "JSON text, exactly as JavaScript writes and reads it.",
    _fn(
        "JSON",
        "stringify",
        ("value: any", "replacer?: null", "space?: number | string"),
        "string",
        "The JSON text of `value`: undefined is dropped from objects and written as null in arrays, "
        "NaN and Infinity become null; `space` indents (a number of spaces, up to 10, or a string). "
        "Only `null` is accepted as `replacer`.",
        'JSON.stringify({ a: [1, "x"] }) // \'{"a":[1,"x"]}\'',
    ),
    _fn(
        "JSON",
        "parse",
        ("text: string",),
        "any",
        "The value that the JSON `text` describes; throws a SyntaxError on malformed text.",
        "JSON.parse('{\"n\": 1}').n // 1",
    ),
)

_OBJECT = _obj(
    "Object",
    "Functions over plain objects.",
    _fn(
        "Object",
        "keys",
        ("object: object",),
        "array",
        "The object's own keys, in JavaScript order (integer-like keys first, ascending).",
        'Object.keys({ b: 1, a: 2 }) // ["b", "a"]',
    ),
    _fn(
        "Object",
        "values",
        ("object: object",),
        "array",
        "The object's values, in key order.",
        "Object.values({ a: 1, b: 2 }) // [1, 2]",
    ),
    _fn(
        "Object",
        "entries",
        ("object: object",),
        "array",
        "`[key, value]` pairs, in key order.",
        "for (const [k, v] of Object.entries(prices)) { total += v; }",
    ),
    _fn(
        "Object",
        "assign",
        ("target: object", "...sources: object"),
        "object",
        "Copies every key of each source onto `target` (later sources win) and returns `target`.",
        "const merged = Object.assign({}, defaults, overrides);",
    ),
    _fn(
        "Object",
        "fromEntries",
        ("entries: array",),
        "object",
        "Builds an object from `[key, value]` pairs.",
        'Object.fromEntries([["a", 1]]) // { a: 1 }',
    ),
)

_ARRAY = _obj(
    "Array",
    "Functions about arrays.",
    _fn(
        "Array",
        "from",
        ("items: any", "mapFn?: function"),
        "array",
        "A new array of the elements of `items`: an array, a string (one element per character), "
        'any other iterable value, or an array-like object (`{ length: 2, 0: "a" }`), each '
        "passed through `mapFn(element, index)` when given. A TypeError for null and undefined.",
        'Array.from("abc") // ["a", "b", "c"], Array.from({ length: 3 }, (_, i) => i * 2) // [0, 2, 4]',
    ),
    _fn(
        "Array",
        "of",
        ("...items: any",),
        "array",
        "A new array of the arguments.",
        "Array.of(7) // [7]",
    ),
    _fn(
        "Array",
        "isArray",
        ("value: any",),
        "boolean",
        "Whether `value` is an array.",
        "Array.isArray([1]) // true",
    ),
)

_INPUTS = _obj(
    "Inputs",
    "The inputs this workflow was started with (a JSON object); any key may be read, a missing one "
    "is undefined.",
    open=True,
)

_CONTEXT = _obj(
    "Context",
    "Facts about the running execution.",
    _prop(
        "Context",
        "executionId",
        "string",
        "The id of this workflow execution.",
        "const id = Context.executionId;",
    ),
    _prop(
        "Context",
        "workflowName",
        "string",
        "The name of this workflow (its .flow file's name).",
        'Context.workflowName // "checkout"',
    ),
    _prop(
        "Context",
        "versionHash",
        "string",
        "The version this execution runs, as the runtime gives it: the SHA-256 of the workflow "
        "source it started on (a running execution always resumes on that version).",
        "Context.versionHash",
    ),
    _fn(
        "Context",
        "now",
        (),
        "number",
        "The current time in milliseconds since the Unix epoch (like `Date.now()`), as given by the "
        "runtime when this step started. Timer.until accepts it.",
        "await Timer.until(Context.now() + 60 * 60 * 1000);",
    ),
)

# ---------------------------------------------------------------- global functions

_GLOBAL_FUNCTIONS = (
    _prop(
        "",
        "NaN",
        "number",
        "The number value Not-a-Number (what `0 / 0` gives).",
        "isNaN(NaN) // true",
    ),
    _prop(
        "",
        "Infinity",
        "number",
        "The number value positive infinity (what `1 / 0` gives).",
        "-Infinity < -1e308 // true",
    ),
    _fn(
        "",
        "Boolean",
        ("value?: any",),
        "boolean",
        'Whether `value` is truthy (false for false, 0, -0, NaN, "", null and undefined).',
        'Boolean("") // false',
    ),
    _fn(
        "",
        "RegExp",
        ("pattern: string | RegExp", "flags?: string"),
        "RegExp",
        "A regular expression from the text of `pattern` (the same as `/pattern/flags`; a `pattern` that is a RegExp gives its own source), with or without `new`. Flags: g (global), i (ignore ASCII case), m (multiline), s (dotAll), u (unicode), y (sticky). A pattern JavaScript rejects throws a SyntaxError, and so does one .flow cannot run exactly (see the language guide); with literal strings that is found at compile time.",
        'RegExp("^[a-z]+$", "i").test("Abc") // true',
    ),
    _fn(
        "",
        "parseInt",
        ("text: string", "radix?: number"),
        "number",
        'Reads an integer from the start of `text` (after whitespace) in base `radix` (10, or 16 for "0x"); NaN if none.',
        'parseInt("42px") // 42',
    ),
    _fn(
        "",
        "parseFloat",
        ("text: string",),
        "number",
        "Reads a decimal number from the start of `text`; NaN if none.",
        'parseFloat("3.5kg") // 3.5',
    ),
    _fn(
        "",
        "isFinite",
        ("value: any",),
        "boolean",
        "Whether `value`, converted to a number, is finite (not NaN or an infinity).",
        'isFinite("12") // true',
    ),
    _fn(
        "",
        "isNaN",
        ("value: any",),
        "boolean",
        "Whether `value`, converted to a number, is NaN.",
        'isNaN("abc") // true',
    ),
)

# ---------------------------------------------------------------- methods of values

_S = "string"
STRING_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(
            _S,
            "length",
            "number",
            "The number of characters (Unicode code points) in the string.",
            '"abc".length // 3',
        ),
        _fn(
            _S,
            "toUpperCase",
            (),
            "string",
            "The string in upper case.",
            '"abc".toUpperCase() // "ABC"',
        ),
        _fn(
            _S,
            "toLowerCase",
            (),
            "string",
            "The string in lower case.",
            '"ABC".toLowerCase() // "abc"',
        ),
        _fn(
            _S,
            "trim",
            (),
            "string",
            "The string without leading and trailing whitespace.",
            '" a ".trim() // "a"',
        ),
        _fn(
            _S,
            "trimStart",
            (),
            "string",
            "The string without leading whitespace.",
            '" a ".trimStart() // "a "',
        ),
        _fn(
            _S,
            "trimEnd",
            (),
            "string",
            "The string without trailing whitespace.",
            '" a ".trimEnd() // " a"',
        ),
        _fn(
            _S,
            "split",
            ("separator?: string | RegExp", "limit?: number"),
            "array",
            'The pieces between occurrences of `separator` (every character for ""; the whole string when omitted), at most `limit` of them. With a regular expression, the pieces between its matches, and its groups\' captures between them.',
            '"a, b,c".split(/\\s*,\\s*/) // ["a", "b", "c"]',
        ),
        _fn(
            _S,
            "includes",
            ("search: string", "position?: number"),
            "boolean",
            "Whether `search` occurs in the string (at or after `position`).",
            '"hello".includes("ell") // true',
        ),
        _fn(
            _S,
            "startsWith",
            ("search: string", "position?: number"),
            "boolean",
            "Whether the string starts with `search` (at `position`).",
            '"hello".startsWith("he") // true',
        ),
        _fn(
            _S,
            "endsWith",
            ("search: string", "length?: number"),
            "boolean",
            "Whether the string (cut to `length`) ends with `search`.",
            '"hello".endsWith("lo") // true',
        ),
        _fn(
            _S,
            "indexOf",
            ("search: string", "position?: number"),
            "number",
            "The index of the first occurrence of `search` at or after `position`, or -1.",
            '"hello".indexOf("l") // 2',
        ),
        _fn(
            _S,
            "slice",
            ("start?: number", "end?: number"),
            "string",
            "The part from `start` up to `end` (negative indexes count from the end).",
            '"hello".slice(1, -1) // "ell"',
        ),
        _fn(
            _S,
            "substring",
            ("start: number", "end?: number"),
            "string",
            "The part between `start` and `end` (negatives become 0; swapped when start > end).",
            '"hello".substring(3, 1) // "el"',
        ),
        _fn(
            _S,
            "replace",
            ("pattern: string | RegExp", "replacement: string | function"),
            "string",
            "The string with the first occurrence of `pattern` replaced (every match for a regular expression with the `g` flag). In `replacement`, `$&` inserts the match, `` $` `` the text before it, `$'` the text after it, `$1`..`$99` a group's capture, `$<name>` a named group's, `$$` a dollar sign. A function replacement is called with (match, ...captures, index, string, groups) and returns the text to insert (groups only when the pattern has named groups).",
            '"2024-05-01".replace(/(\\d+)-(\\d+)-(\\d+)/, "$3.$2.$1") // "01.05.2024"',
        ),
        _fn(
            _S,
            "replaceAll",
            ("pattern: string | RegExp", "replacement: string | function"),
            "string",
            "The string with every occurrence of `pattern` replaced (a regular expression must have the `g` flag, else a TypeError). `replacement` as for `replace`.",
            '"a-b-c".replaceAll("-", "+") // "a+b+c"',
        ),
        _fn(
            _S,
            "match",
            ("pattern: RegExp | string",),
            "array | null",
            "Without the `g` flag: what `pattern.exec(text)` gives (the match, its groups, `index`, `input`, `groups`), or null. With `g`: every match's text, or null when none. A string `pattern` is read as a regular expression.",
            '"order-17".match(/(\\d+)/)[1] // "17"',
        ),
        _fn(
            _S,
            "matchAll",
            ("pattern: RegExp | string",),
            "array",
            "Every match of `pattern` (which must have the `g` flag, else a TypeError), each as `exec` gives it. JavaScript returns an iterator; .flow returns an array, so `for...of` and spread read it the same way.",
            'for (const m of "a1b2".matchAll(/\\d/g)) { total += Number(m[0]) }',
        ),
        _fn(
            _S,
            "search",
            ("pattern: RegExp | string",),
            "number",
            "The index of the first match of `pattern` (from the start, whatever `lastIndex` is), or -1.",
            '"abc1".search(/\\d/) // 3',
        ),
        _fn(
            _S,
            "padStart",
            ("length: number", "fill?: string"),
            "string",
            'The string padded at the start with `fill` (default " ") to `length`.',
            '"7".padStart(3, "0") // "007"',
        ),
        _fn(
            _S,
            "padEnd",
            ("length: number", "fill?: string"),
            "string",
            'The string padded at the end with `fill` (default " ") to `length`.',
            '"7".padEnd(3, ".") // "7.."',
        ),
        _fn(
            _S,
            "repeat",
            ("count: number",),
            "string",
            "The string repeated `count` times.",
            '"ab".repeat(2) // "abab"',
        ),
        _fn(
            _S,
            "at",
            ("index: number",),
            "string",
            "The character at `index` (negative counts from the end), or undefined.",
            '"abc".at(-1) // "c"',
        ),
    )
}

STRING_MEMBERS.update(
    (b.name, b)
    for b in (
        _fn(
            _S,
            "charAt",
            ("index?: number",),
            "string",
            'The character at `index` (default 0), or "" outside the string. Indexes count code '
            "points, so a character outside the Basic Multilingual Plane (an emoji) is one "
            "character, where JavaScript has two halves.",
            '"abc".charAt(1) // "b"',
        ),
        _fn(
            _S,
            "charCodeAt",
            ("index?: number",),
            "number",
            "The UTF-16 code unit that starts the character at `index` (default 0), or NaN outside "
            "the string: the character's code for most text; for a character outside the Basic "
            "Multilingual Plane, its first (high surrogate) half, as JavaScript gives at the "
            "character's first index.",
            '"A".charCodeAt(0) // 65',
        ),
        _fn(
            _S,
            "codePointAt",
            ("index?: number",),
            "number",
            "The Unicode code point of the character at `index` (default 0), or undefined outside "
            "the string.",
            '"😀".codePointAt(0) // 128512',
        ),
        _fn(
            _S,
            "lastIndexOf",
            ("search: string", "position?: number"),
            "number",
            "The index of the last occurrence of `search` starting at or before `position`, or -1.",
            '"hello".lastIndexOf("l") // 3',
        ),
        _fn(
            _S,
            "concat",
            ("...values: any",),
            "string",
            "The string followed by each value converted to a string.",
            '"a".concat("b", 1) // "ab1"',
        ),
        _fn(
            _S,
            "localeCompare",
            ("other: string",),
            "number",
            "-1, 0 or 1 as the string sorts before, with or after `other`, in plain Unicode code "
            'point order: no locale rules, unlike JavaScript (where `"a".localeCompare("B")` '
            "is -1; here it is 1).",
            "names.sort((a, b) => a.localeCompare(b))",
        ),
        _fn(
            _S,
            "normalize",
            ("form?: string",),
            "string",
            'The string in Unicode normalization form `form`: "NFC" (default), "NFD", "NFKC" or '
            '"NFKD"; a RangeError for any other.',
            '"e\u0301".normalize() === "\u00e9" // true',
        ),
        _fn(_S, "toString", (), "string", "The string itself.", '"abc".toString() // "abc"'),
        _fn(_S, "valueOf", (), "string", "The string itself.", '"abc".valueOf() // "abc"'),
    )
)

_A = "array"
ARRAY_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(_A, "length", "number", "The number of elements.", "[1, 2].length // 2"),
        _fn(
            _A,
            "push",
            ("...items: any",),
            "number",
            "Appends `items` to the end; returns the new length.",
            "list.push(4);",
        ),
        _fn(
            _A,
            "pop",
            (),
            "any",
            "Removes and returns the last element (undefined when empty).",
            "const last = list.pop();",
        ),
        _fn(
            _A,
            "shift",
            (),
            "any",
            "Removes and returns the first element (undefined when empty).",
            "const first = queue.shift();",
        ),
        _fn(
            _A,
            "unshift",
            ("...items: any",),
            "number",
            "Inserts `items` at the start; returns the new length.",
            "queue.unshift(0);",
        ),
        _fn(
            _A,
            "includes",
            ("value: any", "fromIndex?: number"),
            "boolean",
            "Whether the array holds `value` (NaN matches NaN).",
            "[1, 2].includes(2) // true",
        ),
        _fn(
            _A,
            "indexOf",
            ("value: any", "fromIndex?: number"),
            "number",
            "The first index holding `value` (compared with ===), or -1.",
            '["a", "b"].indexOf("b") // 1',
        ),
        _fn(
            _A,
            "join",
            ("separator?: string",),
            "string",
            'The elements as strings joined by `separator` (default ","; null and undefined become "").',
            '[1, 2].join("-") // "1-2"',
        ),
        _fn(
            _A,
            "slice",
            ("start?: number", "end?: number"),
            "array",
            "A copy of the part from `start` up to `end` (negative indexes count from the end).",
            "[1, 2, 3].slice(1) // [2, 3]",
        ),
        _fn(
            _A,
            "concat",
            ("...items: any",),
            "array",
            "A new array: this one followed by `items` (arrays among them are spread one level).",
            "[1].concat([2], 3) // [1, 2, 3]",
        ),
        _fn(
            _A,
            "reverse",
            (),
            "array",
            "Reverses the array in place and returns it.",
            "[1, 2, 3].reverse() // [3, 2, 1]",
        ),
        _fn(
            _A,
            "sort",
            ("compare?: function",),
            "array",
            "Sorts in place (stable) and returns the array. Without `compare`, elements are compared as strings (so [10, 9] stays [10, 9]); `compare(a, b)` returns a negative number when a comes first.",
            "scores.sort((a, b) => b - a);",
        ),
        _fn(
            _A,
            "map",
            ("callback: function",),
            "array",
            "A new array of `callback(element, index, array)` for each element.",
            "[1, 2].map(x => x * 2) // [2, 4]",
        ),
        _fn(
            _A,
            "filter",
            ("callback: function",),
            "array",
            "A new array of the elements for which `callback(element, index, array)` is truthy.",
            "[1, 2, 3].filter(x => x % 2) // [1, 3]",
        ),
        _fn(
            _A,
            "find",
            ("callback: function",),
            "any",
            "The first element for which `callback` is truthy, or undefined.",
            "users.find(u => u.id === id)",
        ),
        _fn(
            _A,
            "findIndex",
            ("callback: function",),
            "number",
            "The index of the first element for which `callback` is truthy, or -1.",
            "[5, 7].findIndex(x => x > 6) // 1",
        ),
        _fn(
            _A,
            "some",
            ("callback: function",),
            "boolean",
            "Whether `callback` is truthy for at least one element.",
            "[1, 2].some(x => x > 1) // true",
        ),
        _fn(
            _A,
            "every",
            ("callback: function",),
            "boolean",
            "Whether `callback` is truthy for every element.",
            "[1, 2].every(x => x > 1) // false",
        ),
        _fn(
            _A,
            "reduce",
            ("callback: function", "initial?: any"),
            "any",
            "Folds the array: `callback(accumulator, element, index, array)`, starting from `initial` (or the first element; a TypeError on an empty array without `initial`).",
            "[1, 2, 3].reduce((a, b) => a + b, 0) // 6",
        ),
        _fn(
            _A,
            "flat",
            ("depth?: number",),
            "array",
            "A new array with nested arrays spread `depth` levels deep (default 1).",
            "[1, [2, [3]]].flat() // [1, 2, [3]]",
        ),
        _fn(
            _A,
            "flatMap",
            ("callback: function",),
            "array",
            "`map` followed by `flat(1)`.",
            "[1, 2].flatMap(x => [x, x]) // [1, 1, 2, 2]",
        ),
        _fn(
            _A,
            "forEach",
            ("callback: function",),
            "undefined",
            "Calls `callback(element, index, array)` for each element.",
            "items.forEach(item => { total += item.price; });",
        ),
        _fn(
            _A,
            "at",
            ("index: number",),
            "any",
            "The element at `index` (negative counts from the end), or undefined.",
            "[1, 2, 3].at(-1) // 3",
        ),
    )
}

_N = "number"
NUMBER_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _fn(
            _N,
            "toFixed",
            ("digits?: number",),
            "string",
            "The number written with `digits` digits after the point (0 to 100, default 0), "
            "rounded half up from its exact binary value, as JavaScript does (so `1.005.toFixed(2)` "
            'is "1.00"); numbers of 1e21 or more are written as `toString()` does. A RangeError '
            "for `digits` outside 0 to 100.",
            '(3.14159).toFixed(2) // "3.14"',
        ),
        _fn(
            _N,
            "toPrecision",
            ("precision?: number",),
            "string",
            "The number written with `precision` significant digits (1 to 100), in exponent form "
            "when the exponent is below -6 or not below `precision`; `toString()` when omitted. "
            "A RangeError for `precision` outside 1 to 100.",
            '(123.456).toPrecision(4) // "123.5", (0.00001).toPrecision(1) // "0.00001"',
        ),
        _fn(
            _N,
            "toExponential",
            ("digits?: number",),
            "string",
            "The number in exponent form with `digits` digits after the point (0 to 100; as many "
            "as needed when omitted). A RangeError for `digits` outside 0 to 100.",
            '(1234.5).toExponential(2) // "1.23e+3"',
        ),
        _fn(
            _N,
            "toString",
            ("radix?: number",),
            "string",
            "The number written in base `radix` (2 to 36, default 10), fractions included, digit "
            "for digit as V8 (Node.js) writes them. A RangeError for a radix outside 2 to 36.",
            '(255).toString(16) // "ff", (0.5).toString(2) // "0.1"',
        ),
        _fn(
            _N,
            "valueOf",
            (),
            "number",
            "The number itself.",
            "(5).valueOf() // 5",
        ),
    )
}

BOOLEAN_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _fn("boolean", "toString", (), "string", '"true" or "false".', 'true.toString() // "true"'),
        _fn("boolean", "valueOf", (), "boolean", "The boolean itself.", "false.valueOf() // false"),
    )
}

OBJECT_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _fn(
            "object",
            "toString",
            (),
            "string",
            '"[object Object]" for a plain object (unless it has its own `toString` key), as in '
            "JavaScript.",
            '({ a: 1 }).toString() // "[object Object]"',
        ),
    )
}

FUNCTION_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(
            "function",
            "length",
            "number",
            "The number of parameters before the first one with a default value or a rest "
            "parameter; for a builtin, the number JavaScript gives (`Math.max.length` is 2).",
            "((a, b = 1, ...c) => a).length // 1",
        ),
        _prop(
            "function",
            "name",
            "string",
            "The function's name: a declaration's name, the variable, key or parameter an arrow "
            'is defined as the value of (`const f = () => 1` is "f"), "" for other arrows (also '
            'for a computed key, where JavaScript uses the key); a builtin\'s own name ("max" '
            "for `Math.max`).",
            'const total = (xs) => 0;\ntotal.name // "total"',
        ),
        _fn(
            "function",
            "toString",
            (),
            "string",
            "A fixed text, not the source (JavaScript gives a function's source text; .flow does "
            "not keep it): `function max() { [native code] }` for a builtin, as JavaScript, and "
            "`() => { [code] }` for every .flow function.",
            'Math.max.toString() // "function max() { [native code] }"',
        ),
    )
}

ARRAY_MEMBERS.update(
    (b.name, b)
    for b in (
        _fn(
            _A,
            "fill",
            ("value: any", "start?: number", "end?: number"),
            "array",
            "Sets every element from `start` up to `end` (negative counts from the end) to `value`, "
            "in place; returns the array.",
            "[1, 2, 3].fill(0) // [0, 0, 0]",
        ),
        _fn(
            _A,
            "findLast",
            ("callback: function",),
            "any",
            "The last element for which `callback(element, index, array)` is truthy, or "
            "undefined; visits the indexes from the end.",
            "[1, 2, 3, 4].findLast(x => x % 2) // 3",
        ),
        _fn(
            _A,
            "findLastIndex",
            ("callback: function",),
            "number",
            "The index of the last element for which `callback` is truthy, or -1.",
            "[1, 2, 3, 4].findLastIndex(x => x % 2) // 2",
        ),
        _fn(
            _A,
            "lastIndexOf",
            ("value: any", "fromIndex?: number"),
            "number",
            "The last index at or before `fromIndex` holding `value` (compared with ===), or -1.",
            "[1, 2, 1].lastIndexOf(1) // 2",
        ),
        _fn(
            _A,
            "splice",
            ("start: number", "deleteCount?: number", "...items: any"),
            "array",
            "Removes `deleteCount` elements at `start` (all the rest when omitted) and inserts "
            "`items` there, in place; returns the removed elements.",
            'const removed = list.splice(1, 2, "x");',
        ),
        _fn(
            _A,
            "toSorted",
            ("compare?: function",),
            "array",
            "A sorted copy, leaving the array as it is (compared as `sort` does).",
            "[3, 1, 2].toSorted() // [1, 2, 3]",
        ),
        _fn(
            _A,
            "toReversed",
            (),
            "array",
            "A reversed copy, leaving the array as it is.",
            "[1, 2, 3].toReversed() // [3, 2, 1]",
        ),
        _fn(
            _A,
            "with",
            ("index: number", "value: any"),
            "array",
            "A copy with the element at `index` (negative counts from the end) replaced by "
            "`value`; a RangeError when `index` is outside the array.",
            "[1, 2, 3].with(-1, 9) // [1, 2, 9]",
        ),
        _fn(
            _A,
            "entries",
            (),
            "array",
            "The `[index, element]` pairs, for `for (const [i, x] of list.entries())`. Unlike "
            "JavaScript's iterator, this is a new array taken at the call (`Array.isArray` is true, "
            "there is no `next()`), so it works with spread, `for...of` and every array method.",
            "for (const [i, item] of items.entries()) { out.push(`${i}: ${item}`); }",
        ),
        _fn(
            _A,
            "keys",
            (),
            "array",
            "The indexes 0 to length - 1, as a new array (see `entries`).",
            '[...["a", "b"].keys()] // [0, 1]',
        ),
        _fn(
            _A,
            "values",
            (),
            "array",
            "The elements, as a new array (see `entries`).",
            "for (const x of list.values()) total += x;",
        ),
    )
)

ARRAY_MEMBERS["toString"] = _fn(
    _A,
    "toString",
    (),
    "string",
    "The elements joined with commas, as `join()` does (nested arrays too; null and undefined "
    'become "").',
    '[1, [2, 3], null].toString() // "1,2,3,"',
)


# ---------------------------------------------------------------- builtin constructors

# The classes `new` can construct; `x instanceof C` also accepts Array, Object and Promise.
CONSTRUCTORS = (
    "Error",
    "TypeError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "Date",
    "Map",
    "Set",
    "RegExp",
)


def _error_class(name: str, doc: str) -> StdObject:
    examples = {
        "Error": 'throw new Error("card declined", { cause: e });',
        "TypeError": "try { null.x; } catch (e) { e instanceof TypeError } // true",
        "RangeError": 'throw new RangeError("amount out of range");',
        "ReferenceError": 'throw new ReferenceError("no customer " + id);',
        "SyntaxError": 'try { JSON.parse("{"); } catch (e) { e instanceof SyntaxError } // true',
    }
    example = examples[name]
    return _obj(
        name,
        doc,
        constructor=_fn(
            "",
            name,
            ("message?: string", "options?: object"),
            name,
            f"A new {name} with `message` (converted to a string) and, when `options` has a "
            "`cause` key, that `cause`; with or without `new`.",
            example,
        ),
    )


_ERRORS = (
    _error_class(
        "Error",
        "The base class of errors. `throw new Error(message)` fails the workflow with "
        '`{type: "Error", message}` unless caught; a failed task throws an Error too.',
    ),
    _error_class(
        "TypeError", "Thrown for a value of the wrong type (calling a non-function, ...)."
    ),
    _error_class("RangeError", "Thrown for a number out of its range (an invalid date, ...)."),
    _error_class("ReferenceError", "Thrown for a name that is not defined."),
    _error_class("SyntaxError", "Thrown for malformed text (`JSON.parse`)."),
)

_DATE = _obj(
    "Date",
    "Points in time, in milliseconds since 1970-01-01T00:00:00Z. .flow has no time zones: local "
    "time is UTC (`getHours` is `getUTCHours`, `new Date(2024, 0, 31)` is midnight UTC).",
    _fn(
        "Date",
        "now",
        (),
        "number",
        "The current time in milliseconds since the epoch, as the runtime gave it when this step "
        "started (the same as `Context.now()`; it does not advance within a step).",
        "const started = Date.now();",
    ),
    _fn(
        "Date",
        "parse",
        ("text: string",),
        "number",
        'The time an ISO 8601 string denotes ("2024-01-31", "2024-01-31T12:00:00.000Z", '
        '"2024-01-31T12:00+02:00"; no offset means UTC), NaN for any other text.',
        'Date.parse("2024-01-31T00:00:00Z") // 1706659200000',
    ),
    _fn(
        "Date",
        "UTC",
        (
            "year: number",
            "monthIndex?: number",
            "day?: number",
            "hours?: number",
            "minutes?: number",
            "seconds?: number",
            "ms?: number",
        ),
        "number",
        "The time of a UTC date from its parts (month 0 is January; out-of-range parts carry "
        "over, as in JavaScript; years 0 to 99 mean 1900 to 1999).",
        "Date.UTC(2024, 0, 31) // 1706659200000",
    ),
    constructor=_fn(
        "",
        "Date",
        (
            "value?: number | string | Date",
            "monthIndex?: number",
            "day?: number",
            "hours?: number",
            "minutes?: number",
            "seconds?: number",
            "ms?: number",
        ),
        "Date",
        "`new Date()` is now (see `Date.now`); `new Date(ms)`, `new Date(isoString)` or "
        "`new Date(date)` that time; `new Date(year, monthIndex, day?, ...)` from UTC parts. "
        "Called without `new`, `Date()` returns the current time as a string.",
        'new Date("2024-01-31T12:00:00Z").getTime() // 1706702400000',
    ),
)

_MAP = _obj(
    "Map",
    "Key-value collections in insertion order, with keys of any type: strings and numbers by "
    "value (NaN equals NaN, -0 equals 0), objects by identity.",
    constructor=_fn(
        "",
        "Map",
        ("entries?: iterable",),
        "Map",
        "A new Map holding the `[key, value]` pairs of `entries` (an array, a Map, ...); "
        "only with `new`.",
        'const stock = new Map([["apple", 3], ["pear", 0]]);',
    ),
)

_SET = _obj(
    "Set",
    "Collections of distinct values in insertion order (equality as for Map keys).",
    constructor=_fn(
        "",
        "Set",
        ("values?: iterable",),
        "Set",
        "A new Set holding the distinct values of `values` (an array, a string, a Set, ...); "
        "only with `new`.",
        "const unique = [...new Set([3, 1, 3])]; // [3, 1]",
    ),
)

_E, _D, _M, _ST = "error", "date", "map", "set"
ERROR_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(
            _E,
            "name",
            "string",
            'The class name ("Error", "TypeError", ...) unless assigned.',
            'new RangeError("x").name // "RangeError"',
        ),
        _prop(
            _E,
            "message",
            "string",
            'The message given to the constructor ("" if none). Not enumerable, as in JavaScript.',
            'new Error("declined").message // "declined"',
        ),
        _prop(
            _E,
            "cause",
            "any",
            "The `cause` option given to the constructor, or undefined.",
            'new Error("retry failed", { cause: e }).cause === e // true',
        ),
        _fn(
            _E,
            "toString",
            (),
            "string",
            '"Name: message" (just the name when the message is empty).',
            'String(new TypeError("bad")) // "TypeError: bad"',
            kind="method",
        ),
    )
}

_UTC_PARTS = (
    ("FullYear", "year", "2024", ("year: number", "monthIndex?: number", "day?: number")),
    ("Month", "month, 0 for January to 11", "0", ("monthIndex: number", "day?: number")),
    ("Date", "day of the month, 1 to 31", "31", ("day: number",)),
    ("Hours", "hours, 0 to 23", "12", ("hours: number", "minutes?: number", "seconds?: number", "ms?: number")),
    ("Minutes", "minutes, 0 to 59", "30", ("minutes: number", "seconds?: number", "ms?: number")),
    ("Seconds", "seconds, 0 to 59", "15", ("seconds: number", "ms?: number")),
    ("Milliseconds", "milliseconds, 0 to 999", "250", ("ms: number",)),
)  # fmt: skip
_SAMPLE = 'new Date("2024-01-31T12:30:15.250Z")'


def _date_members() -> list[Builtin]:
    out: list[Builtin] = []
    for part, what, value, params in _UTC_PARTS:
        for local in (False, True):
            prefix = "" if local else "UTC"
            note = " (local time is UTC in .flow)" if local else ""
            out.append(
                _fn(
                    _D,
                    f"get{prefix}{part}",
                    (),
                    "number",
                    f"The {what}, in UTC{note}; NaN for an invalid date.",
                    f"{_SAMPLE}.get{prefix}{part}() // {value}",
                    kind="method",
                )
            )
            out.append(
                _fn(
                    _D,
                    f"set{prefix}{part}",
                    params,
                    "number",
                    f"Sets the {what.split(',')[0]} (and the parts after it that are given), in "
                    f"UTC{note}; out-of-range values carry over. Returns the new time.",
                    f"d.set{prefix}{part}({value})",
                    kind="method",
                )
            )
        if part == "Date":
            for prefix in ("UTC", ""):
                note = " (local time is UTC in .flow)" if not prefix else ""
                out.append(
                    _fn(
                        _D,
                        f"get{prefix}Day",
                        (),
                        "number",
                        f"The day of the week, 0 for Sunday to 6, in UTC{note}.",
                        f"{_SAMPLE}.get{prefix}Day() // 3",
                        kind="method",
                    )
                )
    return out


DATE_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _fn(
            _D,
            "getTime",
            (),
            "number",
            "Milliseconds since the epoch (NaN for an invalid date).",
            f"{_SAMPLE}.getTime() // 1706704215250",
            kind="method",
        ),
        _fn(
            _D,
            "valueOf",
            (),
            "number",
            "The same as `getTime()`; what `date1 - date2` and `date1 < date2` compare.",
            "later.valueOf() - earlier.valueOf()",
            kind="method",
        ),
        _fn(
            _D,
            "setTime",
            ("time: number",),
            "number",
            "Sets the time in milliseconds since the epoch; returns it.",
            "d.setTime(0)",
            kind="method",
        ),
        _fn(
            _D,
            "getTimezoneOffset",
            (),
            "number",
            "Always 0: local time is UTC in .flow (NaN for an invalid date).",
            "new Date().getTimezoneOffset() // 0",
            kind="method",
        ),
        _fn(
            _D,
            "toISOString",
            (),
            "string",
            'The ISO 8601 text "YYYY-MM-DDTHH:mm:ss.sssZ"; throws a RangeError for an invalid date.',
            f'{_SAMPLE}.toISOString() // "2024-01-31T12:30:15.250Z"',
            kind="method",
        ),
        _fn(
            _D,
            "toJSON",
            (),
            "string | null",
            "`toISOString()`, or null for an invalid date: what `JSON.stringify` writes for a Date.",
            'JSON.stringify({ at: new Date(0) }) // \'{"at":"1970-01-01T00:00:00.000Z"}\'',
            kind="method",
        ),
        _fn(
            _D,
            "toString",
            (),
            "string",
            'The date as Node prints it in UTC ("Wed Jan 31 2024 12:30:15 GMT+0000 (Coordinated '
            'Universal Time)"); "Invalid Date" for an invalid one.',
            "`${new Date(0)}`",
            kind="method",
        ),
        _fn(
            _D,
            "toUTCString",
            (),
            "string",
            'The date as "Wed, 31 Jan 2024 12:30:15 GMT" ("Invalid Date" for an invalid one).',
            'new Date(0).toUTCString() // "Thu, 01 Jan 1970 00:00:00 GMT"',
            kind="method",
        ),
        *_date_members(),
    )
}

_COLLECTION_ITERATION = (
    "An array (JavaScript returns an iterator; `for...of`, spread and `Array.from` read both alike)"
)
MAP_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(_M, "size", "number", "The number of entries.", "new Map([[1, 2]]).size // 1"),
        _fn(_M, "get", ("key: any",), "any", "The value stored under `key`, or undefined.", 'stock.get("apple")', kind="method"),
        _fn(_M, "set", ("key: any", "value: any"), "Map", "Stores `value` under `key` (an existing key keeps its place in the order); returns the Map.", 'stock.set("kiwi", 5).set("fig", 1);', kind="method"),
        _fn(_M, "has", ("key: any",), "boolean", "Whether an entry has `key`.", 'stock.has("pear") // true', kind="method"),
        _fn(_M, "delete", ("key: any",), "boolean", "Removes the entry of `key`; returns whether there was one.", 'stock.delete("pear")', kind="method"),
        _fn(_M, "clear", (), "undefined", "Removes every entry.", "stock.clear();", kind="method"),
        _fn(_M, "forEach", ("callback: function",), "undefined", "Calls `callback(value, key, map)` for each entry, in insertion order.", "stock.forEach((count, fruit) => { total += count; });", kind="method"),
        _fn(_M, "keys", (), "array", f"The keys in insertion order. {_COLLECTION_ITERATION}.", "[...stock.keys()]", kind="method"),
        _fn(_M, "values", (), "array", f"The values in insertion order. {_COLLECTION_ITERATION}.", "[...stock.values()]", kind="method"),
        _fn(_M, "entries", (), "array", f"The `[key, value]` pairs in insertion order (what `for...of` over the Map reads). {_COLLECTION_ITERATION}.", "for (const [fruit, count] of stock.entries()) {}", kind="method"),
    )
}  # fmt: skip

SET_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _prop(_ST, "size", "number", "The number of values.", "new Set([1, 1, 2]).size // 2"),
        _fn(_ST, "add", ("value: any",), "Set", "Adds `value` unless present; returns the Set.", "seen.add(id);", kind="method"),
        _fn(_ST, "has", ("value: any",), "boolean", "Whether `value` is in the Set.", "seen.has(id)", kind="method"),
        _fn(_ST, "delete", ("value: any",), "boolean", "Removes `value`; returns whether it was there.", "seen.delete(id)", kind="method"),
        _fn(_ST, "clear", (), "undefined", "Removes every value.", "seen.clear();", kind="method"),
        _fn(_ST, "forEach", ("callback: function",), "undefined", "Calls `callback(value, value, set)` for each value, in insertion order.", "seen.forEach((id) => { out.push(id); });", kind="method"),
        _fn(_ST, "values", (), "array", f"The values in insertion order. {_COLLECTION_ITERATION}.", "[...seen.values()]", kind="method"),
        _fn(_ST, "keys", (), "array", f"The same as `values()`. {_COLLECTION_ITERATION}.", "[...seen.keys()]", kind="method"),
        _fn(_ST, "entries", (), "array", f"`[value, value]` pairs in insertion order. {_COLLECTION_ITERATION}.", "[...seen.entries()]", kind="method"),
    )
}  # fmt: skip

# Members of the values the constructors make, by owner name ("date" for `new Date().getTime`).
INSTANCE_MEMBERS: dict[str, dict[str, Builtin]] = {
    _E: ERROR_MEMBERS,
    _D: DATE_MEMBERS,
    _M: MAP_MEMBERS,
    _ST: SET_MEMBERS,
}
# `toString()` on every value: Maps and Sets too.
for _owner, _cls in ((_M, "Map"), (_ST, "Set")):
    INSTANCE_MEMBERS[_owner]["toString"] = _fn(
        _owner,
        "toString",
        (),
        "string",
        f'"[object {_cls}]", as in JavaScript.',
        f'String(new {_cls}()) // "[object {_cls}]"',
    )

# The owner name of each constructor's instances.
INSTANCE_OWNER = {**dict.fromkeys(CONSTRUCTORS[:5], _E), "Date": _D, "Map": _M, "Set": _ST}


_R = "regexp"


def _rflag(name: str, flag: str, meaning: str) -> Builtin:
    return _prop(
        _R,
        name,
        "boolean",
        f"Whether the `{flag}` flag is set: {meaning}.",
        f"/a/{flag}.{name} // true",
    )


REGEXP_MEMBERS: dict[str, Builtin] = {
    b.name: b
    for b in (
        _fn(
            _R,
            "test",
            ("text: string",),
            "boolean",
            "Whether the pattern matches somewhere in `text` (from `lastIndex` with the `g` or `y` flag, which it then moves past the match, or back to 0 when none).",
            "/^\\S+@\\S+$/.test(email)",
            kind="method",
        ),
        _fn(
            _R,
            "exec",
            ("text: string",),
            "array | null",
            "The first match in `text` (from `lastIndex` with `g` or `y`, as for `test`): an array of the matched text and each group's capture (undefined for a group that took no part), with `index` (where the match starts), `input` (`text`) and `groups` (the named groups' captures, or undefined when the pattern names none); null when there is no match.",
            '/(?<year>\\d{4})-(\\d\\d)/.exec("on 2024-05").groups.year // "2024"',
            kind="method",
        ),
        _fn(
            _R,
            "toString",
            (),
            "string",
            "`/source/flags`.",
            '/a+/g.toString() // "/a+/g"',
            kind="method",
        ),
        _prop(
            _R,
            "source",
            "string",
            "The pattern's text, as written between the slashes.",
            '/a\\/b/.source // "a\\/b"',
        ),
        _prop(_R, "flags", "string", "The flags, in the order dgimsuvy.", '/a/gi.flags // "gi"'),
        _prop(
            _R,
            "lastIndex",
            "number",
            "Where the next `exec`/`test` of a `g` or `y` pattern starts; writable.",
            "re.lastIndex = 0",
        ),
        _rflag(
            "global", "g", "find every match (`match`, `replace`) and continue from `lastIndex`"
        ),
        _rflag("ignoreCase", "i", "ignore case (ASCII letters)"),
        _rflag("multiline", "m", "`^` and `$` also match at line breaks"),
        _rflag("dotAll", "s", "`.` also matches line breaks"),
        _rflag("unicode", "u", "strict syntax, `\\u{...}` escapes"),
        _rflag("sticky", "y", "match only at `lastIndex`"),
    )
}

GLOBALS: dict[str, StdObject | Builtin] = {
    o.name: o
    for o in (
        _TASK,
        _TIMER,
        _SIGNAL,
        _WORKFLOW,
        _PROMISE,
        _MATH,
        _NUMBER,
        _STRING,
        _JSON,
        _OBJECT,
        _ARRAY,
        _INPUTS,
        _CONTEXT,
        *_ERRORS,
        _DATE,
        _MAP,
        _SET,
    )
}
GLOBALS.update({f.name: f for f in _GLOBAL_FUNCTIONS})


# ---------------------------------------------------------------- members by kind of value

#: The members of each kind of value the checker and the language server can tell an expression
#: to be (from a literal, a `new X(...)`, or a builtin whose `returns` names the kind). Kinds are
#: lowercase ("string", "array", "number", "date", "map", ...) and each one's table is registered
#: here under that name, with rows whose `owner` is the kind: the checker's "did you mean" for
#: members (RY105), argument counts (RY106), hover, completion after `.` and docs/language.md all
#: read these tables, so a registered row is covered everywhere at once.
VALUE_MEMBERS: dict[str, dict[str, Builtin]] = {
    "string": STRING_MEMBERS,
    "array": ARRAY_MEMBERS,
    "number": NUMBER_MEMBERS,
    "boolean": BOOLEAN_MEMBERS,
    "object": OBJECT_MEMBERS,
    "function": FUNCTION_MEMBERS,
    **INSTANCE_MEMBERS,
    "regexp": REGEXP_MEMBERS,
}

#: The kind of value `new Name(...)` makes, for the builtin constructors whose instances have a
#: table in VALUE_MEMBERS (looked up at use, so a constructor added later only needs its row here).
INSTANCE_KINDS: dict[str, str] = {**INSTANCE_OWNER, "RegExp": "regexp"}


def value_members(kind: str) -> dict[str, Builtin] | None:
    """The members of values of `kind` ("string", "number", "date", ...), or None if unknown."""
    return VALUE_MEMBERS.get(kind)


def kind_of_returns(returns: str) -> str | None:
    """The kind of value a builtin documented as returning `returns` gives, when the table knows
    that kind's members: `"string"` -> "string", `"string[]"` -> "array", `"RegExp"` -> "regexp",
    `"any"` -> None."""
    r = returns.strip()
    if r.endswith("[]"):
        return "array"
    r = INSTANCE_KINDS.get(r, r)  # "RegExp", "Date": instances of a builtin constructor
    # A plain object may hold any key: its members are never checked.
    return r if r in VALUE_MEMBERS and r != "object" else None


def static_members(name: str) -> dict[str, Builtin] | None:
    """The members the global `name` has: a closed stdlib object's (`Math.floor`), or for a global
    function, the rows whose owner is its name (`String.fromCharCode`) plus what every function
    has (VALUE_MEMBERS["function"], when registered). None when not checkable (`Inputs`)."""
    entry = GLOBALS.get(name)
    if isinstance(entry, StdObject):
        if entry.open:
            return None
        if entry.constructor is not None:  # `Number.name`: a function with statics
            return {**FUNCTION_MEMBERS, **entry.members}
        return entry.members
    if entry is None:
        return None
    if entry.kind == "property":  # `NaN`, `Infinity`: values, with their kind's members
        kind = kind_of_returns(entry.returns)
        return VALUE_MEMBERS.get(kind) if kind is not None else None
    if name not in _STATICS:
        members = {b.name: b for b in all_builtins() if b.owner == name and b is not entry}
        members.update(VALUE_MEMBERS.get("function", {}))
        _STATICS[name] = members
    return _STATICS[name] or None


_STATICS: dict[str, dict[str, Builtin]] = {}  # static_members of global functions, made once


def call_kind(name: str) -> str | None:
    """The kind of value calling the global `name` as a function gives: `parseInt(x)` a number,
    `String(x)` a string, `Error("x")` an error (as `new Error("x")`), `Date()` a string."""
    entry = GLOBALS.get(name)
    if isinstance(entry, StdObject):
        if entry.constructor is None:
            return None
        return "string" if name == "Date" else kind_of_returns(entry.constructor.returns)
    return kind_of_returns(entry.returns) if entry is not None else None


def members_of(owner: str) -> dict[str, Builtin] | None:
    """The members of a kind of value (`"number"`) or of a stdlib global (`"Math"`, `"Number"`,
    with what every function has), for the checker and the language server; None when unknown
    or open (`Inputs`, a plain object)."""
    if owner == "object":
        return None
    return VALUE_MEMBERS.get(owner) or static_members(owner)


def member_of(owner: str, member: str) -> Builtin | None:
    """`members_of(owner)[member]`, or None."""
    table = members_of(owner)
    return table.get(member) if table is not None else None


def lookup_global(name: str) -> StdObject | Builtin | None:
    """The stdlib object (`Task`) or global function (`parseInt`) called `name`, or None."""
    return GLOBALS.get(name)


def lookup_member(owner_name: str, member: str) -> Builtin | None:
    """A member of a stdlib object (`"Math", "max"`) or of a kind of value (`"string"`, `"array"`,
    any kind in VALUE_MEMBERS)."""
    table = VALUE_MEMBERS.get(owner_name)
    if table is not None:
        return table.get(member)
    owner = GLOBALS.get(owner_name)
    if isinstance(owner, StdObject):
        return owner.members.get(member)
    return None


def all_builtins() -> list[Builtin]:
    """Every entry of the table: object members, global functions, members of kinds of values."""
    out: list[Builtin] = []
    for entry in GLOBALS.values():
        if isinstance(entry, StdObject):
            out.extend(entry.members.values())
            if entry.constructor is not None:
                out.append(entry.constructor)
        else:
            out.append(entry)
    for table in VALUE_MEMBERS.values():
        out.extend(table.values())
    return out
