"""`celery-lint server` driven as an editor drives it: a real LSP client over stdio (pytest-lsp)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import pytest
import pytest_lsp
from helpers import CELERY_APP, MODELS, write_project
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "celery_lint", "server"])
URL = "https://celery-lint.readthedocs.io/en/latest/rules/{}/"

TASKS = """
    from celery import shared_task


    @shared_task
    def process_order(order_id, note=None):
        pass
"""

# the emoji is two UTF-16 code units: the range of `order` after it moves by two
SERVICES = """\
from shop.models import Order
from shop.tasks import process_order


def run():
    order = Order.objects.get(pk=1)
    label = "😀"; process_order.delay(order)
"""

RETRYING = """\
from celery import shared_task


@shared_task(bind=True, max_retries=3, time_limit=60)
def sync_stock(self, code):
    try:
        return code
    except ConnectionError as exc:
        self.retry(exc=exc)
        code = None
"""

NO_LIMITS_SETTINGS = 'CELERY_BROKER_URL = "redis://localhost:6379/0"\n'
PROJECT = {**CELERY_APP, "proj/settings.py": NO_LIMITS_SETTINGS, "shop/models.py": MODELS,
           "shop/tasks.py": TASKS}


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path: Path):
    write_project(tmp_path, PROJECT)
    lsp_client.registrations = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        lsp_client.registrations += params.registrations  # type: ignore[attr-defined]

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=from_fs_path(str(tmp_path)),
        workspace_folders=[types.WorkspaceFolder(from_fs_path(str(tmp_path)), "project")]))
    yield
    await lsp_client.shutdown_session()


# -- what an editor does -----------------------------------------------------------------------

def uri_of(path: Path) -> str:
    return from_fs_path(str(path))  # type: ignore[return-value]


async def published(client: LanguageClient, uri: str, timeout: float = 20
                    ) -> Sequence[types.Diagnostic]:
    """The next diagnostics published for `uri` (call `forget` before the action)."""
    async def arrived() -> Sequence[types.Diagnostic]:
        while uri not in client.diagnostics:
            await asyncio.sleep(0.02)
        return client.diagnostics[uri]
    return await asyncio.wait_for(arrived(), timeout)


def forget(client: LanguageClient, uri: str) -> None:
    client.diagnostics.pop(uri, None)


async def open_file(client: LanguageClient, path: Path, text: str | None = None
                    ) -> Sequence[types.Diagnostic]:
    uri = uri_of(path)
    if text is None:
        text = path.read_text(encoding="utf-8")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    forget(client, uri)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python" if path.suffix == ".py" else "yaml", 1, text)))
    return await published(client, uri)


def change(client: LanguageClient, path: Path, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, uri_of(path)),
        [types.TextDocumentContentChangeWholeDocument(text)]))


def save(client: LanguageClient, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri_of(path))))


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def apply(text: str, edits: Sequence[types.TextEdit]) -> str:
    """`text` with LSP edits applied (positions in UTF-16 code units, from the end)."""
    lines = text.splitlines(keepends=True) + [""]

    def offset(position: types.Position) -> int:
        before = sum(len(line) for line in lines[:position.line])
        line = lines[position.line].encode("utf-16-le")[:position.character * 2]
        return before + len(line.decode("utf-16-le"))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def actions(client: LanguageClient, path: Path, line: int,
                  only: list[str] | None = None) -> list[types.CodeAction]:
    found = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri_of(path)),
        types.Range(types.Position(line, 0), types.Position(line, 0)),
        types.CodeActionContext(diagnostics=[], only=only))), 20)
    return [a for a in found or () if isinstance(a, types.CodeAction)]


async def raw_request(client: LanguageClient, method: str, params: object) -> object:
    """Send a request as written, untyped (pygls's client would refuse malformed params)."""
    future: Future[object] = Future()
    client.protocol._request_futures["raw"] = future
    client.protocol._result_types["raw"] = None
    client.protocol._send_data({"jsonrpc": "2.0", "id": "raw", "method": method, "params": params})
    return await asyncio.wrap_future(future)


# -- diagnostics -------------------------------------------------------------------------------

async def test_open_publishes_diagnostics_with_range_code_and_link(client: LanguageClient,
                                                                   tmp_path: Path) -> None:
    diagnostics = await open_file(client, tmp_path / "shop/services.py", SERVICES)
    assert codes(diagnostics) == ["CEL101"]
    found = diagnostics[0]
    start = SERVICES.splitlines()[6].index("order)")
    assert found.range == types.Range(types.Position(6, start + 1), types.Position(6, start + 6))
    assert found.severity == types.DiagnosticSeverity.Warning
    assert found.source == "celery-lint"
    assert found.code_description is not None
    assert found.code_description.href == URL.format("CEL101")
    assert found.data == {"fix": {"title": "Pass `order.pk`", "applicability": "unsafe"}}


async def test_change_is_checked_from_the_unsaved_buffer(client: LanguageClient,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    forget(client, uri_of(path))
    change(client, path, 2, SERVICES.replace("delay(order)", "delay(order.pk)"))
    assert list(await published(client, uri_of(path))) == []
    assert "order.pk" not in path.read_text(encoding="utf-8")  # the disk was not touched


async def test_changes_in_a_burst_are_checked_once_at_the_latest_version(
        client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    forget(client, uri_of(path))
    change(client, path, 2, SERVICES.replace("delay(order)", "delay(order.pk)"))
    change(client, path, 3, SERVICES + "\n\ndef again(order):\n    process_order.delay(order)\n")
    diagnostics = await published(client, uri_of(path))
    assert codes(diagnostics) == ["CEL101"]
    assert diagnostics[0].range.start.line == 6  # version 3: version 2 was never published
    await asyncio.sleep(0.5)
    assert codes(client.diagnostics[uri_of(path)]) == ["CEL101"]


async def test_save_publishes_again(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    forget(client, uri_of(path))
    save(client, path, SERVICES)
    assert codes(await published(client, uri_of(path))) == ["CEL101"]


async def test_buffer_that_does_not_parse_gives_cel001(client: LanguageClient,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    forget(client, uri_of(path))
    change(client, path, 2, SERVICES.replace("def run():", "def run(:"))
    diagnostics = await published(client, uri_of(path))
    assert codes(diagnostics) == ["CEL001"]
    assert diagnostics[0].severity == types.DiagnosticSeverity.Error
    forget(client, uri_of(path))
    change(client, path, 3, SERVICES)  # the server is still there
    assert codes(await published(client, uri_of(path))) == ["CEL101"]


async def test_deployment_file_gets_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    procfile = "web: gunicorn proj.wsgi\nworker: celery -A proj worker --beat\n"
    diagnostics = await open_file(client, tmp_path / "Procfile", procfile)
    assert codes(diagnostics) == ["CEL401"]
    assert diagnostics[0].range.start.line == 1


async def test_close_clears_the_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    forget(client, uri_of(path))
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri_of(path))))
    assert list(await published(client, uri_of(path))) == []


# -- cross-file facts --------------------------------------------------------------------------

async def test_saving_settings_updates_another_open_file(client: LanguageClient,
                                                         tmp_path: Path) -> None:
    tasks, settings = tmp_path / "shop/tasks.py", tmp_path / "proj/settings.py"
    assert codes(await open_file(client, tasks)) == ["CEL201"]
    await open_file(client, settings)
    forget(client, uri_of(tasks))
    limited = NO_LIMITS_SETTINGS + "CELERY_TASK_TIME_LIMIT = 300\n"
    change(client, settings, 2, limited)
    save(client, settings, limited)
    assert codes(await published(client, uri_of(tasks))) == []


async def test_a_change_on_disk_updates_open_files(client: LanguageClient,
                                                    tmp_path: Path) -> None:
    async def registered() -> list[str]:
        while not client.registrations:  # type: ignore[attr-defined]
            await asyncio.sleep(0.02)
        return [r.method for r in client.registrations]  # type: ignore[attr-defined]
    assert await asyncio.wait_for(registered(), 10) == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    tasks, settings = tmp_path / "shop/tasks.py", tmp_path / "proj/settings.py"
    assert codes(await open_file(client, tasks)) == ["CEL201"]
    forget(client, uri_of(tasks))
    settings.write_text(NO_LIMITS_SETTINGS + "CELERY_TASK_SOFT_TIME_LIMIT = 300\n",
                        encoding="utf-8")  # say, a `git checkout`
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(uri_of(settings), types.FileChangeType.Changed)]))
    assert codes(await published(client, uri_of(tasks))) == []


