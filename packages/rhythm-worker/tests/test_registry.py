"""The @task decorator and how a Worker collects its tasks."""

from __future__ import annotations

import sys
import types

import pytest

from rhythm.worker import TaskFunction, Worker, task
from rhythm.worker.registry import REGISTRY, collect


def test_decorator_forms() -> None:
    @task("reg-send-email", queue="mail", retries=3, timeout=30)
    def send(inputs: dict) -> dict:
        return {"sent": inputs["to"]}

    @task(name="reg-named")
    async def named(inputs: dict) -> None:
        return None

    @task
    def reg_bare(inputs: dict) -> int:
        return 1

    assert isinstance(send, TaskFunction)
    assert send({"to": "x"}) == {"sent": "x"}  # still callable as the plain function
    d = send.definition
    assert (d.name, d.queue, d.retries, d.timeout, d.is_async) == (
        "reg-send-email",
        "mail",
        3,
        30.0,
        False,
    )
    assert named.definition.is_async and named.name == "reg-named"
    assert reg_bare.name == "reg_bare" and reg_bare.definition.queue == "default"
    assert REGISTRY["reg-send-email"] is d


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retries": -1}, r"retries must be an integer >= 0, got -1"),
        ({"timeout": 0}, r"timeout must be a number of seconds > 0, got 0"),
        ({"queue": ""}, r"queue must be a non-empty string, got ''"),
        ({"name": "  "}, r"name must be a non-empty string, got '  '"),
    ],
)
def test_bad_decorator_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        task(**kwargs)(lambda inputs: None)


def test_two_functions_cannot_share_a_name() -> None:
    @task("reg-dup")
    def first(inputs: dict) -> None: ...

    with pytest.raises(ValueError, match=r"task name 'reg-dup' is already used by"):

        @task("reg-dup")
        def second(inputs: dict) -> None: ...


def test_collect_from_modules_functions_and_names() -> None:
    module = types.ModuleType("reg_fake_app")

    @task("reg-in-module")
    def in_module(inputs: dict) -> None: ...

    module.in_module = in_module  # type: ignore[attr-defined]
    sys.modules["reg_fake_app"] = module

    def plain(inputs: dict) -> None: ...

    try:
        found = collect([module, plain])
        assert set(found) == {"reg-in-module", "plain"}
        assert set(collect(["reg_fake_app"])) == {"reg-in-module"}
    finally:
        del sys.modules["reg_fake_app"]
    with pytest.raises(ValueError, match=r"cannot import task module 'reg_no_such_module'"):
        collect(["reg_no_such_module"])
    with pytest.raises(ValueError, match=r"module 'types' defines no @task functions"):
        collect([types])


def test_worker_arguments_are_checked() -> None:
    def job(inputs: dict) -> None: ...

    with pytest.raises(ValueError, match=r"concurrency must be an integer >= 1, got 0"):
        Worker(tasks=[job], concurrency=0)
    with pytest.raises(ValueError, match=r"queue names must be non-empty strings"):
        Worker(tasks=[job], queues=[""])
    with pytest.raises(ValueError, match=r"lease_seconds must be > 0"):
        Worker(tasks=[job], lease_seconds=0)
    assert Worker(tasks=[job]).queues == ["default"]
    assert Worker(tasks=[job], queues="q1").queues == ["q1"]
