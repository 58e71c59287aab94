"""`rhythm run`, `rhythm start`, `rhythm signal` and `rhythm inspect` driven as a user drives them:
real processes against a real Postgres, on the examples and on small apps written here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RHYTHM = [sys.executable, "-m", "rhythm.client.cli"]
APPROVAL = "examples/approval/flows/expense_approval.flow"


def env_for(url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RHYTHM_DATABASE_URL"}
    if url is not None:
        env["RHYTHM_DATABASE_URL"] = url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def rhythm(
    url: str | None, *args: str, cwd: Path = ROOT, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RHYTHM, *args],
        env=env_for(url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_app(folder: Path, flows: dict[str, str], tasks: str = "") -> Path:
    (folder / "flows").mkdir(parents=True, exist_ok=True)
    for name, source in flows.items():
        (folder / "flows" / f"{name}.flow").write_text(source, encoding="utf-8")
    modules = "[]"
    if tasks:
        (folder / "app_tasks.py").write_text(
            "from rhythm.worker import task\n\n" + tasks, encoding="utf-8"
        )
        modules = '["app_tasks"]'
    (folder / "pyproject.toml").write_text(
        f'[tool.rhythm]\ntasks = {modules}\nworkflows = "flows"\n', encoding="utf-8"
    )
    return folder


def test_run_the_quickstart_shows_each_step_and_prints_the_output(migrated_url: str) -> None:
    flow = "examples/quickstart/flows/onboard_user.flow"
    run = rhythm(migrated_url, "run", flow, "--input", '{"userId": "u-42"}')
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    # Keys in the order the workflow returned them.
    assert list(output) == ["userId", "accountId", "welcomed"]
    assert output["userId"] == "u-42" and output["welcomed"] == "u-42@example.com"
    steps = [line.strip() for line in run.stderr.splitlines()]
    for task_name in ("get-user", "create-billing-account", "send-welcome-email"):
        assert f"▶ task {task_name} started" in steps
        [done] = [s for s in steps if s.startswith(f"✓ task {task_name} completed in ")]
        assert done.endswith("ms") or done.endswith("s")
    order = [s for s in steps if s.startswith("✓ task")]
    assert [s.split()[2] for s in order] == [
        "get-user",
        "create-billing-account",
        "send-welcome-email",
    ]
    assert steps[-1].startswith("✓ workflow onboard_user completed in")
    assert "Traceback" not in run.stderr


def test_a_failed_workflow_exits_1_with_its_error_and_traceback(
    migrated_url: str, tmp_path: Path
) -> None:
    app = write_app(
        tmp_path / "app",
        {"fails": 'const x = await Task.run("explode", { n: 1 })\nreturn x\n'},
        '@task("explode")\ndef explode(inputs):\n    raise ValueError(f"boom {inputs[\'n\']}")\n',
    )
    run = rhythm(migrated_url, "run", str(app / "flows" / "fails.flow"))
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert "✗ task explode failed after" in run.stderr
    assert "✗ workflow fails failed after" in run.stderr
    assert "ValueError: boom 1" in run.stderr
    # The task's traceback is printed as text, one frame per line, not as an escaped string.
    assert 'raise ValueError(f"boom' in run.stderr
    assert "\\n" not in run.stderr


def test_bad_files_and_bad_inputs_are_one_clear_error(migrated_url: str, tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", {"broken": "const x = 1\nx = 2\nreturn Taks\n"})
    run = rhythm(migrated_url, "run", str(app / "flows" / "broken.flow"))
    assert run.returncode == 1
    assert f"{app / 'flows' / 'broken.flow'}:2:1: cannot assign to 'x'" in run.stderr
    assert "broken.flow:3:8: " in run.stderr
    assert "Traceback" not in run.stderr
    with psycopg.connect(migrated_url) as conn:
        assert not conn.execute(
            "SELECT 1 FROM rhythm.workflow_definitions WHERE name = 'broken'"
        ).fetchall()

    good = rhythm(
        migrated_url, "run", "examples/quickstart/flows/onboard_user.flow", "--input", "[1]"
    )
    assert good.returncode == 2
    assert "--input" in good.stderr and "must be a JSON object" in good.stderr
    missing = rhythm(migrated_url, "run", "no/such.flow")
    assert missing.returncode == 1 and "no/such.flow: no such file" in missing.stderr
    bad_app = tmp_path / "bad_app"
    write_app(bad_app, {"ok": "return 1\n"})
    (bad_app / "pyproject.toml").write_text('[tool.rhythm]\ntasks = ["not_a_module"]\n')
    run = rhythm(migrated_url, "run", str(bad_app / "flows" / "ok.flow"))
    assert run.returncode == 1
    assert "cannot import task module 'not_a_module'" in run.stderr


def test_child_workflows_return_their_output_with_keys_in_order(
    migrated_url: str, tmp_path: Path
) -> None:
    app = write_app(
        tmp_path / "app",
        {
            "parent": 'const r = await Workflow.run("child", {})\n'
            "return { keys: Object.keys(r), r }\n",
            "child": "return { zeta: 1, alpha: 2, mid: 3 }\n",
        },
    )
    run = rhythm(migrated_url, "run", str(app / "flows" / "parent.flow"))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "keys": ["zeta", "alpha", "mid"],
        "r": {"zeta": 1, "alpha": 2, "mid": 3},
    }
    assert list(json.loads(run.stdout)["r"]) == ["zeta", "alpha", "mid"]
    assert "▶ workflow child started" in run.stderr


def test_orders_compensates_when_an_item_is_out_of_stock(migrated_url: str) -> None:
    order = {
        "orderId": "o-9",
        "email": "ann@example.com",
        "items": [
            {"sku": "SKU-1", "price": 20, "qty": 1},
            {"sku": "SKU-404", "price": 5, "qty": 1},
        ],
    }
    run = rhythm(
        migrated_url, "run", "examples/orders/flows/order.flow", "--input", json.dumps(order)
    )
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert output["status"] == "refunded" and output["reason"] == "SKU-404 is out of stock"
    assert "✗ workflow pack_item failed after" in run.stderr
    assert "✓ task refund completed" in run.stderr


def run_in_background(url: str, flow: str, inputs: dict) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*RHYTHM, "run", flow, "--input", json.dumps(inputs)],
        env=env_for(url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_status(url: str, name: str, status: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        listed = rhythm(url, "ls", "--type", "workflow", "--name", name, "--json", "--limit", "1")
        assert listed.returncode == 0, listed.stderr
        found = json.loads(listed.stdout)
        if found and found[0]["status"] == status:
            return str(found[0]["id"])
        time.sleep(0.3)
    raise AssertionError(f"no {name} workflow became {status} within {seconds} s")


def test_approval_waits_for_a_signal_sent_from_another_terminal(migrated_url: str) -> None:
    request = {"requestId": "exp-1", "amount": 120, "requester": "sam"}
    running = run_in_background(migrated_url, APPROVAL, request)
    try:
        wid = wait_for_status(migrated_url, "expense_approval", "suspended")

        shown = rhythm(migrated_url, "inspect", wid)
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout
        assert text.splitlines()[0].split() == ["workflow", "expense_approval", "⏸", "suspended"]
        lines = [line.rstrip() for line in text.splitlines()]
        [marked] = [line for line in lines if line.lstrip().startswith("> ")]
        assert marked.split("│", 1)[1].strip() == (
            'decision = await Signal.when("decision", { timeout })'
        )
        assert "waits on: signal 'decision'" in text
        variables = {
            line.split()[0]: line.split(None, 1)[1]
            for line in lines
            if line.startswith("  ")
            and len(line.split()) >= 2
            and line.split()[0] in ("requestId", "amount", "requester", "timeout")
        }
        assert variables == {
            "requestId": '"exp-1"',
            "amount": "120",
            "requester": '"sam"',
            "timeout": '"24h"',
        }
        assert "task ask-for-approval  ✓ completed" in text

        as_json = json.loads(rhythm(migrated_url, "inspect", wid, "--json").stdout)
        wait = as_json["wait"]
        assert (wait["line"], wait["waits_on"]) == (
            11,
            [{"handle": wait["waits_on"][0]["handle"], "kind": "signal", "name": "decision"}],
        )
        assert wait["variables"]["amount"] == 120

        sent = rhythm(
            migrated_url,
            "signal",
            wid,
            "decision",
            "--payload",
            '{"approved": true, "by": "maria"}',
        )
        assert (sent.returncode, sent.stdout.strip()) == (0, f"sent 'decision' to {wid}")
        out, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()
    assert running.returncode == 0, err
    assert json.loads(out)["status"] == "paid"
    assert "⏸ waiting on signal 'decision'" in err
    again = rhythm(migrated_url, "signal", wid, "decision")
    assert again.returncode == 1
    assert "has already finished (completed)" in again.stderr


def test_a_child_workflow_waiting_on_a_signal_is_shown_with_its_id(
    migrated_url: str, tmp_path: Path
) -> None:
    app = write_app(
        tmp_path / "app",
        {
            "outer": 'return await Workflow.run("inner", {})\n',
            "inner": 'const go = await Signal.when("go")\nreturn { got: go }\n',
        },
    )
    running = run_in_background(migrated_url, str(app / "flows" / "outer.flow"), {})
    try:
        inner = wait_for_status(migrated_url, "inner", "suspended")
        sent = rhythm(migrated_url, "signal", inner, "go", "--payload", "7")
        assert sent.returncode == 0, sent.stderr
        out, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()
    assert running.returncode == 0, err
    assert json.loads(out) == {"got": 7}
    assert f"⏸ workflow inner {inner} waiting on signal 'go'  (line 1)" in err


def test_start_and_signal_from_the_command_line(migrated_url: str) -> None:
    registered = rhythm(
        migrated_url,
        "run",
        "examples/quickstart/flows/onboard_user.flow",
        "--input",
        '{"userId": "u-1"}',
    )
    assert registered.returncode == 0, registered.stderr
    started = rhythm(migrated_url, "start", "onboard_user", "--input", '{"userId": "u-2"}')
    assert started.returncode == 0, started.stderr
    wid = started.stdout.strip()
    assert f"rhythm inspect {wid}" in started.stderr
    as_json = json.loads(rhythm(migrated_url, "start", "onboard_user", "--json").stdout)
    assert set(as_json) == {"id", "name"}
    unknown = rhythm(migrated_url, "start", "onbord_user")
    assert unknown.returncode == 1
    assert "no workflow named 'onbord_user' is registered; registered: " in unknown.stderr
    assert "onboard_user" in unknown.stderr
    task_like = rhythm(migrated_url, "signal", "not-an-id", "go")
    assert task_like.returncode == 1 and "not an execution id: 'not-an-id'" in task_like.stderr
    bad_json = rhythm(migrated_url, "start", "onboard_user", "--input", "{nope")
    assert bad_json.returncode == 2 and "not valid JSON" in bad_json.stderr
    # No worker runs here: waiting gives up, and says the workflow is started and keeps running.
    waited = rhythm(
        migrated_url, "start", "onboard_user", "--input", '{"userId": "u-3"}', "--wait", "0.5"
    )
    assert waited.returncode == 1
    assert "did not finish within 0.5 s (status: pending)" in waited.stderr
    assert "it was started and keeps running: rhythm inspect " in waited.stderr
    cancelled = rhythm(migrated_url, "cancel", wid, "--json")
    assert json.loads(cancelled.stdout)["id"] == wid


def test_the_readme_command_on_the_embedded_postgres(tmp_path: Path) -> None:
    """What a fresh clone does: no database configured, so the embedded Postgres under the app's
    .rhythm/ (here a copy of the quickstart, so the repository stays clean)."""
    app = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", app, ignore=shutil.ignore_patterns(".rhythm"))
    run = rhythm(
        None,
        "run",
        str(app / "flows" / "onboard_user.flow"),
        "--input",
        '{"userId": "u-42"}',
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["userId"] == "u-42"
    assert f"embedded Postgres in {app / '.rhythm'}" in run.stderr
    assert (app / ".rhythm" / "pgdata" / "PG_VERSION").is_file()


def test_interrupting_rhythm_run_keeps_the_workflow(migrated_url: str) -> None:
    request = {"requestId": "exp-2", "amount": 1, "requester": "sam"}
    running = run_in_background(migrated_url, APPROVAL, request)
    try:
        wid = wait_for_status(migrated_url, "expense_approval", "suspended")
        running.send_signal(signal.SIGINT)
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()
    assert running.returncode == 130, err
    assert "the workflow keeps its state" in err
    assert "Traceback" not in err
    shown = json.loads(rhythm(migrated_url, "inspect", wid, "--json").stdout)
    assert shown["execution"]["status"] == "suspended"


@pytest.mark.parametrize("flag", ["--help"])
def test_run_and_dev_have_help(flag: str) -> None:
    for command in ("run", "dev", "start", "signal"):
        shown = rhythm(None, command, flag)
        assert shown.returncode == 0 and "Usage: rhythm " in shown.stdout


def test_run_gives_up_after_its_timeout_and_the_workflow_keeps_waiting(migrated_url: str) -> None:
    request = {"requestId": "exp-3", "amount": 1, "requester": "sam"}
    run = rhythm(migrated_url, "run", APPROVAL, "--input", json.dumps(request), "--timeout", "3")
    assert run.returncode == 1
    assert "has not finished after 3s (status suspended); it keeps its state" in run.stderr
    wid = run.stderr.split("rhythm inspect ", 1)[1].split("`", 1)[0]
    shown = json.loads(rhythm(migrated_url, "inspect", wid, "--json").stdout)
    assert shown["execution"]["status"] == "suspended"
    assert shown["wait"]["waits_on"][0]["name"] == "decision"
