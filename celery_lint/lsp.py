"""The language server (`celery-lint server`): diagnostics and fixes in the editor, as you type.

Each project the editor has a file open in is loaded once (the facts of all its files, the
index); a buffer is re-checked alone against that index, from its unsaved text. A file saved or
changed on disk is read again and every open file of its project re-checked, so a new setting
or model reaches the files that depend on it; a changed pyproject.toml reloads the project.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import re
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, RPCRequest
from pygls.uris import to_fs_path

from celery_lint import __version__
from celery_lint.codes import get_rule
from celery_lint.config import Config, ConfigError, load_config
from celery_lint.diagnostics import Applicability, Diagnostic, Location, Severity
from celery_lint.discovery import PROJECT_MARKERS, is_lintable, project_root_of, would_discover
from celery_lint.fixes import (
    MAX_PASSES,
    NOQA_KINDS,
    add_noqa,
    fix_pass,
    fixes_to_try,
    line_starts,
    parses,
    text_offset,
)
from celery_lint.rules.engine import SYNTAX_ERROR
from celery_lint.runner import Project, RunResult, load_project, recheck, reload_file

DEBOUNCE_SECONDS = 0.3
SOURCE = "celery-lint"
FIX_ALL = types.CodeActionKind.SourceFixAll + ".celery-lint"
PROJECT_FILES = ("pyproject.toml", ".gitignore")  # a change reloads the whole project
WATCHED = ("**/*.py", "**/pyproject.toml", "**/.gitignore", "**/*.{yml,yaml,ini,conf,service,sh}",
           "**/Procfile*", "**/Dockerfile*", "**/*.dockerfile")
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}

logger = logging.getLogger(__name__)


@dataclass
class OpenProject:
    """A project the editor has files open in: its configuration and its files' facts."""

    root: Path
    config: Config
    project: Project
    config_error: str | None = None  # the configuration could not be read: defaults are used


def open_project(root: Path) -> OpenProject:
    """Load the project at `root` (a folder, or a loose file alone); a bad configuration is kept
    as a message, not raised."""
    error = None
    try:
        config = load_config(root)
    except ConfigError as exc:
        config, error = Config(root=root if root.is_dir() else root.parent), str(exc)
    # a loose file is not given to load_project, which reads the folder around a file it is given
    # (for context): the buffer alone is checked
    return OpenProject(root, config, load_project([root] if root.is_dir() else [], config), error)


class Linter:
    """The server's state without the protocol: the projects, and linting and fixing buffers."""

    def __init__(self, folders: Callable[[], list[Path]] | None = None) -> None:
        self.projects: dict[Path, OpenProject] = {}
        self.folders = folders  # the editor's workspace folders; None: not known

    def root_of(self, path: Path) -> Path:
        """The project of the file at `path`: the nearest folder with a project marker
        (manage.py, pyproject.toml, .git…); else the file's folder when it lies in a workspace
        folder (or no workspace is known: a Linter without `folders`); else the file alone. A
        loose file outside the workspace (a download, something in /tmp or the home folder) must
        not make the server read every file in the folder around it."""
        root = project_root_of(path)
        if root != path.absolute().parent or any(
                (root / marker).exists() for marker in PROJECT_MARKERS):
            return root
        if self.folders is None or any(
                folder == root or folder in root.parents for folder in self.folders()):
            return root
        return path.absolute()

    def project_for(self, path: Path) -> OpenProject:
        root = self.root_of(path)
        if root not in self.projects:
            self.projects[root] = open_project(root)
        return self.projects[root]

    def lint(self, path: Path, text: str) -> RunResult:
        """The diagnostics of the buffer `text` of the file at `path`."""
        state = self.project_for(path)
        return recheck(state.project, path, text, state.config)

    def fix_all(self, path: Path, text: str) -> str:
        """`text` with its safe fixes applied, pass after pass, as `--fix` applies them."""
        key = str(path.absolute())
        for _ in range(MAX_PASSES):
            result = self.lint(path, text)
            source = result.sources.get(key)
            if source is None or source.text != text:
                break
            # this buffer's fixes only (a fix that spans files would edit files not open here)
            diagnostics = [d for d in fixes_to_try(result.diagnostics, unsafe=False)
                           if d.fix is not None and d.fix.files(d) == [key]]
            fixed = fix_pass({key: source}, diagnostics)[0].get(key, text)
            if fixed == text or not parses(key, fixed):
                break
            text = fixed
        return text

    def file_changed(self, path: Path) -> list[OpenProject]:
        """Read a file saved, created, changed or deleted on disk again; the projects changed."""
        path = path.absolute()
        changed = []
        for root, state in list(self.projects.items()):
            if path.name in PROJECT_FILES and (path.parent == root or path.parent in root.parents):
                self.projects[root] = open_project(root)
                changed.append(self.projects[root])
            elif path in state.project.loaded or would_discover(path, root, state.config):
                state.project = reload_file(state.project, path, state.config)
                changed.append(state)
        return changed


