"""JavaScript value semantics: number formatting, conversions, operators, JSON."""

from __future__ import annotations

import math

import pytest

from rhythm.core import jsjson
from rhythm.core.values import (
    UNDEFINED,
    JSThrow,
    compare,
    js_add,
    js_div,
    js_mod,
    js_pow,
    loose_equals,
    number_to_string,
    own_keys,
    parse_float,
    parse_int,
    strict_equals,
    string_to_number,
    to_boolean,
    to_number,
    to_string,
    typeof,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-1.0, "-1"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (2**53 + 2.0, "9007199254740994"),
        (1e21 / 2.25, "444444444444444460000"),
        (100.0, "100"),
        (12.34, "12.34"),
    ],
)
def test_number_to_string(value: float, text: str) -> None:
    assert number_to_string(value) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("", 0.0),
        ("  42  ", 42.0),
        ("0x1F", 31.0),
        ("0b101", 5.0),
        ("0o17", 15.0),
        ("-0x1", math.nan),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("inf", math.nan),
        ("12px", math.nan),
        ("1_000", math.nan),
        ("\n\t 7 \u00a0", 7.0),
    ],
)
def test_string_to_number(text: str, number: float) -> None:
    got = string_to_number(text)
    assert (math.isnan(got) and math.isnan(number)) or got == number


def test_to_number_of_other_values() -> None:
    assert to_number(True) == 1.0
    assert to_number(None) == 0.0
    assert math.isnan(to_number(UNDEFINED))
    assert to_number([]) == 0.0
    assert to_number([5.0]) == 5.0
    assert math.isnan(to_number([1.0, 2.0]))
    assert math.isnan(to_number({}))


def test_to_string_and_boolean() -> None:
    assert to_string([1.0, None, UNDEFINED, [2.0, 3.0]]) == "1,,,2,3"
    assert to_string({"a": 1.0}) == "[object Object]"
    assert to_string(None) == "null"
    assert to_string(UNDEFINED) == "undefined"
    assert [to_boolean(v) for v in (0.0, -0.0, math.nan, "", None, UNDEFINED)] == [False] * 6
    assert all(to_boolean(v) for v in (1.0, "0", " ", [], {}))


def test_typeof() -> None:
    assert [typeof(v) for v in (UNDEFINED, None, True, 1.0, "s", [], {})] == [
        "undefined",
        "object",
        "boolean",
        "number",
        "string",
        "object",
        "object",
    ]


def test_addition_and_arithmetic() -> None:
    assert js_add("a", 1.0) == "a1"
    assert js_add(1.0, "2") == "12"
    assert js_add(True, 1.0) == 2.0
    assert js_add([], []) == ""
    assert js_add([1.0, 2.0], 3.0) == "1,23"
    assert js_add({}, "x") == "[object Object]x"
    assert js_add(None, 1.0) == 1.0
    assert math.isnan(js_add(UNDEFINED, 1.0))
    assert js_div(1.0, 2.0) == 0.5
    assert js_div(1.0, 0.0) == math.inf
    assert js_div(-1.0, 0.0) == -math.inf
    assert js_div(1.0, -0.0) == -math.inf
    assert math.isnan(js_div(0.0, 0.0))
    assert js_mod(-5.0, 3.0) == -2.0
    assert js_mod(5.0, -3.0) == 2.0
    assert math.copysign(1, js_mod(-6.0, 3.0)) < 0
    assert math.isnan(js_mod(5.0, 0.0))
    assert js_mod(5.0, math.inf) == 5.0
    assert js_pow(2.0, 10.0) == 1024.0
    assert js_pow(math.nan, 0.0) == 1.0
    assert math.isnan(js_pow(1.0, math.inf))
    assert math.isnan(js_pow(-8.0, 1 / 3))
    assert js_pow(0.0, -1.0) == math.inf
    assert js_pow(-0.0, -1.0) == -math.inf
    assert js_pow(10.0, 400.0) == math.inf


