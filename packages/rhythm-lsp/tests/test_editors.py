"""The server as Neovim 0.7 drives it (its own capabilities, which offer no file watching): files
changed on disk are noticed by the server itself, and a refused rename is a plain LSP error with
nothing alarming in the server's log."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

TASKS = '@task("charge-card")\ndef charge(amount):\n    pass\n'
FLOW = (
    'const receipt = await Task.run("charge-card", {});\nawait Task.run("refund-card", receipt);\n'
)


@pytest.fixture
async def neovim(tmp_path: Path) -> AsyncIterator[tuple[LanguageClient, Path]]:
    (tmp_path / "tasks.py").write_text(TASKS)
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "rhythm.lsp")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim@v0.7.0"),
            root_uri=from_fs_path(str(tmp_path)),
            initialization_options={"watchInterval": 0.2},
        )
    )
    try:
        yield client, tmp_path
    finally:
        await client.shutdown_session()
        await client.stop()


async def diagnostics(
    client: LanguageClient, uri: str, until: object, timeout: float = 15.0
) -> list[types.Diagnostic]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.diagnostics.get(uri)
        if found is not None and until(list(found)):  # type: ignore[operator]
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no matching diagnostics for {uri}: {client.diagnostics.get(uri)}")


def open_flow(client: LanguageClient, root: Path, text: str) -> str:
    uri = from_fs_path(str(root / "order.flow")) or ""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="rhythm", version=1, text=text
            )
        )
    )
    return uri


def unknown_tasks(found: list[types.Diagnostic]) -> set[str]:
    return {d.message.split('"')[1] for d in found if d.code == "RY301"}


async def test_a_task_added_on_disk_is_known_without_a_restart(
    neovim: tuple[LanguageClient, Path],
) -> None:
    client, root = neovim
    uri = open_flow(client, root, FLOW)
    found = await diagnostics(client, uri, lambda d: unknown_tasks(d) == {"refund-card"})
    assert unknown_tasks(found) == {"refund-card"}
    (root / "tasks.py").write_text(TASKS + '\n\n@task("refund-card")\ndef refund(r):\n    pass\n')
    await diagnostics(client, uri, lambda d: not unknown_tasks(d))
    (root / "tasks.py").unlink()  # and a deleted file takes its tasks with it
    await diagnostics(client, uri, lambda d: unknown_tasks(d) == {"charge-card", "refund-card"})


async def test_a_refused_rename_is_a_plain_error_and_logs_nothing(
    neovim: tuple[LanguageClient, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, root = neovim
    uri = open_flow(client, root, FLOW)
    await diagnostics(client, uri, lambda d: True)
    capsys.readouterr()
    with pytest.raises(JsonRpcException, match="keyword") as refused:
        await client.text_document_rename_async(
            types.RenameParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=8),  # `receipt`
                new_name="const",
            )
        )
    assert refused.value.code == -32803  # RequestFailed
    # The server keeps working, and neither its stderr (the editor's LSP log) nor the client's
    # log got a traceback or an error.
    hovered = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=8),
        )
    )
    assert hovered is not None
    await asyncio.sleep(0.3)  # let the server's stderr reach the test
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Failed to handle" not in err, err
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


def change_folders(
    client: LanguageClient, added: Sequence[Path] = (), removed: Sequence[Path] = ()
) -> None:
    def folders(paths: Sequence[Path]) -> list[types.WorkspaceFolder]:
        return [types.WorkspaceFolder(uri=from_fs_path(str(p)) or "", name=p.name) for p in paths]

    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=folders(added), removed=folders(removed))
        )
    )


async def test_workspace_folders_added_later_are_indexed_and_watched(
    neovim: tuple[LanguageClient, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    client, root = neovim
    other = tmp_path_factory.mktemp("billing")  # not under the first folder
    refund = '@task("refund-card")\ndef refund(r):\n    pass\n'
    (other / "tasks.py").write_text(refund)
    uri = open_flow(client, root, FLOW)
    await diagnostics(client, uri, lambda d: unknown_tasks(d) == {"refund-card"})

    change_folders(client, added=[other])  # indexed when added...
    await diagnostics(client, uri, lambda d: not unknown_tasks(d))
    (other / "tasks.py").write_text('@task("void-card")\ndef void(r):\n    pass\n')
    await diagnostics(client, uri, lambda d: unknown_tasks(d) == {"refund-card"})  # ...watched
    (other / "tasks.py").write_text(refund)
    await diagnostics(client, uri, lambda d: not unknown_tasks(d))

    change_folders(client, removed=[other])  # forgotten when removed...
    await diagnostics(client, uri, lambda d: unknown_tasks(d) == {"refund-card"})
    # ...and no longer watched: a pass that notices the change in the first folder (charge-card
    # gone) would have noticed the one made before it in the removed folder too.
    (other / "tasks.py").write_text(refund + '\n\n@task("extra")\ndef extra():\n    pass\n')
    (root / "tasks.py").write_text("")
    found = await diagnostics(client, uri, lambda d: "charge-card" in unknown_tasks(d))
    assert unknown_tasks(found) == {"charge-card", "refund-card"}
