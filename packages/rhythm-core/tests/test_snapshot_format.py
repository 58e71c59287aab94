"""The snapshot as a durable format: golden states saved by an earlier rhythm-core resume to the
expected result, and a state is never resumed by a program compiled differently from the one that
saved it (FatalError "IncompatibleSnapshot")."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import opcodes as op
from rhythm.core import snapshot, vm
from rhythm.core.compiler import CompiledWorkflow, compile_source
from rhythm.core.snapshot import program_fingerprint

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_there_are_golden_states() -> None:
    assert len(GOLDEN) >= 3


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_state_resumes_to_the_expected_result(path: Path) -> None:
    golden = load(path)
    wf = compile_source(golden["source"], f"{path.stem}.flow")
    state = golden["state"]
    assert state["fingerprint"] == wf.fingerprint, (
        f"{path.name}: this rhythm-core compiles the workflow to a different program, so states "
        "saved by earlier releases would be refused (IncompatibleSnapshot). If that is intended, "
        "follow the upgrade rule in rhythm.core.snapshot's docstring; never regenerate the file "
        "to make this pass."
    )
    step = None
    for results in golden["after"]:
        step = vm.resume(wf, state, results, golden["context"])
        if step.status != "suspended":
            break
        state = json.loads(json.dumps(step.state))
    assert step is not None
    assert {"status": step.status, "output": step.output} == golden["expected"]


def test_every_compile_of_a_source_has_the_same_fingerprint() -> None:
    source = load(GOLDEN[0])["source"]
    assert compile_source(source).fingerprint == compile_source(source, "other.flow").fingerprint
    assert compile_source(source).fingerprint != compile_source(source + "\n;1;").fingerprint


def differently_compiled(wf: CompiledWorkflow) -> CompiledWorkflow:
    """The same source as a future compiler might emit it: one extra instruction up front."""
    shifted = [(op.CONST, None), (op.POP,)]
    for ins in wf.instructions:
        if ins[0] in (op.JUMP, op.JUMP_IF_FALSE, op.JUMP_IF_TRUE, op.AND_JUMP, op.OR_JUMP):
            ins = (ins[0], ins[1] + 2, *ins[2:])
        shifted.append(ins)
    functions = [replace(f, entry=f.entry + 2 if f.entry else 0) for f in wf.functions]
    return replace(
        wf,
        instructions=shifted,
        functions=functions,
        fingerprint=program_fingerprint(shifted, functions),
    )


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_a_state_from_a_differently_compiled_program_is_refused(path: Path) -> None:
    golden = load(path)
    wf = compile_source(golden["source"])
    other = differently_compiled(wf)
    assert other.version_hash == wf.version_hash and other.fingerprint != wf.fingerprint
    step = vm.resume(other, golden["state"], golden["after"][0], golden["context"])
    assert step.status == "failed" and step.state is None and step.effects == []
    assert step.error["type"] == "IncompatibleSnapshot"
    assert "compiled differently" in step.error["message"]
    # It names the fingerprint the state was saved with and the one of this program.
    assert golden["state"]["fingerprint"][:12] in step.error["message"]
    assert other.fingerprint[:12] in step.error["message"]


def test_a_state_without_a_fingerprint_or_in_an_old_format_is_refused() -> None:
    wf = compile_source("await Timer.delay(1); return 1;")
    state = vm.start(wf, {}, {}).state
    assert state is not None
    no_print = {k: v for k, v in state.items() if k != "fingerprint"}
    assert vm.resume(wf, no_print, {}).error["type"] == "IncompatibleSnapshot"
    old = {**no_print, "format": 1}
    refused = vm.resume(wf, old, {})
    assert refused.error["type"] == "IncompatibleSnapshot"
    assert "snapshot format 1" in refused.error["message"]
    assert vm.resume(wf, state, {1: {"status": "completed", "output": None}}).output == 1


def test_the_state_records_version_hash_fingerprint_and_format() -> None:
    wf = compile_source("await Timer.delay(1);")
    state = vm.start(wf, {}, {}).state
    assert state is not None
    assert state["format"] == snapshot.FORMAT == 2
    assert state["version_hash"] == wf.version_hash
    assert state["fingerprint"] == wf.fingerprint
    assert len(wf.fingerprint) == 64 and int(wf.fingerprint, 16) >= 0


def test_the_fingerprint_names_opcodes_not_their_numbers() -> None:
    wf = compile_source("return 1 + 2;")
    # Renumbering the opcodes (a new opcode inserted before BINARY) leaves the fingerprint alone,
    # because resuming depends on what the instructions mean, which their names say.
    assert program_fingerprint(wf.instructions, wf.functions) == wf.fingerprint
    renamed = dict(op.NAMES)
    binary = next(i for i, n in renamed.items() if n == "BINARY")
    renamed[binary] = "SOMETHING_ELSE"
    try:
        op.NAMES.update(renamed)
        assert program_fingerprint(wf.instructions, wf.functions) != wf.fingerprint
    finally:
        op.NAMES[binary] = "BINARY"
