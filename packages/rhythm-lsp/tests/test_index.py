"""The workspace index: @task decorator forms, .flow workflows, skipped folders, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rhythm.lsp.index import WorkspaceIndex, scan_python

TASKS = '''
import rhythm.worker
from rhythm import worker
from rhythm.worker import task


@task("send-email", queue="mail")
def send_email(to: str, subject: str = "hi") -> bool:
    """Send one e-mail."""
    return True


@task(name="charge")
async def charge_card(amount: int, *, currency: str = "EUR") -> dict:
    return {}


@task
def plain(x, *args, **kwargs):
    """Bare decorator: the function's name."""


@task()
def called_empty():
    pass


@rhythm.worker.task("dotted")
def dotted_form():
    pass


@worker.task
def attribute_bare():
    pass


@worker.task(queue="q")
def attribute_call():
    pass


@something_else
def not_a_task():
    pass


def undecorated():
    pass
'''


def test_decorator_forms(tmp_path: Path) -> None:
    tasks = {t.name: t for t in scan_python(TASKS, tmp_path / "tasks.py")}
    assert sorted(tasks) == [
        "attribute_bare",
        "attribute_call",
        "called_empty",
        "charge",
        "dotted",
        "plain",
        "send-email",
    ]
    email = tasks["send-email"]
    assert email.function == "send_email"
    assert email.line == 8
    assert email.column == 4 and email.end_column == 4 + len("send_email")
    assert email.docstring == "Send one e-mail."
    assert email.signature == "def send_email(to: str, subject: str = 'hi') -> bool"
    assert email.params == ("to", "subject")
    charge = tasks["charge"]
    assert charge.function == "charge_card"
    assert charge.signature == (
        "async def charge_card(amount: int, *, currency: str = 'EUR') -> dict"
    )
    assert tasks["plain"].signature == "def plain(x, *args, **kwargs)"
    assert tasks["plain"].docstring.startswith("Bare decorator")


def test_python_syntax_error_is_skipped(tmp_path: Path) -> None:
    assert scan_python("def broken(:\n    pass\n@task\n", tmp_path / "bad.py") == []
    assert scan_python("\x00\x00", tmp_path / "nul.py") == []


def test_workspace_scan_and_updates(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASKS)
    (tmp_path / "broken.py").write_text("@task\ndef x(:\n")
    (tmp_path / "orders.flow").write_text('const s = await Signal.next("approved")\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "refund.flow").write_text("return 1\n")
    for skipped in (".venv", "node_modules", ".git", ".rhythm", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "hidden.flow").write_text("return 1\n")
        (tmp_path / skipped / "t.py").write_text("@task\ndef hidden_task(): pass\n")

    index = WorkspaceIndex()
    index.add_root(tmp_path)
    assert index.workflow_names() == ["orders", "refund"]
    assert "hidden_task" not in index.task_names()
    assert "send-email" in index.task_names()
    assert index.signal_names() == ["approved"]
    task = index.task("charge")
    assert task is not None and task.path == tmp_path / "tasks.py"

    # An open buffer's text wins over the disk, and edits are picked up.
    index.update_file(tmp_path / "tasks.py", "@task('renamed')\ndef f():\n    pass\n")
    assert index.task_names() == ["renamed"]
    # A file that stops parsing drops its tasks instead of failing.
    index.update_file(tmp_path / "tasks.py", "@task('renamed'\ndef f(:\n")
    assert index.task_names() == []
    index.update_file(tmp_path / "orders.flow", 'await Signal.when("shipped")\n')
    assert index.signal_names() == ["shipped"]
    index.remove_file(tmp_path / "sub")
    assert index.workflow_names() == ["orders"]
    index.remove_file(tmp_path / "orders.flow")
    assert index.workflow_names() == []
    assert index.workflow("orders") is None


@pytest.mark.parametrize("source", ["", "return (((", "const = ;\n`unterminated", "\ufeff\u0000"])
def test_broken_flow_still_defines_workflow(tmp_path: Path, source: str) -> None:
    index = WorkspaceIndex()
    index.update_file(tmp_path / "odd.flow", source)
    assert index.workflow_names() == ["odd"]


def test_deeply_nested_python_does_not_stop_indexing(tmp_path: Path) -> None:
    # CPython's parser raises MemoryError (not SyntaxError) on this; it used to escape add_root.
    (tmp_path / "a_deep.py").write_text("x = " + "-" * 100_000 + "1\n")
    (tmp_path / "z_tasks.py").write_text("@task\ndef later():\n    pass\n")
    index = WorkspaceIndex()
    index.add_root(tmp_path)
    assert index.task_names() == ["later"]


def test_a_removed_root_takes_its_files_but_not_a_nested_roots(tmp_path: Path) -> None:
    (tmp_path / "billing" / "refunds").mkdir(parents=True)
    (tmp_path / "billing" / "tasks.py").write_text("@task('charge')\ndef f():\n    pass\n")
    (tmp_path / "billing" / "refunds" / "tasks.py").write_text("@task('refund')\ndef g(): pass\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "order.flow").write_text("return 1\n")
    index = WorkspaceIndex()
    for root in ("billing", "billing/refunds", "shop"):
        index.add_root(tmp_path / root)
    index.remove_root(tmp_path / "billing")
    assert index.task_names() == ["refund"]  # still under the nested root
    assert index.workflow_names() == ["order"]
    assert index.roots == [tmp_path / "billing" / "refunds", tmp_path / "shop"]
    index.remove_root(tmp_path / "billing")  # twice: nothing more
    index.remove_root(tmp_path / "billing" / "refunds")
    assert index.task_names() == []
