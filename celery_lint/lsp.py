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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification
from pygls.uris import to_fs_path

from celery_lint import __version__
from celery_lint.config import Config, ConfigError, load_config
from celery_lint.diagnostics import Applicability, Diagnostic, Location, Severity
from celery_lint.discovery import is_lintable, project_root_of, would_discover
from celery_lint.fixes import (
    MAX_PASSES,
    NOQA_KINDS,
    add_noqa,
    fix_pass,
    fixes_by_file,
    line_starts,
    parses,
    text_offset,
)
from celery_lint.registry import get_rule
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
    """Load the project at `root`; a bad configuration is kept as a message, not raised."""
    error = None
    try:
        config = load_config(root)
    except ConfigError as exc:
        config, error = Config(root=root), str(exc)
    return OpenProject(root, config, load_project([root], config), error)


class Linter:
    """The server's state without the protocol: the projects, and linting and fixing buffers."""

    def __init__(self) -> None:
        self.projects: dict[Path, OpenProject] = {}

    def project_for(self, path: Path) -> OpenProject:
        root = project_root_of(path)
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
            diagnostics = fixes_by_file(result.diagnostics, unsafe=False).get(key)
            if source is None or source.text != text or not diagnostics:
                break
            fixed, _ = fix_pass(source, diagnostics)
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


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, but a request whose params do not fit gets an error response (pygls
    would only log it, and the editor would wait for an answer forever)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" not in data or "method" not in data:
                raise
            self._send_response(data["id"], error=error.to_response_error())
            return JsonRPCNotification(method="$/celery-lint/answered", jsonrpc="2.0", params=None)


class CeleryLintServer(LanguageServer):
    """pygls's server with the linter, the pending re-checks and the last results per document."""

    def __init__(self) -> None:
        super().__init__(SOURCE, __version__, protocol_cls=_Protocol)
        self.linter = Linter()
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.results: dict[str, tuple[int | None, RunResult]] = {}  # uri → (version, result)
        self.config_errors: dict[Path, str | None] = {}  # the message shown per project
        self.opened: set[str] = set()  # the documents open, by the URI the editor gave

    def document(self, uri: str) -> Any:
        """The open document at `uri` or None (pygls keeps them by unquoted URI)."""
        return self.workspace.text_documents.get(unquote(uri))

    def _path(self, uri: str) -> Path | None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
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
            if path is not None and project_root_of(path) in roots:
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
                if diagnostic.fix is not None and diagnostic.fix.edits:
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
        path = to_fs_path(uri) if uri.startswith("file:") else None
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
            path = to_fs_path(change.uri) if change.uri.startswith("file:") else None
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
    create_server().start_io()