# -- positions: our 1-based rows and character columns, the client's 0-based code units ------------
def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


class Positions:
    """Converts between our locations and LSP positions in one text."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text, self.encoding, self.starts = text, encoding, line_starts(text)

    def offset_position(self, offset: int) -> types.Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        return types.Position(line, _units(self.text[self.starts[line]:offset], self.encoding))

    def position(self, location: Location) -> types.Position:
        return self.offset_position(text_offset(self.starts, self.text, location))

    def range(self, start: Location, end: Location) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def whole(self) -> types.Range:
        return types.Range(types.Position(0, 0), self.offset_position(len(self.text)))


def to_lsp(diagnostic: Diagnostic, positions: Positions) -> types.Diagnostic:
    rule = get_rule(diagnostic.code)
    data = None
    if diagnostic.fix is not None:
        data = {"fix": {"title": diagnostic.fix.message,
                        "applicability": diagnostic.fix.applicability.value}}
    return types.Diagnostic(
        range=positions.range(diagnostic.location, diagnostic.end_location),
        message=diagnostic.message,
        severity=SEVERITIES[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule.url) if rule else None,
        source=SOURCE,
        data=data,
    )


def _wants(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _overlaps(diagnostic: Diagnostic, lines: types.Range) -> bool:
    return (diagnostic.location.row - 1 <= lines.end.line
            and lines.start.line <= diagnostic.end_location.row - 1)


def fs_path(uri: str) -> str | None:
    """The file a `file:` URI names; None for another scheme or a path no file can have (a
    NUL byte: every file system call would raise ValueError)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return path if path and "\x00" not in path else None


