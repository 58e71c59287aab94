"""Workflow files: finding, reading and checking .flow files, and storing them (real Postgres)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest

from rhythm.client import (
    AsyncClient,
    Client,
    InvalidInput,
    WorkflowFile,
    WorkflowFileError,
    init,
)
from rhythm.client.workflow_files import load_workflows, store_workflow_definitions

GOOD = 'const user = await Task.run("get-user", { id: Inputs.id })\nreturn user\n'
BAD = 'const x = 1\nx = 2\nawait Taks.run("a", {})\nlet y = (\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT name, version_hash FROM rhythm.workflow_definitions").fetchall()
    return {(r[0], r[1]) for r in rows}


# ---------------------------------------------------------------- no I/O beyond reading files


def test_a_file_is_named_by_its_stem_and_versioned_by_the_hash_of_its_source(
    tmp_path: Path,
) -> None:
    flow = write(tmp_path / "onboard.flow", GOOD)
    [d] = load_workflows(flow)
    assert (d.name, d.version_hash, d.source, d.path) == ("onboard", sha(GOOD), GOOD, flow)
    [same] = load_workflows(str(flow))
    assert same == d


def test_a_folder_is_searched_recursively_in_name_order(tmp_path: Path) -> None:
    write(tmp_path / "flows" / "b.flow", "return 2\n")
    write(tmp_path / "flows" / "nested" / "a.flow", "return 1\n")
    write(tmp_path / "flows" / "notes.txt", "not a workflow")
    found = load_workflows([tmp_path / "flows"])
    assert sorted(d.name for d in found) == ["a", "b"]


def test_workflow_file_gives_another_name(tmp_path: Path) -> None:
    flow = write(tmp_path / "flows" / "onboard.flow", GOOD)
    found = load_workflows(
        [WorkflowFile(name="onboard_user", file_path=str(flow)), tmp_path / "flows"]
    )
    assert [(d.name, d.path) for d in found] == [("onboard_user", flow), ("onboard", flow)]


def test_every_error_of_every_file_is_listed_with_path_line_and_column(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.flow", BAD)
    also = write(tmp_path / "also.flow", "return Inputs.\n")
    write(tmp_path / "fine.flow", GOOD)
    with pytest.raises(WorkflowFileError) as caught:
        load_workflows([tmp_path])
    problems = caught.value.problems
    assert problems[0].startswith(f"{also}:1:")
    assert problems[1:] == [
        f"{bad}:2:1: cannot assign to 'x': it is a constant (declared with const at 1:7); use let",
        f"{bad}:3:7: unknown stdlib object 'Taks': did you mean 'Task'?",
        f"{bad}:4:10: expected ')' to close '(' at 4:9",
    ]
    message = str(caught.value)
    assert message.startswith("workflow files not registered (4 problems):")
    assert all(p in message for p in problems)
    assert "Traceback" not in message


def test_warnings_do_not_refuse_a_file(tmp_path: Path) -> None:
    flow = write(tmp_path / "w.flow", "let unused = 1\nreturn 2\n")
    assert [d.name for d in load_workflows(flow)] == ["w"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda t: t / "missing.flow", "missing.flow: no such file or directory"),
        (lambda t: write(t / "x.txt", "return 1"), "x.txt: workflow files must end in .flow"),
        (lambda t: (t / "empty").mkdir() or t / "empty", "empty: no .flow files in this folder"),
    ],
)
def test_bad_paths_are_named(tmp_path: Path, make, expected: str) -> None:
    with pytest.raises(WorkflowFileError, match=expected.replace(".", r"\.")):
        load_workflows(make(tmp_path))


def test_a_file_that_is_not_utf8_or_holds_nul_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.flow"
    latin.write_bytes(b"return '\xe9t\xe9'\n")
    nul = tmp_path / "nul.flow"
    nul.write_bytes(b"return 1\x00\n")
    with pytest.raises(WorkflowFileError) as caught:
        load_workflows([latin, nul])
    assert caught.value.problems == [
        f"{latin}: not UTF-8 text (invalid continuation byte at byte 8)",
        f"{nul}: contains a NUL character (byte offset 8)",
    ]


def test_two_files_claiming_one_name_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "same.flow", "return 1\n")
    second = write(tmp_path / "b" / "same.flow", "return 2\n")
    with pytest.raises(WorkflowFileError) as caught:
        load_workflows([tmp_path / "a", tmp_path / "b"])
    assert caught.value.problems == [
        f"{second}: the workflow name 'same' is already taken by {first}"
    ]
    # The same file named twice is one workflow, not a clash.
    assert len(load_workflows([first, first, tmp_path / "a"])) == 1


def test_bad_names_and_bad_arguments(tmp_path: Path) -> None:
    flow = write(tmp_path / "ok.flow", "return 1\n")
    with pytest.raises(WorkflowFileError, match="workflow name must be a non-empty string"):
        load_workflows(WorkflowFile(name="  ", file_path=flow))
    with pytest.raises(WorkflowFileError, match=r"is a folder; WorkflowFile names one \.flow file"):
        load_workflows(WorkflowFile(name="x", file_path=tmp_path))
    with pytest.raises(InvalidInput, match="no workflow files given"):
        load_workflows([])
    with pytest.raises(InvalidInput, match=r"each workflow must be a path.*got int 42"):
        load_workflows([flow, 42])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match=r"workflows must be a path.*got int 7"):
        load_workflows(7)  # type: ignore[arg-type]


# ---------------------------------------------------------------- against Postgres


@pytest.fixture(scope="module")
def client(migrated_url: str):
    with Client(migrated_url) as c:
        yield c


def test_register_stores_every_version_once(client: Client, tmp_path: Path) -> None:
    flow = write(tmp_path / "greet.flow", "return 'hello'\n")
    [first] = client.register_workflows(flow)
    client.register_workflows([flow])  # again: nothing new
    write(flow, "return 'hello again'\n")
    [second] = client.register_workflows(tmp_path)
    assert first.version_hash != second.version_hash
    assert {("greet", first.version_hash), ("greet", second.version_hash)} <= stored(
        client.database_url
    )
    with psycopg.connect(client.database_url) as conn:
        sources = conn.execute(
            "SELECT source FROM rhythm.workflow_definitions WHERE name = 'greet' ORDER BY source"
        ).fetchall()
    assert [s[0] for s in sources] == ["return 'hello again'\n", "return 'hello'\n"]


def test_a_bad_file_stores_nothing_of_that_call(client: Client, tmp_path: Path) -> None:
    write(tmp_path / "good_one.flow", "return 1\n")
    write(tmp_path / "broken.flow", BAD)
    before = stored(client.database_url)
    with pytest.raises(WorkflowFileError, match=r"broken\.flow:2:1: cannot assign"):
        client.register_workflows(tmp_path)
    assert stored(client.database_url) == before


def test_store_reports_what_was_new(client: Client, tmp_path: Path) -> None:
    defs = load_workflows([write(tmp_path / "n1.flow", "return 1\n")])
    with psycopg.connect(client.database_url, autocommit=True) as conn:
        assert store_workflow_definitions(conn, defs).fetchall() == [("n1", defs[0].version_hash)]
        assert store_workflow_definitions(conn, defs).fetchall() == []


async def test_async_register_and_store(migrated_url: str, tmp_path: Path) -> None:
    flow = write(tmp_path / "asyncflow.flow", "return 3\n")
    async with AsyncClient(migrated_url) as c:
        [d] = await c.register_workflows([WorkflowFile(name="renamed", file_path=flow)])
        with pytest.raises(WorkflowFileError, match=r"nope\.flow: no such file"):
            await c.register_workflows([flow, tmp_path / "nope.flow"])
    assert ("renamed", sha("return 3\n")) in stored(migrated_url)
    assert d.name == "renamed"


def test_init_takes_paths_folders_and_workflow_files(database_url: str, tmp_path: Path) -> None:
    write(tmp_path / "flows" / "one.flow", "return 1\n")
    other = write(tmp_path / "elsewhere" / "two.flow", "return 2\n")
    with init(
        database_url, workflows=[tmp_path / "flows", WorkflowFile(name="second", file_path=other)]
    ):
        pass
    assert {n for n, _ in stored(database_url)} >= {"one", "second"}
