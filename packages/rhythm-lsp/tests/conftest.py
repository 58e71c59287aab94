"""Fixtures for the language server's tests: a workspace on disk (a Python tasks file and several
.flow files) and a real `rhythm-lsp` process driven over stdio by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_COMMAND = [sys.executable, "-m", "rhythm.lsp"]

TASKS_PY = '''\
"""Tasks for the test workspace."""

import rhythm.worker
from rhythm.worker import task


@task("send-email", queue="mail")
def send_email(to: str, subject: str = "hello") -> bool:
    """Send one e-mail through the mail provider."""
    return True


@task(name="charge_card")
async def charge(amount: int, currency: str = "EUR") -> dict:
    """Charge a card and return the receipt."""
    return {"id": "r1"}


@rhythm.worker.task
def ship_order(order_id: str) -> str:
    return order_id
'''

BROKEN_PY = "@task('never')\ndef broken(:\n    pass\n"

CHECKOUT_FLOW = """\
const order = Inputs.order;
const customer = Inputs.customer;
let total = 0;
for (const item of order.items) {
  total += item.price;
}
const receipt = await Task.run("charge_card", { amount: total });
await Task.run("send-email", { to: customer.email, subject: "Thanks" });
const approval = await Signal.next("approved");
const report = await Workflow.run("refund", { id: receipt.id });
return { receipt, report, approval };
"""

REFUND_FLOW = """\
const id = Inputs.id;
await Signal.when("refund-approved", { timeout: "24h" });
return await Task.run("ship_order", { id });
"""

REPORT_FLOW = 'const day = Inputs.day;\nreturn await Task.run("send-email", { to: "ops" });\n'


def make_workspace(root: Path) -> Path:
    (root / "tasks.py").write_text(TASKS_PY)
    (root / "broken.py").write_text(BROKEN_PY)
    (root / "checkout.flow").write_text(CHECKOUT_FLOW)
    (root / "refund.flow").write_text(REFUND_FLOW)
    (root / "reports").mkdir()
    (root / "reports" / "daily_report.flow").write_text(REPORT_FLOW)
    (root / ".venv").mkdir()
    (root / ".venv" / "hidden.flow").write_text("return 1\n")
    (root / ".venv" / "lib.py").write_text("@task\ndef hidden_task():\n    pass\n")
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("workspace"))


def uri_of(path: Path) -> str:
    uri = from_fs_path(str(path))
    assert uri is not None
    return uri


def initialize_params(root: Path) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=uri_of(root),
        workspace_folders=[types.WorkspaceFolder(uri=uri_of(root), name="workspace")],
    )


class Session:
    """A pytest-lsp client talking to the real server, with shorthands for the tests."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}
        self.checkout = CHECKOUT_FLOW

    def uri(self, name: str) -> str:
        return uri_of(self.root / name)

    def open(self, name: str, text: str) -> str:
        uri = self.uri(name)
        self.client.diagnostics.pop(uri, None)
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="rhythm", version=1, text=text
                )
            )
        )
        return uri

    def replace(self, uri: str, text: str) -> None:
        """Send the whole new text as one change."""
        self.versions[uri] += 1
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def edit(self, uri: str, start: types.Position, end: types.Position, text: str) -> None:
        """An incremental change replacing [start, end) with `text`."""
        self.versions[uri] += 1
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=end), text=text
                    )
                ],
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    async def diagnostics(
        self,
        uri: str,
        until: Callable[[list[types.Diagnostic]], bool] = lambda _: True,
        timeout: float = 10.0,
    ) -> list[types.Diagnostic]:
        """Wait for diagnostics for `uri` that satisfy `until`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.client.diagnostics.get(uri)
            if found is not None and until(list(found)):
                return list(found)
            await asyncio.sleep(0.01)
        raise AssertionError(
            f"no matching diagnostics for {uri}: {self.client.diagnostics.get(uri)}"
        )

    def doc(self, uri: str) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=uri)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    registrations: list[types.Registration] = []
    lsp_client.registrations = registrations  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    await lsp_client.initialize_session(initialize_params(workspace))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def session(client: LanguageClient, workspace: Path) -> Session:
    return Session(client, workspace)
