"""The console in a real browser: Debian's Chromium driven by Playwright (the system browser,
no download) against a real `rhythm console` process, a real Postgres and a real worker. It
opens the executions list, opens a suspended workflow, sees its waiting line and variables,
steps back to an earlier suspension, sends the signal from the form and watches the workflow
complete on the page without a reload; then steps back to its first suspension, restarts it from
there and sees the new execution (linked to the original) resume at that await and run to its
end. Screenshots go to test-output/console-browser/."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rhythm.client import Client

CHROMIUM = shutil.which("chromium")
OUTPUT = Path(os.environ.get("RHYTHM_TEST_OUTPUT", "test-output")) / "console-browser"
FLOW = """\
// Waits for two signals; the console shows where and with which variables.
const order = Inputs.order
let stage = "asked"
const approval = await Signal.next("approve")
stage = "approved by " + approval.by
const shipping = await Signal.next("ship")
return { order, stage, shipping }
"""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flows")
    (folder / "shipment.flow").write_text(FLOW, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def worker(migrated_url: str, flows: Path) -> Iterator[None]:
    from rhythm.worker import Worker

    worker = Worker(database_url=migrated_url, workflows=flows, poll_interval=0.5)
    thread = threading.Thread(target=lambda: asyncio.run(worker.run_async()), daemon=True)
    thread.start()
    yield
    worker.stop(now=True)
    thread.join(15)


@pytest.fixture(scope="module")
def console_url(migrated_url: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rhythm.client.cli",
            "console",
            "--port",
            str(port),
            "--database-url",
            migrated_url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (
                    process.stderr.read().decode() if process.stderr else ""
                )
                assert time.monotonic() < deadline, "the console did not start in 30 s"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_a_workflow_in_the_browser(
    migrated_url: str, flows: Path, worker, console_url: str
) -> None:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with Client(migrated_url) as client:
        client.register_workflows(flows)
        wid = client.workflows.run("shipment", {"order": "A-17"})
        client.signals.send(wid, "approve", {"by": "maria"})
        deadline = time.monotonic() + 20
        while "ship" not in str(client.executions.inspect(wid).to_json()["wait"]):
            assert time.monotonic() < deadline, "the workflow did not reach its second wait"
            time.sleep(0.1)

        profile = tempfile.mkdtemp(prefix="rhythm-chromium-")
        try:
            with sync_playwright() as pw:
                # a fresh profile each run (Playwright passes it as --user-data-dir)
                browser = pw.chromium.launch_persistent_context(
                    profile,
                    executable_path=CHROMIUM,
                    args=FLAGS,
                    headless=True,
                    viewport={"width": 1200, "height": 1400},
                )
                page = browser.new_page()
                page.goto(f"{console_url}/executions")
                row_link = page.locator(f'a[href="/executions/{wid}"]')
                expect(row_link).to_be_visible()
                page.screenshot(path=str(OUTPUT / "1-executions.png"))

                row_link.click()
                expect(page.locator("#status")).to_have_text("suspended")
                expect(page.locator("#waiting-line .ln")).to_have_text("6")
                expect(page.locator("#variables")).to_contain_text('"approved by maria"')
                page.screenshot(path=str(OUTPUT / "2-suspended.png"), full_page=True)

                page.locator("#earlier").click()
                expect(page.locator("#waiting-line .ln")).to_have_text("4")
                expect(page.locator("#variables")).to_contain_text('"asked"')
                page.screenshot(path=str(OUTPUT / "3-earlier.png"), full_page=True)

                page.locator("#now").click()
                expect(page.locator("#waiting-line .ln")).to_have_text("6")
                # from here on no reload: the form posts in the background and the event stream
                # brings the workflow's completion
                page.evaluate("window.__same_page = true")
                page.fill('#signal-form input[name="name"]', "ship")
                page.fill('#signal-form input[name="payload"]', '{"carrier": "post"}')
                page.locator("#signal-form button").click()
                expect(page.locator("#message")).to_contain_text("sent signal 'ship'")
                expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
                expect(page.locator("#output")).to_contain_text('"carrier": "post"')
                assert page.evaluate("window.__same_page") is True
                page.screenshot(path=str(OUTPUT / "4-completed.png"), full_page=True)

                # Back to the first suspension, and restart the workflow from there: a new
                # execution, linked to the original, resumes at that await and runs.
                page.locator("#earlier").click()
                expect(page.locator("#waiting-line .ln")).to_have_text("6")
                page.locator("#earlier").click()
                expect(page.locator("#waiting-line .ln")).to_have_text("4")
                page.locator("#restart-here").click()
                expect(page.locator("#message")).to_contain_text(f"restarted from {wid} at step 1")
                new = page.url.split("/executions/")[1].split("?")[0]
                assert new != wid
                expect(page.locator("#restarted-from")).to_contain_text(f"{wid} at step 1")
                expect(page.locator("#status")).to_have_text("suspended", timeout=20_000)
                expect(page.locator("#waiting-line .ln")).to_have_text("4")
                expect(page.locator("#variables")).to_contain_text('"asked"')
                page.screenshot(path=str(OUTPUT / "5-restarted.png"), full_page=True)
                assert client.executions.get(new).restarted_from == wid

                page.fill('#signal-form input[name="name"]', "approve")
                page.fill('#signal-form input[name="payload"]', '{"by": "lee"}')
                page.locator("#signal-form button").click()
                expect(page.locator("#waiting-line .ln")).to_have_text("6", timeout=20_000)
                expect(page.locator("#variables")).to_contain_text('"approved by lee"')
                page.fill('#signal-form input[name="name"]', "ship")
                page.fill('#signal-form input[name="payload"]', '{"carrier": "van"}')
                page.locator("#signal-form button").click()
                expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
                expect(page.locator("#output")).to_contain_text('"carrier": "van"')
                page.screenshot(path=str(OUTPUT / "6-restart-completed.png"), full_page=True)

                page.goto(f"{console_url}/executions/{wid}")
                expect(page.locator("#restarts")).to_contain_text(new)
                page.screenshot(path=str(OUTPUT / "7-original-with-restart.png"), full_page=True)
                browser.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
