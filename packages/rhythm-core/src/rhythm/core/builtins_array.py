"""Implementations of `Array.from`, `Array.of` and the array methods added in round 2 (`fill`,
`findLast`, `findLastIndex`, `lastIndexOf`, `splice`, `toSorted`, `toReversed`, `with`,
`entries`, `keys`, `values`). Registered into `builtins.IMPLEMENTATIONS`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rhythm.core.builtins import _callback, arg, array_sort, impl
from rhythm.core.values import (
    UNDEFINED,
    BuiltinFunction,
    Closure,
    is_callable,
    js_error,
    relative_index,
    strict_equals,
    to_boolean,
    to_integer,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM

MAX_ARRAY_LENGTH = 10_000_000  # as `list.length = n` and assigning far past the end


def _arr(this: Any) -> list[Any]:
    assert type(this) is list
    return this


def _array_like(vm: VM, items: Any) -> list[Any]:
    """The elements of an array-like value: `length`, then the indexes below it."""
    n = to_integer(vm.get_prop(items, "length"))
    if n <= 0:
        return []
    if n > MAX_ARRAY_LENGTH:
        raise js_error("RangeError", "Invalid array length")
    return [vm.get_prop(items, str(i)) for i in range(int(n))]


@impl("Array.from")
def array_from(vm: VM, this: Any, args: list[Any]) -> Any:
    items, map_fn = arg(args, 0), arg(args, 1)
    if map_fn is not UNDEFINED and not is_callable(map_fn):
        raise js_error("TypeError", f"{to_string(map_fn)} is not a function")
    t = type(items)
    if items is UNDEFINED or items is None:
        shown = "undefined" if items is UNDEFINED else "object null"
        raise js_error(
            "TypeError",
            f"{shown} is not iterable (cannot read property Symbol(Symbol.iterator))",
        )
    if t is float or t is bool:
        out: list[Any] = []
    elif t is dict or t is Closure or t is BuiltinFunction:
        out = _array_like(vm, items)
    else:
        # Arrays, strings and every other iterable the VM knows (vm.iterate).
        out = list(vm.iterate(items))
    if map_fn is not UNDEFINED:
        out = [vm.call_function(map_fn, [x, float(i)]) for i, x in enumerate(out)]
    return out


impl("Array.of")(lambda vm, this, args: list(args))


@impl("array.fill")
def array_fill(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    start = relative_index(arg(args, 1), len(a), 0)
    end = relative_index(arg(args, 2), len(a), len(a))
    value = arg(args, 0)
    for i in range(start, end):
        a[i] = value
    return a


def _find_last(vm: VM, this: Any, args: list[Any], name: str) -> tuple[int, Any]:
    a = _arr(this)
    fn = _callback(f"array.{name}", arg(args, 0))
    for i in range(len(a) - 1, -1, -1):
        x = a[i] if i < len(a) else UNDEFINED
        if to_boolean(vm.call_function(fn, [x, float(i), a])):
            return i, x
    return -1, UNDEFINED


impl("array.findLast")(lambda vm, this, args: _find_last(vm, this, args, "findLast")[1])
impl("array.findLastIndex")(
    lambda vm, this, args: float(_find_last(vm, this, args, "findLastIndex")[0])
)


@impl("array.lastIndexOf")
def array_last_index_of(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    x = arg(args, 0)
    start = len(a) - 1
    if len(args) > 1:
        n = to_integer(args[1])
        start = int(min(n, len(a) - 1)) if n >= 0 else int(max(len(a) + n, -1))
    for i in range(start, -1, -1):
        if strict_equals(a[i], x):
            return float(i)
    return -1.0


@impl("array.splice")
def array_splice(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    start = relative_index(arg(args, 0), len(a), 0)
    if not args:
        count = 0
    elif len(args) == 1:
        count = len(a) - start
    else:
        count = int(min(max(to_integer(args[1]), 0), len(a) - start))
    removed = a[start : start + count]
    if len(a) - count + max(len(args) - 2, 0) > MAX_ARRAY_LENGTH:
        raise js_error("RangeError", "Invalid array length")
    a[start : start + count] = args[2:]
    return removed


@impl("array.toSorted")
def array_to_sorted(vm: VM, this: Any, args: list[Any]) -> Any:
    return array_sort(vm, list(_arr(this)), args)


impl("array.toReversed")(lambda vm, this, args: _arr(this)[::-1])


@impl("array.with")
def array_with(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    n = to_integer(arg(args, 0))
    i = n + len(a) if n < 0 else n
    if not 0 <= i < len(a):
        raise js_error("RangeError", f"Invalid index : {to_string(n)}")
    out = list(a)
    out[int(i)] = arg(args, 1)
    return out


impl("array.entries")(lambda vm, this, args: [[float(i), x] for i, x in enumerate(_arr(this))])
impl("array.keys")(lambda vm, this, args: [float(i) for i in range(len(_arr(this)))])
impl("array.values")(lambda vm, this, args: list(_arr(this)))