def _request_id(message: Any) -> int | str | None:
    """The id of a message that could not be read as JSON-RPC 2.0, when it has a usable one."""
    msg_id = message.get("id") if isinstance(message, dict) else getattr(message, "id", None)
    return msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, but what pygls leaves unanswered (the editor would wait forever) or
    turns into an "Error in server" message gets the answer LSP and JSON-RPC ask for: a request
    whose params do not fit, Invalid Params; JSON that is not a JSON-RPC 2.0 message, Invalid
    Request; a request before `initialize`, ServerNotInitialized (a notification then is
    dropped); a request after `shutdown`, Invalid Request. A change to a document that is not
    open is ignored, and `exit` without `shutdown` exits with 1."""

    exit_code = 0

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" not in data or "method" not in data:
                raise
            method = data["method"]
            known = method in self.fm.features or method in self.fm.builtin_features
            answer = error if known else JsonRpcMethodNotFound.of(method)
            self._send_response(data["id"], error=answer.to_response_error())
            return JsonRPCNotification(method="$/celery-lint/answered", jsonrpc="2.0", params=None)

    def send_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        """An error response; `msg_id` None is sent as null (pygls would leave the id out)."""
        self._send_data({"jsonrpc": JsonRPCProtocol.VERSION, "id": msg_id,
                         "error": {"code": code, "message": message}})

    def handle_message(self, message: Any) -> None:
        if getattr(message, "jsonrpc", None) != JsonRPCProtocol.VERSION:
            # a list, a number, an object without "jsonrpc": pygls would raise AttributeError
            self.send_error(_request_id(message), types.ErrorCodes.InvalidRequest,
                            "Invalid Request: not a JSON-RPC 2.0 message")
            return
        method = getattr(message, "method", None)
        request = isinstance(message, RPCRequest)
        if method == "$/celery-lint/answered":
            return
        if self._workspace is None and method not in (types.INITIALIZE, types.EXIT):
            if request:
                self.send_error(message.id, types.ErrorCodes.ServerNotInitialized,
                                f"{method}: the server is not initialized yet")
            else:
                logger.warning("celery-lint: %s before initialize: dropped", method)
            return
        if self._shutdown and request:
            self.send_error(message.id, types.ErrorCodes.InvalidRequest,
                            f"{method}: the server is shutting down")
            return
        super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
            self, params: types.DidChangeTextDocumentParams) -> Generator[Any, Any, None]:
        if unquote(params.text_document.uri) not in self.workspace.text_documents:
            logger.warning("celery-lint: %s changed but is not open: ignored",
                           params.text_document.uri)
            return  # pygls would raise KeyError, shown to the user as an error
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        self.exit_code = 0 if self._shutdown else 1
        yield from super().lsp_exit(*args)


_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?\n\Z", re.IGNORECASE)
_NEXT_HEADER = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n", re.IGNORECASE)
_MAX_FRAME = 1 << 30  # a longer one is a broken header (reading it at once: MemoryError)


class _Frames:
    """Standard input as pygls reads it (`readline`, `read`), one whole frame at a time.

    pygls reads the raw stream: after one frame whose header is broken (no Content-Length, one
    that is not a number, too small or too large, lines ended by \\n alone) it takes the body for
    a header line glued to the next header, never finds a header again, and the server answers
    nothing more. Here a frame whose length cannot be read is dropped, and reading resumes at the
    next `Content-Length:` header, even one glued behind the rest of a broken frame; a body that
    runs into the next frame's header (its length too large) is cut there. A body cannot hold a
    header: JSON does not allow a raw line break inside a string.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.ahead = b""  # read, not yet used: the start of the next frame
        self.body: bytes | None = None

    def readline(self) -> bytes:
        """`Content-Length: N` then a blank line, as pygls expects; b"" at the end."""
        if self.body is None:
            self.body = self._frame()
            return b"Content-Length: %d\r\n" % len(self.body) if self.body else b""
        return b"\r\n"

    def read(self, size: int) -> bytes:
        body, self.body = self.body or b"", None
        return body

    def _line(self) -> bytes:
        if b"\n" in self.ahead:
            line, _, self.ahead = self.ahead.partition(b"\n")
            return line + b"\n"
        line, self.ahead = self.ahead + self.stream.readline(), b""
        return line

    def _read(self, size: int) -> bytes:
        chunks, self.ahead = [self.ahead[:size]], self.ahead[size:]
        missing = size - len(chunks[0])
        while missing > 0 and (chunk := self.stream.read(min(missing, 1 << 20))):
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _frame(self) -> bytes:
        length = 0
        while True:
            line = self._line()
            if not line:
                return b""
            header = _LENGTH.search(line)
            if header is not None:
                length = int(header.group(1)) if header.group(1).isdigit() else 0
                length = length if length <= _MAX_FRAME else 0
            elif not line.strip() and length > 0:
                body = self._read(length)
                length = 0
                cut = _NEXT_HEADER.search(body)
                if cut is not None:  # ran into the next frame: leave that one whole
                    self.ahead = body[cut.start():] + self.ahead
                    body = body[:cut.start()]
                if body:
                    return body
            # else another header (Content-Type), a blank line with no usable length before
            # it, or what is left of a broken frame: skipped


