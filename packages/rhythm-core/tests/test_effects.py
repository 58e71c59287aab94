"""Effects as typed values, the task-option limits, the one version hash, Context.versionHash,
and the module layout that keeps vm, snapshot and builtins free of function-level imports."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import limits, vm
from rhythm.core.compiler import compile_source
from rhythm.core.effects import StartTask, StartTimer, StartWorkflow, TaskOptions, WaitSignal
from rhythm.core.testing import run_workflow
from rhythm.core.versions import version_hash

CTX = {"executionId": "e1", "workflowName": "w", "now": 1_000.0}
CORE = Path(__file__).resolve().parents[1] / "src" / "rhythm" / "core"


def effects_of(source: str) -> list[Any]:
    step = vm.start(compile_source(source), {}, CTX)
    assert step.status == "suspended", step.error
    return step.effects


def test_every_builtin_that_starts_something_yields_its_typed_effect_in_order() -> None:
    effects = effects_of(
        """
        Task.run("charge", { amount: 5 }, { queue: "billing", priority: 3, retries: 2,
                                            timeout: 1.5, delay: 0 });
        Workflow.run("child", { id: "c1" });
        Timer.delay(2.5);
        Timer.until("2030-01-01T00:00:00Z");
        Signal.next("go");
        await Signal.when("stop", { timeout: "1h" });
        """
    )
    assert effects == [
        StartTask(
            1,
            "charge",
            {"amount": 5},
            TaskOptions(queue="billing", priority=3, retries=2, timeout=1.5, delay=0.0),
        ),
        StartWorkflow(2, "child", {"id": "c1"}),
        StartTimer(3, 2.5, None),
        StartTimer(4, None, "2030-01-01T00:00:00+00:00"),
        WaitSignal(5, "go", None),
        WaitSignal(6, "stop", 3600.0),
    ]
    options = effects[0].options
    assert type(options.priority) is int and type(options.retries) is int
    assert type(options.timeout) is float and type(options.delay) is float


def test_undefined_options_are_left_out_and_effects_are_frozen() -> None:
    (effect,) = effects_of('await Task.run("t", {}, { queue: undefined, retries: 0 });')
    assert effect == StartTask(1, "t", {}, TaskOptions(retries=0))
    with pytest.raises(AttributeError):
        effect.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "options",
    [
        f"{{ priority: {limits.MAX_PRIORITY} }}",
        f"{{ priority: {limits.MIN_PRIORITY} }}",
        f"{{ retries: {limits.MAX_RETRIES} }}",
        f"{{ timeout: {limits.MAX_TIMEOUT_SECONDS} }}",
        f"{{ delay: {limits.MAX_DELAY_SECONDS} }}",
        f'{{ queue: "{"q" * limits.MAX_NAME_LENGTH}" }}',
    ],
)
def test_values_at_the_limits_are_accepted(options: str) -> None:
    (effect,) = effects_of(f'await Task.run("t", {{}}, {options});')
    assert isinstance(effect, StartTask)


@pytest.mark.parametrize(
    "options",
    [
        f"{{ priority: {limits.MAX_PRIORITY + 1} }}",
        f"{{ priority: {limits.MIN_PRIORITY - 1} }}",
        f"{{ retries: {limits.MAX_RETRIES + 1} }}",
        f"{{ timeout: {limits.MAX_TIMEOUT_SECONDS + 1} }}",
        f"{{ delay: {limits.MAX_DELAY_SECONDS + 1} }}",
        f'{{ queue: "{"q" * (limits.MAX_NAME_LENGTH + 1)}" }}',
    ],
)
def test_values_past_the_limits_fail_the_step_not_the_commit(options: str) -> None:
    step = vm.start(compile_source(f'await Task.run("t", {{}}, {options});'), {}, CTX)
    assert step.status == "failed"
    assert step.error["type"] == "TypeError"
    assert "Task.run" in step.error["message"] and "line 1" in step.error["message"]
    assert step.effects == []


def test_name_problem() -> None:
    assert limits.name_problem("send_email") is None
    assert limits.name_problem("x" * limits.MAX_NAME_LENGTH) is None
    assert (
        limits.name_problem("x" * (limits.MAX_NAME_LENGTH + 1)) == "is longer than 200 characters"
    )
    assert limits.name_problem("  ") == "must be a non-empty string"
    assert limits.name_problem(5) == "must be a non-empty string"


def test_run_workflow_consumes_typed_effects() -> None:
    source = """
    const t = Task.run("echo", { v: 1 }, { delay: 10, retries: 1 });
    await Timer.delay(5);
    const s = await Signal.when("go", { timeout: 100 });
    const c = await Workflow.run("child", { v: 2 });
    return [await t, s, c];
    """
    calls: list[int] = []

    def echo(inputs: dict[str, Any]) -> Any:
        calls.append(inputs["v"])
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")
        return inputs["v"]

    result = run_workflow(
        source,
        tasks={"echo": echo},
        workflows={"child": "return Inputs.v * 10;"},
        signals=[("go", "yes", 30)],
    )
    assert result.status == "completed", result.error
    assert result.output == [1, "yes", 20]
    assert calls == [1, 1]  # retried once, as its options said
    assert result.elapsed == 30
    assert [type(e) for e in result.effects] == [StartTask, StartTimer, WaitSignal, StartWorkflow]


def test_one_version_hash() -> None:
    source = "return 'héllo';\n"
    expected = hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert version_hash(source) == expected
    assert compile_source(source).version_hash == expected


def test_context_version_hash_reads_the_context() -> None:
    wf = compile_source("await Timer.delay(1); return Context.versionHash;")
    step = vm.start(wf, {}, {**CTX, "versionHash": "abc123"})
    done = vm.resume(wf, step.state, {1: {"status": "completed", "output": None}})
    assert done.output == "abc123"  # kept in the state's context across the suspension
    # Without one from the runtime, it is the version of the program being run.
    bare = vm.start(compile_source("return Context.versionHash;"), {}, CTX)
    assert bare.output == version_hash("return Context.versionHash;")
    # run_workflow passes the version of the source it runs.
    assert run_workflow("return Context.versionHash;").output == bare.output


@pytest.mark.parametrize("module", ["vm.py", "snapshot.py", "builtins.py", "compiler.py"])
def test_no_function_level_imports_between_core_modules(module: str) -> None:
    tree = ast.parse((CORE / module).read_text())
    nested = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    nested.append((node.name, inner.lineno))
    assert nested == []


def test_leaf_modules_import_nothing_from_the_vm() -> None:
    for module in ("effects.py", "frames.py", "limits.py", "versions.py"):
        tree = ast.parse((CORE / module).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"rhythm.core.vm", "rhythm.core.builtins", "rhythm.core.snapshot"}
