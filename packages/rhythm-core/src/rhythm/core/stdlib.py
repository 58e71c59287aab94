"""The stdlib table: every builtin object, function, method and property of .flow, with its
signature and doc text. The VM, the checker and the language server all read this one table, so
hover text, "wrong argument count" and behaviour cannot drift apart.

The VM binds each entry to its implementation by qualified name (`rhythm.core.builtins`), and a
test checks that every entry has an implementation and vice versa."""

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
        kind = "method" if owner in ("string", "array") else "function"
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


def _obj(name: str, doc: str, *members: Builtin, open: bool = False) -> StdObject:
    return StdObject(name=name, doc=doc, members={m.name: m for m in members}, open=open)


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
        "the task's output (a failed task throws `{type, message, task}`). A task that is never "
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
        ("time: string",),
        "TimerHandle",
        "Returns a timer that fires at `time`, an ISO 8601 timestamp (or milliseconds since the "
        "epoch, as `Context.now()` returns); a time in the past fires at once.",
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
        "Number",
        ("value?: any",),
        "number",
        'Converts `value` to a number, as JavaScript does (`""` -> 0, `"12px"` -> NaN, null -> 0, undefined -> NaN).',
        'Number("42") // 42',
    ),
    _fn(
        "",
        "String",
        ("value?: any",),
        "string",
        'Converts `value` to a string, as JavaScript does (arrays join with commas, objects give "[object Object]").',
        'String(1.5) // "1.5"',
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
        "A regular expression from the text of `pattern` (the same as `/pattern/flags`; a `pattern` that is a RegExp gives its own source). Flags: g (global), i (ignore ASCII case), m (multiline), s (dotAll), u (unicode), y (sticky). A pattern JavaScript rejects throws a SyntaxError, and so does one .flow cannot run exactly (see the language guide); with literal strings that is found at compile time.",
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
        _JSON,
        _OBJECT,
        _ARRAY,
        _INPUTS,
        _CONTEXT,
    )
}
GLOBALS.update({f.name: f for f in _GLOBAL_FUNCTIONS})


def lookup_global(name: str) -> StdObject | Builtin | None:
    """The stdlib object (`Task`) or global function (`parseInt`) called `name`, or None."""
    return GLOBALS.get(name)


def lookup_member(owner_name: str, member: str) -> Builtin | None:
    """A member of a stdlib object (`"Math", "max"`) or of a value type (`"string"`, `"array"`)."""
    if owner_name == "string":
        return STRING_MEMBERS.get(member)
    if owner_name == "array":
        return ARRAY_MEMBERS.get(member)
    if owner_name == "regexp":
        return REGEXP_MEMBERS.get(member)
    owner = GLOBALS.get(owner_name)
    if isinstance(owner, StdObject):
        return owner.members.get(member)
    return None


def all_builtins() -> list[Builtin]:
    """Every entry of the table: object members, global functions, string and array members."""
    out: list[Builtin] = []
    for entry in GLOBALS.values():
        if isinstance(entry, StdObject):
            out.extend(entry.members.values())
        else:
            out.append(entry)
    out.extend(STRING_MEMBERS.values())
    out.extend(ARRAY_MEMBERS.values())
    out.extend(REGEXP_MEMBERS.values())
    return out
