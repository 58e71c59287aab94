"""A workflow whose snapshot or result holds a value Postgres cannot store in jsonb (a NUL
character, a lone surrogate: a JavaScript string may hold either) fails with a TypeError that
says so, instead of failing every commit of its step; the worker goes on with other work."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rhythm.client import Client
from rhythm.worker import Worker, task


@task("unstorable_echo")
async def unstorable_echo(inputs: dict) -> dict:
    return {"n": 1}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # In the snapshot (the string is alive across the await).
        (
            'const s = "\\uD800";\n'
            'const a = await Task.run("unstorable_echo", {}, { queue: Inputs.queue });\n'
            "return s.length + a.n;\n",
            "the workflow's state holds a string with a lone surrogate (\\ud800), which "
            "Postgres cannot store",
        ),
        # In the result.
        (
            'const a = await Task.run("unstorable_echo", {}, { queue: Inputs.queue });\n'
            'return "x\\uDC80" + a.n;\n',
            "the workflow's result holds a string with a lone surrogate (\\udc80), which "
            "Postgres cannot store",
        ),
        (
            'const a = await Task.run("unstorable_echo", {}, { queue: Inputs.queue });\n'
            'return "x\\u0000" + a.n;\n',
            "the workflow's result holds a string with a NUL character",
        ),
    ],
)
def test_a_value_postgres_cannot_store_fails_the_workflow_clearly(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    source: str,
    message: str,
) -> None:
    name = register_flow(source, "unstorable")
    queue = f"q-{name}"
    start_worker(tasks=[unstorable_echo], queues=[queue], concurrency=2)
    wid = client.workflows.run(name, {"queue": queue}, queue=queue)
    done = client.executions.wait(wid, timeout=30)
    assert done.status == "failed"
    assert done.error == {"type": "TypeError", "message": message}
    # The worker is fine: the next workflow completes.
    fine = register_flow(
        'const a = await Task.run("unstorable_echo", {}, { queue: Inputs.queue });\nreturn a.n;\n',
        "fine",
    )
    ok = client.executions.wait(client.workflows.run(fine, {"queue": queue}, queue=queue), 30)
    assert ok.status == "completed" and ok.output == 1
