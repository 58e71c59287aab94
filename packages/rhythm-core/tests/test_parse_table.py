"""The stored LALR table (rhythm/core/parse_table.json) must match grammar.lark and lark."""

import json

from rhythm.core import parser


def test_stored_parse_table_is_current() -> None:
    # If this fails, grammar.lark or lark changed: run `python -m rhythm.core.parser`.
    stored = json.loads(parser._TABLE_PATH.read_text(encoding="utf-8"))
    assert parser._table_key() == stored["key"]
    assert parser._FROM_STORED_TABLE


def test_stored_table_has_the_same_shape_as_a_fresh_build() -> None:
    fresh = parser._build_lark().parser.parser.parser.parse_table  # type: ignore[attr-defined]
    stored = parser._LARK.parser.parser.parser.parse_table  # type: ignore[attr-defined]
    assert len(fresh.states) == len(stored.states)
    assert sorted(len(row) for row in fresh.states.values()) == sorted(
        len(row) for row in stored.states.values()
    )
