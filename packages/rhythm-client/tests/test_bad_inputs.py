"""Inputs that reach Postgres' or Python's limits are refused with InvalidInput naming the value,
before anything is sent (against a real Postgres: nothing may be stored either)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rhythm.client import AsyncClient, Client, InvalidInput


@pytest.fixture(scope="module")
def client(migrated_url: str):
    with Client(migrated_url) as c:
        yield c


def nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return root


def refused(client: Client, match: str, name: str = "t", **kwargs: Any) -> None:
    before = len(client.executions.list(limit=10_000))
    with pytest.raises(InvalidInput, match=match):
        client.tasks.run(name, **kwargs)
    assert len(client.executions.list(limit=10_000)) == before


def test_nul_in_a_dict_key(client: Client) -> None:
    refused(client, r"inputs\['outer'\] key is str 'k\\x00': NUL", inputs={"outer": {"k\x00": 1}})


def test_nul_in_a_task_name(client: Client) -> None:
    refused(client, r"task name 'send\\x00mail': NUL", name="send\x00mail", inputs={})


def test_nul_in_a_queue(client: Client) -> None:
    refused(client, r"queue 'q\\x00': NUL", inputs={}, queue="q\x00")


def test_nul_in_an_idempotency_key(client: Client) -> None:
    refused(client, r"idempotency_key 'k\\x001': NUL", inputs={}, idempotency_key="k\x001")


def test_lone_surrogate_in_a_value(client: Client) -> None:
    refused(
        client,
        r"inputs\['s'\]\[1\] is str '\\ud800': lone surrogates",
        inputs={"s": ["ok", "\ud800"]},
    )


def test_lone_surrogate_in_a_key(client: Client) -> None:
    refused(client, r"inputs key is str 'a\\udc00': lone surrogates", inputs={"a\udc00": 1})


def test_lone_surrogate_in_a_name_and_a_key(client: Client) -> None:
    refused(client, r"task name '\\ud83d': lone surrogates", name="\ud83d", inputs={})
    refused(
        client, r"idempotency_key 'x\\ud83d': lone surrogates", inputs={}, idempotency_key="x\ud83d"
    )
    # a real surrogate pair (an emoji) is fine
    assert client.executions.get(client.tasks.run("t", {"e": "\U0001f600"})).inputs == {
        "e": "\U0001f600"
    }


def test_nesting_deeper_than_the_limit(client: Client) -> None:
    for depth in (501, 995, 5000):
        refused(client, r"nested deeper than 500 levels", inputs=nested(depth))
    deep = client.executions.get(client.tasks.run("t", nested(500)))
    assert deep.inputs == nested(500)


def test_integer_over_4300_digits(client: Client) -> None:
    refused(
        client, r"inputs\['n'\] is int <an integer of about 5000 digits>", inputs={"n": 10**5000}
    )
    big = 10**4000  # long, but within what JSON and Python carry
    assert client.executions.get(client.tasks.run("t", {"n": big})).inputs == {"n": big}


def test_huge_delay(client: Client) -> None:
    refused(client, r"delay must be at most \d+ seconds, got 1e\+300", inputs={}, delay=1e300)


def test_megabyte_idempotency_key(client: Client) -> None:
    refused(
        client,
        r"idempotency_key 'kkkk.*\.\.\. \(1000000 characters\) is 1000000 bytes in UTF-8; at most 1000",
        inputs={},
        idempotency_key="k" * 1_000_000,
    )
    key = "é" * 500  # 1000 bytes: the most allowed
    assert client.tasks.run("t", {}, idempotency_key=key) == client.tasks.run(
        "t", {}, idempotency_key=key
    )


def test_run_many_names_the_bad_item(client: Client) -> None:
    with pytest.raises(InvalidInput, match=r"inputs\[1\] key is str 'b\\x00'"):
        client.tasks.run_many("t", [{"a": 1}, {"b\x00": 2}])


def test_async_client_refuses_the_same(migrated_url: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(migrated_url) as client:
            with pytest.raises(InvalidInput, match="NUL"):
                await client.tasks.run("t", {"k\x00": 1})
            with pytest.raises(InvalidInput, match="nested deeper"):
                await client.tasks.run("t", nested(995))

    asyncio.run(scenario())