def test_equality() -> None:
    assert loose_equals(None, UNDEFINED)
    assert not loose_equals(None, 0.0)
    assert loose_equals("1", 1.0)
    assert loose_equals(True, 1.0)
    assert loose_equals("", 0.0)
    assert loose_equals([1.0], 1.0)
    assert loose_equals([1.0, 2.0], "1,2")
    assert not loose_equals(math.nan, math.nan)
    assert not strict_equals("1", 1.0)
    assert not strict_equals(True, 1.0)
    assert strict_equals(0.0, -0.0)
    a: list[float] = []
    assert strict_equals(a, a)
    assert not strict_equals([], [])


def test_comparison() -> None:
    assert compare("<", "a", "b")
    assert compare("<", "B", "a")
    assert compare("<", "10", "9")  # strings compare as strings
    assert not compare("<", "10", 9.0)  # mixed compares as numbers
    assert not compare("<", math.nan, 1.0)
    assert not compare(">=", math.nan, 1.0)
    assert compare("<=", None, 0.0)
    assert not compare("<=", UNDEFINED, 0.0)


def test_parse_int_and_float() -> None:
    assert parse_int("42px") == 42.0
    assert parse_int("  -17") == -17.0
    assert parse_int("0x1F") == 31.0
    assert parse_int("ff", 16.0) == 255.0
    assert parse_int("101", 2.0) == 5.0
    assert math.isnan(parse_int("xyz"))
    assert math.isnan(parse_int("10", 1.0))
    assert parse_int("3.9") == 3.0
    assert parse_float("3.5kg") == 3.5
    assert parse_float(" .5") == 0.5
    assert parse_float("-Infinityx") == -math.inf
    assert math.isnan(parse_float("kg"))
    assert parse_float("1e3x") == 1000.0


def test_key_order() -> None:
    assert own_keys({"b": 1, "10": 2, "a": 3, "2": 4, "01": 5}) == ["2", "10", "b", "a", "01"]


def test_json_stringify() -> None:
    value = {"b": [1.0, UNDEFINED, "x"], "a": UNDEFINED, "1": None, "n": math.nan}
    assert jsjson.stringify(value) == '{"1":null,"b":[1,null,"x"],"n":null}'
    assert jsjson.stringify(UNDEFINED) is UNDEFINED
    assert jsjson.stringify({"a": [1.0, {}], "e": []}, 2.0) == (
        '{\n  "a": [\n    1,\n    {}\n  ],\n  "e": []\n}'
    )
    assert jsjson.stringify([1.0], "--") == "[\n--1\n]"
    assert jsjson.stringify('é\n\u0001"') == '"é\\n\\u0001\\""'
    assert jsjson.stringify(1e21) == "1e+21"
    cyclic: list[object] = []
    cyclic.append(cyclic)
    with pytest.raises(JSThrow) as e:
        jsjson.stringify(cyclic)
    assert e.value.value.cls == "TypeError"


def test_json_parse() -> None:
    assert jsjson.parse('{"a": [1, 2.5, "x", null, true]}') == {"a": [1.0, 2.5, "x", None, True]}
    for bad in ("{a: 1}", "NaN", "[1,]", "'x'", ""):
        with pytest.raises(JSThrow) as e:
            jsjson.parse(bad)
        assert e.value.value.cls == "SyntaxError"


def test_to_json_and_from_json() -> None:
    assert jsjson.to_json({"a": 1.0, "b": 0.5, "c": [UNDEFINED, math.inf], "d": UNDEFINED}) == {
        "a": 1,
        "b": 0.5,
        "c": [None, None],
    }
    assert jsjson.to_json(-0.0) == 0
    assert jsjson.from_json({"a": [1, True, None]}) == {"a": [1.0, True, None]}
    assert type(jsjson.from_json(3)) is float
    with pytest.raises(TypeError):
        jsjson.from_json({"a": object()})
