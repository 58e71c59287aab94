"""The pygls server: one small handler per LSP feature. Each handler converts positions, asks a
plain module (completion, hover, navigation, ...) for the answer and converts it back. Every handler
is guarded: an exception is logged and answered with an empty result, never a dead server.

Diagnostics after an edit (`TypingDebounce`, rhythm.lsp.debounce): an edit that follows a pause is
checked after a short wait (`diagnosticsFirstDelay`, 15 ms), just long enough for a second
keystroke to arrive; an edit that comes less than `diagnosticsDelay` (50 ms) after the previous one
is part of a typing burst, checked once, that long after the burst's last edit. A check that a
newer edit supersedes is abandoned and never published: each check carries the document's
generation (bumped by every change) and stops when it no longer matches. The client's messages
are read on the event loop (rhythm.lsp.stdio), so edits that arrived together are all seen before
a timer set by the first of them can fire.

Analyses: the document is re-analysed by rhythm.core.incremental on the event loop when the edit
allows it (a few milliseconds), else from scratch in a worker thread, abandoned when a newer edit
arrives. Completion, hover, signature help, document symbols and semantic tokens never wait for
it: they answer from the newest ready analysis, seen through the edits made since
(`DocumentStore.view`).

Files changed on disk: reported by the client when it offers `workspace/didChangeWatchedFiles`,
else noticed by listing the workspace folders every `watchInterval` seconds (rhythm.lsp.watcher),
the folders the client adds or removes later included."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lsprotocol import types
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from rhythm.core.incremental import Abandoned
from rhythm.lsp.code_actions import quick_fixes
from rhythm.lsp.completion import completions
from rhythm.lsp.debounce import FIRST_SECONDS, QUIET_SECONDS, TypingDebounce
from rhythm.lsp.diagnostics import to_lsp
from rhythm.lsp.document import Document, DocumentStore, analyse
from rhythm.lsp.folding import folding_ranges
from rhythm.lsp.formatting import format_edits
from rhythm.lsp.hover import hover
from rhythm.lsp.index import WorkspaceIndex, is_skipped
from rhythm.lsp.navigation import (
    RenameError,
    definition,
    prepare_rename,
    references,
    rename_edits,
)
from rhythm.lsp.outline import document_symbols
from rhythm.lsp.safety import Refused, Unavailable, guarded, quiet_refusals, report_error
from rhythm.lsp.signature import signature_help
from rhythm.lsp.stdio import stdin_reader
from rhythm.lsp.textsync import LspWorkspace, encoding_name
from rhythm.lsp.tokens import TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens
from rhythm.lsp.watcher import WATCH_SECONDS, Snapshot, changes, snapshot
from rhythm.lsp.workspace_checks import workspace_diagnostics

log = logging.getLogger("rhythm.lsp")


def _version() -> str:
    try:
        return version("rhythm-lsp")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def _is_flow(uri: str) -> bool:
    """Open documents are .flow files (also unsaved `untitled:` ones), except Python files,
    which are opened only to keep the task index current."""
    return not uri.endswith((".py", ".pyi"))


class RhythmLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            name="rhythm-lsp",
            version=_version(),
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.index = WorkspaceIndex()
        self.documents = DocumentStore()
        self.debounce = TypingDebounce()
        self.watch_seconds = WATCH_SECONDS
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._generation: dict[str, int] = {}  # bumped by every change: stale work stops
        self._tasks: set[asyncio.Future[None]] = set()
        self._watching: asyncio.Task[None] | None = None
        self._listed: dict[Path, Snapshot] = {}  # each watched root's files, as last listed

    # ------------------------------------------------------------ documents

    def open_document(self, uri: str) -> TextDocument | None:
        """The open document `uri` names. pygls keys its documents by the percent-decoded URI,
        so `file:///a%20b.flow` and `file:///a b.flow` are the same document."""
        return self.workspace.text_documents.get(unquote(uri))

    def open_uris(self) -> list[str]:
        """The URIs of the open documents, spelled as the client spelled them when opening."""
        return [document.uri for document in self.workspace.text_documents.values()]

    def _source(self, uri: str) -> str:
        text_document = self.open_document(uri)
        if text_document is None:
            text_document = self.workspace.get_text_document(uri)
        try:
            return text_document.source
        except (OSError, ValueError) as error:
            raise Unavailable(f"{uri} is not open and cannot be read: {error}") from error

    def document(self, uri: str) -> Document:
        """The analysis of `uri`'s current text: the open buffer, else the file on disk (a
        request for a document that was never opened); `Unavailable` when there is neither.
        Analyses now if the newest analysis is older than the text."""
        return self.documents.get(uri, self._source(uri), self.position_encoding())

    def view(self, uri: str) -> Document:
        """`uri`'s current text over its newest ready analysis: what the features that must
        answer at once use. Analyses only when there is no analysis of it yet."""
        return self.documents.view(uri, self._source(uri), self.position_encoding())

    def changed(self, uri: str) -> None:
        """`uri`'s text changed (or it closed): work on an older text is stale."""
        self._generation[uri] = self._generation.get(uri, 0) + 1

    def position_encoding(self) -> str:
        """The negotiated position encoding's name: "utf-16" (the default), "utf-8" or "utf-32"."""
        return encoding_name(self.workspace.position_encoding)

    def index_open_document(self, uri: str) -> None:
        path = _path(uri)
        text_document = self.open_document(uri)
        if path is not None and path.suffix in (".flow", ".py") and text_document is not None:
            self.index.update_file(path, text_document.source)

    def publish_diagnostics(self, uri: str) -> None:
        """Analyse `uri`'s current text (see `refresh`) and publish its diagnostics."""
        self._pending.pop(uri, None)
        if not _is_flow(uri) or self.open_document(uri) is None:
            return
        task = asyncio.ensure_future(self.refresh(uri, self._generation.get(uri, 0)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def superseded(self, uri: str, generation: int) -> bool:
        """Whether `uri` changed (or closed) since `generation`."""
        return self._generation.get(uri, 0) != generation

    async def refresh(self, uri: str, generation: int) -> None:
        """Bring `uri`'s analysis up to date, then publish its diagnostics, unless the text
        changes after `generation`: then the check is abandoned and nothing is published (the
        change scheduled its own). An edit that can be re-read incrementally is, here on the
        event loop; otherwise the text is analysed in a worker thread, and that work stops when
        a newer edit arrives meanwhile."""
        text_document = self.open_document(uri)
        if text_document is None or self.superseded(uri, generation):
            return
        text = text_document.source
        version = text_document.version
        encoding = self.position_encoding()
        try:
            ready = self.documents.ready(uri)
            document: Document | None = None
            if not self.documents.incremental:
                document = self.documents.get(uri, text, encoding)
            elif ready is not None and ready.lines.encoding == encoding:
                if ready.text == text:
                    document = ready
                else:
                    document = analyse(uri, text, encoding, ready, fallback=False)
            if document is None:

                def superseded() -> bool:
                    return self.superseded(uri, generation)

                try:
                    document = await asyncio.to_thread(
                        analyse, uri, text, encoding, None, superseded
                    )
                except Abandoned:
                    log.debug("analysis of %s abandoned for a newer edit", uri)
                    return
                assert document is not None
                if self.open_document(uri) is None or self.documents.ready(uri) is not ready:
                    return  # closed meanwhile, or a newer analysis landed
                # (Edited meanwhile: still the newest analysis, for views and the next edit.)
            if document is not ready:
                self.documents.put(document)
                log.debug("analysed %s in %.1f ms", uri, document.seconds * 1000)
        except Exception as error:
            report_error(self, f"analysis of {uri}", error)
            return
        # Edits the client sent while this analysis ran may be waiting to be read: read them
        # (two turns of the event loop: one receives the bytes, one handles the messages), so a
        # check that an edit already supersedes is not published.
        for _ in range(2):
            await asyncio.sleep(0)
        if self.superseded(uri, generation) or self.open_document(uri) is None:
            log.debug("check of %s version %s abandoned for a newer edit", uri, version)
            return
        self.send_diagnostics(uri, document, version)

    def send_diagnostics(self, uri: str, document: Document, version: int | None) -> None:
        try:
            path = _path(uri)
            if (
                path is not None
                and path.suffix == ".flow"
                and not is_skipped(path, self.index.roots)
            ):
                signals = {c.name for c in document.named_calls if c.kind == "signal" and c.name}
                self.index.set_flow(path, signals)
            found = document.diagnostics + workspace_diagnostics(
                document.text, document.named_calls, self.index
            )
            converted = [to_lsp(d, document.lines) for d in found]
        except Exception as error:
            report_error(self, f"diagnostics for {uri}", error)
            converted = []
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=converted, version=version)
        )

    def cancel_pending(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()

    def schedule_diagnostics(self, uri: str, delay: float | None = None) -> None:
        """Publish diagnostics after `delay` seconds (by default the quiet period that ends a
        burst of typing), replacing a check already scheduled."""
        self.cancel_pending(uri)
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(
            self.debounce.quiet if delay is None else delay, self.publish_diagnostics, uri
        )

    def edited(self, uri: str) -> None:
        """The client changed `uri`'s text: stale work stops, and a check is scheduled after a
        short wait after a pause, or at the end of the typing burst (rhythm.lsp.debounce)."""
        self.changed(uri)
        self.schedule_diagnostics(uri, self.debounce.delay(uri, time.monotonic()))

    def refresh_all_diagnostics(self) -> None:
        """The workspace changed: re-check every open .flow document."""
        for uri in self.open_uris():
            if _is_flow(uri):
                self.schedule_diagnostics(uri)

    def apply_file_changes(self, found: list[tuple[str, bool]]) -> None:
        """Files changed on disk (`(uri, deleted)`): update the index, re-check open documents."""
        for uri, deleted in found:
            path = _path(uri)
            if path is None or is_skipped(path, self.index.roots):
                continue
            if deleted:
                self.index.remove_file(path)
            elif self.open_document(uri) is not None:
                self.index_open_document(uri)  # the editor's buffer is newer than the disk
            else:
                self.index.update_file(path)
        self.refresh_all_diagnostics()

    def start_watching(self) -> None:
        """List the workspace's files every `watch_seconds`: the client watches nothing."""
        for root in self.index.roots:
            if root not in self._listed:
                self.list_root(root)
        self._watching = asyncio.ensure_future(self._watch())

    def list_root(self, root: Path) -> None:
        """Record what `root` holds now: a change made after this is noticed by the next pass."""
        self._listed[root.absolute()] = snapshot([root])

    def stop_watching(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            self._watching = None

    async def _watch(self) -> None:
        """Each pass lists the index's roots as they are now, those the client added since
        start-up included (`change_folders` lists a root before indexing it)."""
        while True:
            await asyncio.sleep(self.watch_seconds)
            found = []
            for root in list(self.index.roots):
                try:
                    after = await asyncio.to_thread(snapshot, [root])
                except Exception as error:  # an unreadable folder must not end the watching
                    log.warning("could not list the workspace folder %s: %s", root, error)
                    continue
                if root not in self.index.roots:
                    continue  # removed while it was being listed
                before = self._listed.get(root)
                if before is not None:
                    found += changes(before, after)
                self._listed[root] = after
            if found:
                log.info("files changed on disk: %s", ", ".join(str(c.path) for c in found))
                self.apply_file_changes(
                    [(from_fs_path(str(c.path)) or "", c.deleted) for c in found]
                )

    def workspace_roots(self) -> list[Path]:
        roots: list[Path] = []
        for folder in self.workspace.folders.values():
            path = _path(folder.uri)
            if path is not None:
                roots.append(path)
        if not roots and self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        return roots

    def change_folders(self, added: list[Path], removed: list[Path]) -> None:
        """The client added or removed workspace folders: index (and, when the server watches
        files itself, watch) the added ones, forget the removed ones, re-check open documents."""
        for root in removed:
            self.index.remove_root(root)
            self._listed.pop(root.absolute(), None)
        for root in added:
            if self._watching is not None and root.absolute() not in self.index.roots:
                self.list_root(root)  # first: a change made while indexing is noticed too
            self.index.add_root(root)
        if removed:
            for uri in self.open_uris():  # an open buffer stays known while it is open
                self.index_open_document(uri)
        log.info("workspace folders now: %s", ", ".join(str(r) for r in self.index.roots))
        self.refresh_all_diagnostics()

    # ------------------------------------------------------------ transport

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve LSP on stdin/stdout, reading stdin on the event loop (rhythm.lsp.stdio)."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve_io(stdin or sys.stdin.buffer))
        except BrokenPipeError:
            log.error("the connection to the client is lost: shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    async def _serve_io(self, stdin: BinaryIO) -> None:
        assert self._stop_event is not None
        reader = await stdin_reader(stdin, StdinAsyncReader(stdin, self.thread_pool))
        await run_async(
            stop_event=self._stop_event,
            reader=reader,
            protocol=self.protocol,
            logger=log,
            error_handler=self.report_server_error,
        )


server = RhythmLanguageServer()


# ---------------------------------------------------------------- lifecycle and sync


@server.feature(types.INITIALIZE)
@guarded()
def initialize(ls: RhythmLanguageServer, params: types.InitializeParams) -> None:
    """Read initializationOptions (docs/editor.md): `diagnosticsDelay` (the quiet period that
    ends a burst of typing), `diagnosticsFirstDelay` (the wait after an edit that follows a
    pause), `incremental`, `watchInterval`."""
    if not isinstance(ls.workspace, LspWorkspace):
        # pygls has just made the workspace; no document is open yet. Its documents must apply
        # edits by LSP's line breaks (see textsync), which is all the subclass changes.
        ls.workspace.__class__ = LspWorkspace
    quiet_refusals()
    options = params.initialization_options
    if isinstance(options, dict):
        quiet = _seconds(options, "diagnosticsDelay", QUIET_SECONDS)
        first = _seconds(options, "diagnosticsFirstDelay", FIRST_SECONDS)
        # A first delay longer than the quiet period would make a pause slower than typing.
        ls.debounce = TypingDebounce(quiet=quiet, first=min(first, quiet))
    if isinstance(options, dict) and options.get("incremental") is False:
        log.info("incremental analysis is off: every edit is analysed from scratch")
        ls.documents.incremental = False
    if isinstance(options, dict) and "watchInterval" in options:
        every = options["watchInterval"]
        if isinstance(every, int | float) and not isinstance(every, bool) and 0.05 <= every <= 600:
            ls.watch_seconds = float(every)
        else:
            log.warning("ignoring watchInterval=%r: expected seconds between 0.05 and 600", every)


def _seconds(options: dict[str, object], name: str, default: float) -> float:
    """The option `name` in seconds (0 to 10), else `default` with a warning in the log."""
    if name not in options:
        return default
    value = options[name]
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 10:
        return float(value)
    log.warning("ignoring %s=%r: expected seconds between 0 and 10", name, value)
    return default


@server.feature(types.INITIALIZED)
@guarded()
def initialized(ls: RhythmLanguageServer, params: types.InitializedParams) -> None:
    roots = ls.workspace_roots()
    watch = ls.client_capabilities.workspace
    dynamic = watch and watch.did_change_watched_files
    watch_myself = not (dynamic and dynamic.dynamic_registration)
    for root in roots:
        if watch_myself:
            ls.list_root(root)  # before indexing: a change made while indexing is noticed too
        ls.index.add_root(root)
    log.info("indexed %d files", len(ls.index.files()))
    if watch_myself:
        # The client will not tell us about files changed on disk (Neovim on Linux, 0.7):
        # notice them ourselves, so a task added to tasks.py is known without a restart.
        log.info(
            "the client does not watch files: listing the workspace every %ss", ls.watch_seconds
        )
        ls.start_watching()
    else:
        ls.client_register_capability(
            types.RegistrationParams(
                registrations=[
                    types.Registration(
                        id="rhythm-watch-files",
                        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=types.DidChangeWatchedFilesRegistrationOptions(
                            watchers=[
                                types.FileSystemWatcher(glob_pattern="**/*.flow"),
                                types.FileSystemWatcher(glob_pattern="**/*.py"),
                            ]
                        ),
                    )
                ]
            )
        )


@server.feature(types.SHUTDOWN)
@guarded()
def shutdown(ls: RhythmLanguageServer, params: None) -> None:
    ls.stop_watching()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded()
def did_open(ls: RhythmLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _is_flow(uri):
        ls.changed(uri)
        ls.cancel_pending(uri)
        ls.publish_diagnostics(uri)  # at once; also records the document in the index
    else:
        ls.index_open_document(uri)
        ls.refresh_all_diagnostics()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded()
def did_change(ls: RhythmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _is_flow(uri):
        ls.edited(uri)  # debounced; the check also refreshes the document's index entry
    else:
        ls.index_open_document(uri)
        ls.refresh_all_diagnostics()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded()
def did_save(ls: RhythmLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.index_open_document(params.text_document.uri)
    ls.refresh_all_diagnostics()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded()
def did_close(ls: RhythmLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.changed(uri)
    ls.cancel_pending(uri)
    ls.debounce.forget(uri)
    ls.documents.forget(uri)
    path = _path(uri)
    if path is not None:
        ls.index.update_file(path)  # back to what is on disk
    if _is_flow(uri):
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
    else:
        ls.refresh_all_diagnostics()  # the tasks on disk may differ from the closed buffer


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded()
def did_change_watched_files(
    ls: RhythmLanguageServer, params: types.DidChangeWatchedFilesParams
) -> None:
    ls.apply_file_changes([(c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes])


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
@guarded()
def did_change_workspace_folders(
    ls: RhythmLanguageServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    def paths(folders: list[types.WorkspaceFolder]) -> list[Path]:
        return [p for p in (_path(f.uri) for f in folders) if p is not None]

    ls.change_folders(paths(params.event.added), paths(params.event.removed))


# ---------------------------------------------------------------- language features


def _offset(document: Document, position: types.Position) -> int:
    return document.lines.offset(position)


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[".", '"', "'"]),
)
@guarded(lambda: [])
def completion(
    ls: RhythmLanguageServer, params: types.CompletionParams
) -> list[types.CompletionItem]:
    document = ls.view(params.text_document.uri)
    return completions(document, _offset(document, params.position), ls.index)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded()
def on_hover(ls: RhythmLanguageServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.view(params.text_document.uri)
    return hover(document, _offset(document, params.position), ls.index)


@server.feature(
    types.TEXT_DOCUMENT_SIGNATURE_HELP,
    types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[","]),
)
@guarded()
def on_signature_help(
    ls: RhythmLanguageServer, params: types.SignatureHelpParams
) -> types.SignatureHelp | None:
    document = ls.view(params.text_document.uri)
    return signature_help(document, _offset(document, params.position))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded(lambda: [])
def on_definition(ls: RhythmLanguageServer, params: types.DefinitionParams) -> list[types.Location]:
    document = ls.document(params.text_document.uri)
    return definition(document, _offset(document, params.position), ls.index)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded(lambda: [])
def on_references(ls: RhythmLanguageServer, params: types.ReferenceParams) -> list[types.Location]:
    document = ls.document(params.text_document.uri)
    found = references(
        document, _offset(document, params.position), params.context.include_declaration
    )
    return [types.Location(uri=document.uri, range=r) for r in found]


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded()
def on_prepare_rename(
    ls: RhythmLanguageServer, params: types.PrepareRenameParams
) -> types.Range | None:
    document = ls.document(params.text_document.uri)
    try:
        return prepare_rename(document, _offset(document, params.position))
    except RenameError as error:
        raise Refused(str(error)) from None


@server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
@guarded()
def on_rename(ls: RhythmLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    document = ls.document(params.text_document.uri)
    try:
        edits = rename_edits(document, _offset(document, params.position), params.new_name)
    except RenameError as error:
        raise Refused(str(error)) from None
    return types.WorkspaceEdit(changes={document.uri: edits})


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded(lambda: [])
def on_document_symbol(
    ls: RhythmLanguageServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    document = ls.view(params.text_document.uri)
    return document_symbols(document.program, document.span_lines())


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
@guarded(lambda: [])
def on_folding_range(
    ls: RhythmLanguageServer, params: types.FoldingRangeParams
) -> list[types.FoldingRange]:
    document = ls.document(params.text_document.uri)
    return folding_ranges(document.program, document.lines)


@server.feature(
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS),
)
@guarded(lambda: types.SemanticTokens(data=[]))
def on_semantic_tokens(
    ls: RhythmLanguageServer, params: types.SemanticTokensParams
) -> types.SemanticTokens:
    document = ls.view(params.text_document.uri)
    return types.SemanticTokens(data=semantic_tokens(document))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded(lambda: [])
def on_formatting(
    ls: RhythmLanguageServer, params: types.DocumentFormattingParams
) -> list[types.TextEdit]:
    document = ls.document(params.text_document.uri)
    return format_edits(document.text, document.diagnostics, document.lines)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
@guarded(lambda: [])
def on_code_action(
    ls: RhythmLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    document = ls.document(params.text_document.uri)
    found = document.diagnostics + workspace_diagnostics(
        document.text, document.named_calls, ls.index
    )
    return quick_fixes(document.uri, found, document.lines, params.range)


# ---------------------------------------------------------------- entry points


def run(log_level: str = "warning") -> None:
    """Serve LSP on stdin/stdout until the client says exit. Logs go to stderr."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    server.start_io()


def main() -> None:
    """The `rhythm-lsp` console script."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="rhythm-lsp", description="The Rhythm .flow language server (LSP over stdio)."
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--version", action="version", version=f"rhythm-lsp {_version()}")
    args = parser.parse_args()
    run(args.log_level)