class CeleryLintServer(LanguageServer):
    """pygls's server with the linter, the pending re-checks and the last results per document."""

    def __init__(self) -> None:
        super().__init__(SOURCE, __version__, protocol_cls=_Protocol)
        self.linter = Linter(self._folders)
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.results: dict[str, tuple[int | None, RunResult]] = {}  # uri → (version, result)
        self.config_errors: dict[Path, str | None] = {}  # the message shown per project
        self.opened: set[str] = set()  # the documents open, by the URI the editor gave

    def _folders(self) -> list[Path]:
        """The workspace folders (and root) the editor opened, as paths."""
        workspace = self.protocol._workspace  # None before `initialize`
        if workspace is None:
            return []
        uris = [folder.uri for folder in workspace.folders.values()]
        uris += [workspace.root_uri] if workspace.root_uri else []
        paths = [fs_path(uri) for uri in uris]
        return [Path(path).absolute() for path in paths if path]

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A message that could not be read is answered (Parse error) or logged; pygls would
        show it to the user as an "Error in server" message."""
        if source is JsonRpcException:  # from the loop that reads the messages
            if isinstance(error, (ValueError, RecursionError)):  # not JSON; not UTF-8; too deep
                self.protocol.send_error(None, types.ErrorCodes.ParseError,
                                         f"Parse error: {error}")
            else:  # a notification whose params do not fit: there is no one to answer
                logger.warning("celery-lint: a message could not be handled: %r", error)
            return
        super().report_server_error(error, source)

    def document(self, uri: str) -> Any:
        """The open document at `uri` or None (pygls keeps them by unquoted URI)."""
        return self.workspace.text_documents.get(unquote(uri))

    def _path(self, uri: str) -> Path | None:
        path = fs_path(uri)
        return Path(path) if path and is_lintable(Path(path)) else None

    def _announce(self, state: OpenProject) -> None:
        """Show a bad configuration once (again only after it was fixed and broken anew)."""
        if self.config_errors.get(state.root) != state.config_error and state.config_error:
            self.window_show_message(types.ShowMessageParams(
                types.MessageType.Error,
                f"celery-lint: bad configuration, using the defaults: {state.config_error}"))
        self.config_errors[state.root] = state.config_error

    def current(self, uri: str) -> RunResult | None:
        """The result for the document as it is now (linting it if it changed since)."""
        document = self.document(uri)
        path = self._path(uri)
        if document is None or path is None:
            return None
        cached = self.results.get(uri)
        if cached is not None and cached[0] == document.version:
            return cached[1]
        result = self.linter.lint(path, document.source)
        self._announce(self.linter.project_for(path))
        self.results[uri] = (document.version, result)
        return result

    def publish(self, uri: str) -> None:
        document = self.document(uri)
        path = self._path(uri)
        if document is None or path is None:
            return
        try:
            result = self.current(uri)
        except Exception:  # a bug must not stop the server: the editor keeps the old diagnostics
            logger.exception("celery-lint: cannot check %s", uri)
            return
        assert result is not None
        positions = Positions(document.source, self.workspace.position_encoding or "utf-16")
        mine = str(path.absolute())
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri, [to_lsp(d, positions) for d in result.diagnostics if d.path == mine],
            version=document.version))

    def schedule(self, uri: str, delay: float) -> None:
        """Re-check `uri` after `delay` seconds unless it changes again before (debounce)."""
        self.cancel(uri)
        self.pending[uri] = asyncio.ensure_future(self._publish_later(uri, delay))

    def cancel(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

    async def _publish_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self.pending.pop(uri, None)
        self.publish(uri)

    def refresh(self, paths: list[Path]) -> set[str]:
        """Files changed on disk: read them again and re-check the open files of their projects
        (the documents published again)."""
        roots = {state.root for path in paths for state in self.linter.file_changed(path)}
        for state in self.linter.projects.values():
            if state.root in roots:
                self._announce(state)
        published = set()
        for uri in sorted(self.opened):
            path = self._path(uri)
            if path is not None and self.linter.root_of(path) in roots:
                self.results.pop(uri, None)
                self.publish(uri)
                published.add(uri)
        return published

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        result = self.current(uri)
        path = self._path(uri)
        if result is None or path is None:
            return []
        text = self.document(uri).source
        source = result.sources.get(str(path.absolute()))
        positions = Positions(text, self.workspace.position_encoding or "utf-16")
        mine = [d for d in result.diagnostics if d.path == str(path.absolute())]
        only = params.context.only
        actions = []
        if _wants(only, types.CodeActionKind.QuickFix):
            for diagnostic in mine:
                if not _overlaps(diagnostic, params.range):
                    continue
                # a fix that edits other files is left out: the editor's buffers of those
                # files may differ from what was checked (recheck joins none anyway)
                if diagnostic.fix is not None and diagnostic.fix.edits and \
                        diagnostic.fix.files(diagnostic) == [diagnostic.path]:
                    actions.append(self._fix_action(uri, diagnostic, positions, source.newline
                                                    if source else "\n"))
                noqa = self._noqa_action(uri, diagnostic, result, positions)
                if noqa is not None:
                    actions.append(noqa)
        if _wants(only, FIX_ALL) and any(
                d.fix is not None and d.fix.applicability is Applicability.SAFE for d in mine):
            fixed = self.linter.fix_all(path, text)
            if fixed != text:
                edit = types.TextEdit(positions.whole(), fixed)
                actions.append(types.CodeAction(
                    title="celery-lint: apply all safe fixes", kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [edit]})))
        return actions

    @staticmethod
    def _fix_action(uri: str, diagnostic: Diagnostic, positions: Positions,
                    newline: str) -> types.CodeAction:
        assert diagnostic.fix is not None
        unsafe = diagnostic.fix.applicability is Applicability.UNSAFE
        edits = [types.TextEdit(positions.range(e.location, e.end_location),
                                e.content.replace("\n", newline))
                 for e in diagnostic.fix.edits]
        return types.CodeAction(
            title=f"{diagnostic.fix.message}{' (unsafe)' if unsafe else ''}",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[to_lsp(diagnostic, positions)],
            is_preferred=not unsafe,
            edit=types.WorkspaceEdit(changes={uri: edits}))

    @staticmethod
    def _noqa_action(uri: str, diagnostic: Diagnostic, result: RunResult,
                     positions: Positions) -> types.CodeAction | None:
        if diagnostic.code == SYNTAX_ERROR.code or not diagnostic.path.endswith(NOQA_KINDS):
            return None
        source = result.sources.get(diagnostic.path)
        if source is None or source.text != positions.text:
            return None
        fixed = add_noqa(RunResult(diagnostics=[diagnostic], sources={source.path: source}))
        new = fixed.get(source.path)
        if new is None:
            return None
        old = source.text
        start = 0  # one edit: what lies between the common prefix and the common suffix
        while start < min(len(old), len(new)) and old[start] == new[start]:
            start += 1
        end = 0
        while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
            end += 1
        edit = types.TextEdit(
            types.Range(positions.offset_position(start),
                        positions.offset_position(len(old) - end)), new[start:len(new) - end])
        return types.CodeAction(
            title=f"Disable {diagnostic.code} for this line",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[to_lsp(diagnostic, positions)],
            edit=types.WorkspaceEdit(changes={uri: [edit]}))


def create_server() -> CeleryLintServer:
    """A server with every feature registered, ready for `start_io`."""
    server = CeleryLintServer()

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        capabilities = server.client_capabilities.workspace
        watched = capabilities.did_change_watched_files if capabilities else None
        if not (watched and watched.dynamic_registration):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED])
        try:
            await server.client_register_capability_async(types.RegistrationParams([
                types.Registration("celery-lint-watched-files",
                                   types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)]))
        except Exception:  # noqa: BLE001 - saves still refresh the project
            logger.warning("celery-lint: the client did not accept the file watchers")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: types.DidOpenTextDocumentParams) -> None:
        server.opened.add(params.text_document.uri)
        server.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.cancel(uri)
        path = fs_path(uri)
        if uri not in (server.refresh([Path(path)]) if path else set()):
            server.publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.cancel(uri)
        server.opened.discard(uri)
        server.results.pop(uri, None)
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        paths = []
        for change in params.changes:
            path = fs_path(change.uri)
            # a saved open file was read again on didSave
            if path and not (change.type == types.FileChangeType.Changed
                             and change.uri in server.opened):
                paths.append(Path(path))
        if paths:
            server.refresh(paths)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return server.code_actions(params)

    return server


def start() -> None:
    """Serve the editor on stdin and stdout until it exits."""
    server = create_server()
    server.start_io(_Frames(sys.stdin.buffer))  # type: ignore[arg-type]
    if server.protocol.exit_code:
        sys.exit(server.protocol.exit_code)