async def test_unsaved_settings_do_not_change_other_files(client: LanguageClient,
                                                          tmp_path: Path) -> None:
    tasks, settings = tmp_path / "shop/tasks.py", tmp_path / "proj/settings.py"
    await open_file(client, settings)
    change(client, settings, 2, NO_LIMITS_SETTINGS + "CELERY_TASK_TIME_LIMIT = 300\n")
    await asyncio.sleep(0.5)
    assert codes(await open_file(client, tasks)) == ["CEL201"]


# -- code actions ------------------------------------------------------------------------------

async def test_code_actions_offer_the_fix_and_noqa(client: LanguageClient,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    found = {a.title: a for a in await actions(client, path, 6)}
    assert set(found) == {"Pass `order.pk` (unsafe)", "Disable CEL101 for this line"}
    fix, noqa = found["Pass `order.pk` (unsafe)"], found["Disable CEL101 for this line"]
    assert fix.kind == noqa.kind == types.CodeActionKind.QuickFix
    assert fix.edit is not None and fix.edit.changes is not None
    fixed = apply(SERVICES, fix.edit.changes[uri_of(path)])
    assert fixed == SERVICES.replace("delay(order)", "delay(order.pk)")
    assert noqa.edit is not None and noqa.edit.changes is not None
    silenced = apply(SERVICES, noqa.edit.changes[uri_of(path)])
    assert silenced.splitlines()[6].endswith("delay(order)  # noqa: CEL101")
    forget(client, uri_of(path))
    change(client, path, 2, silenced)
    assert list(await published(client, uri_of(path))) == []


OBJECT_TASK = """\
from celery import shared_task


@shared_task
def ship(order):
    return order.status
"""


async def test_the_whole_cel101_fix_in_one_buffer_and_none_across_files(
        client: LanguageClient, tmp_path: Path) -> None:
    # task and call in one file: the whole fix is one quick fix that edits the buffer
    path = tmp_path / "shop/shipping.py"
    text = OBJECT_TASK.replace("\n\n\n@", "\nfrom shop.models import Order\n\n\n@") + \
        "\n\ndef run():\n    order = Order.objects.get(pk=2)\n    ship.delay(order)\n"
    await open_file(client, path, text)
    found = {a.title: a for a in await actions(client, path, 11)}
    assert len(found) == 2, found
    whole = found["Pass the primary key to `ship` (1 call, 1 file) and load the `Order` in "
                  "the task (unsafe)"]
    assert whole.edit is not None and whole.edit.changes is not None
    fixed = apply(text, whole.edit.changes[uri_of(path)])
    assert "def ship(order_id):\n    order = Order.objects.get(pk=order_id)\n" in fixed
    assert fixed.endswith("ship.delay(order.pk)\n")
    # the task in another file: the editor checks one buffer, so no fix (and no bare `.pk`)
    save(client, tmp_path / "shop/tasks.py", OBJECT_TASK.replace("ship", "process_order"))
    other = tmp_path / "shop/other.py"
    await open_file(client, other, SERVICES)
    assert {a.title for a in await actions(client, other, 6)} == {"Disable CEL101 for this line"}


async def test_no_code_actions_away_from_diagnostics(client: LanguageClient,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    assert await actions(client, path, 0, only=[types.CodeActionKind.QuickFix]) == []


async def test_fix_all_applies_the_safe_fixes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "shop/sync.py"
    diagnostics = await open_file(client, path, RETRYING)
    assert "CEL204" in codes(diagnostics)
    found = await actions(client, path, 0, only=["source.fixAll"])
    assert [a.kind for a in found] == ["source.fixAll.celery-lint"]
    assert found[0].edit is not None and found[0].edit.changes is not None
    fixed = apply(RETRYING, found[0].edit.changes[uri_of(path)])
    assert fixed == RETRYING.replace("        self.retry(", "        raise self.retry(")
    forget(client, uri_of(path))
    change(client, path, 2, fixed)
    assert "CEL204" not in codes(await published(client, uri_of(path)))


async def test_fix_all_leaves_unsafe_fixes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    assert await actions(client, path, 0, only=["source.fixAll.celery-lint"]) == []


# -- configuration and robustness --------------------------------------------------------------

async def test_bad_configuration_is_shown_once_and_defaults_are_used(
        client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nselect = "CEL1"\n',
                                             encoding="utf-8")
    path = tmp_path / "shop/services.py"
    assert codes(await open_file(client, path, SERVICES)) == ["CEL101"]
    forget(client, uri_of(path))
    change(client, path, 2, SERVICES + "\n")
    await published(client, uri_of(path))
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1
    assert "`select` must be a list of strings" in errors[0].message


async def test_configuration_is_read_from_pyproject(client: LanguageClient,
                                                    tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nignore = ["CEL101"]\n',
                                             encoding="utf-8")
    assert list(await open_file(client, tmp_path / "shop/services.py", SERVICES)) == []
    assert client.messages == []


async def test_unknown_method_and_malformed_request_get_errors(client: LanguageClient,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "shop/services.py"
    await open_file(client, path, SERVICES)
    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(client.protocol.send_request_async("celery-lint/nothing", {}), 10)
    with pytest.raises(JsonRpcException):  # params that do not fit: sent raw, past the types
        await asyncio.wait_for(
            raw_request(client, types.TEXT_DOCUMENT_CODE_ACTION, {"textDocument": 3}), 10)
    assert client.protocol.writer is not None
    client.protocol.writer.write(b"Content-Length: 6\r\n\r\n{oops}")  # not even JSON
    unopened = tmp_path / "shop/unopened.py"
    assert await actions(client, unopened, 0) == []
    assert [a.title for a in await actions(client, path, 6, [types.CodeActionKind.QuickFix])]


@pytest.mark.filterwarnings("ignore")
def test_readme_documents_the_editors() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In the editor", 1)[1].split("\n## ", 1)[0]
    for editor in ("VS Code", "Neovim", "Helix", "Zed"):
        assert editor in section
    assert section.count("celery-lint server") + section.count('"server"') >= 4
