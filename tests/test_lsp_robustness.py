"""`celery-lint server` fed what a broken or careless client sends, over raw stdio.

A tiny client here writes Content-Length framed JSON-RPC by hand (pytest-lsp's client would
refuse to send most of this). After each bad message the server must still answer: a document
opened afterwards gets its diagnostics and a code action request gets its answer; and at the end
`shutdown` and `exit` end it with exit code 0. Nothing may show the user an error message, and
every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from helpers import CELERY_APP, MODELS, write_project

from celery_lint.lsp import Linter, _Frames

WAIT = 60  # seconds for any answer: generous for a loaded CI machine, but never forever
SERVER = [sys.executable, "-m", "celery_lint", "server"]

TASKS = """
    from celery import shared_task


    @shared_task
    def process_order(order_id):
        pass
"""

SERVICES = """\
from shop.models import Order
from shop.tasks import process_order


def run():
    order = Order.objects.get(pk=1)
    process_order.delay(order)
"""

UNBOUND = """\
from celery import shared_task


@shared_task
def ping(self):
    self.retry()
"""

PROJECT = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS}


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode("utf-8")


class Client:
    """The server as a subprocess, and everything it sent, in order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.messages: list[dict[str, Any]] = []
        self.stderr = bytearray()
        self.arrived = asyncio.Event()
        self.next_id = 0
        self.tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._drain())]
        self.opened = 0

    @classmethod
    async def start(cls, cwd: Path) -> Client:
        process = await asyncio.create_subprocess_exec(
            *SERVER, cwd=cwd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = await stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "the server sent a frame without Content-Length"
            self.messages.append(json.loads(await stream.readexactly(length)))
            self.arrived.set()

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr += chunk

    # -- sending ---------------------------------------------------------------------------
    async def raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await asyncio.wait_for(self.process.stdin.drain(), WAIT)

    async def send(self, message: dict[str, Any]) -> None:
        await self.raw(frame(encode({"jsonrpc": "2.0", **message})))

    async def notify(self, method: str, params: Any = None) -> None:
        await self.send({"method": method, "params": params})

    async def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """Send a request and wait for its response (the whole message: result or error)."""
        self.next_id += 1
        msg_id = self.next_id
        start = len(self.messages)
        await self.send({"id": msg_id, "method": method, "params": params})
        return await self.expect(lambda m: m.get("id") == msg_id and "method" not in m, start)

    # -- receiving -------------------------------------------------------------------------
    async def expect(self, wanted: Callable[[dict[str, Any]], bool], start: int = 0,
                     timeout: float = WAIT) -> dict[str, Any]:
        """The first message from index `start` on that is `wanted` (waiting for it)."""
        async def arrived() -> dict[str, Any]:
            while True:
                for message in self.messages[start:]:
                    if wanted(message):
                        return message
                self.arrived.clear()
                if self.process.returncode is not None and not any(
                        wanted(m) for m in self.messages[start:]):
                    raise AssertionError(f"the server exited ({self.process.returncode}): "
                                         f"{self.stderr.decode(errors='replace')[-3000:]}")
                await self.arrived.wait()
        try:
            return await asyncio.wait_for(arrived(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"no such message in {timeout} s; received {self.messages[start:]}\nstderr: "
                f"{self.stderr.decode(errors='replace')[-3000:]}") from None

    def errors_shown(self) -> list[str]:
        """The error messages shown to the user (window/showMessage of type Error)."""
        return [m["params"]["message"] for m in self.messages
                if m.get("method") == "window/showMessage" and m["params"].get("type") == 1]

    # -- a session ---------------------------------------------------------------------------
    async def initialize(self, root: Path | None) -> None:
        params: dict[str, Any] = {"processId": None, "capabilities": {},
                                  "rootUri": root.as_uri() if root else None}
        if root is not None:
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": "project"}]
        response = await self.request("initialize", params)
        assert "capabilities" in response["result"]
        await self.notify("initialized", {})

    async def open(self, path: Path, text: str, version: int = 1) -> list[dict[str, Any]]:
        """Open `path` with `text` and wait for its diagnostics."""
        start = len(self.messages)
        await self.notify("textDocument/didOpen", {"textDocument": {
            "uri": path.as_uri(), "languageId": "python", "version": version, "text": text}})
        return (await self.published(path, start))["diagnostics"]

    async def published(self, path: Path, start: int) -> dict[str, Any]:
        uri = path.as_uri()
        message = await self.expect(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                    and m["params"]["uri"] == uri, start)
        return message["params"]

    async def close(self, path: Path) -> None:
        await self.notify("textDocument/didClose", {"textDocument": {"uri": path.as_uri()}})

    async def stop(self, code: int = 0) -> None:
        """`shutdown` then `exit`: the server ends with `code`."""
        response = await self.request("shutdown")
        assert response.get("result", "missing") is None, response
        await self.notify("exit")
        assert await asyncio.wait_for(self.process.wait(), WAIT) == code
        await asyncio.wait_for(asyncio.gather(*self.tasks), WAIT)

    async def kill(self) -> None:
        """End the server if it is still there, and close its pipes."""
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.wait_for(self.process.wait(), WAIT)
        if self.process.stdin is not None:
            self.process.stdin.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def code_action_params(path: Path, line: int) -> dict[str, Any]:
    position = {"line": line, "character": 0}
    return {"textDocument": {"uri": path.as_uri()},
            "range": {"start": position, "end": position}, "context": {"diagnostics": []}}


async def still_answers(client: Client, project: Path) -> None:
    """A new document gets its diagnostics, and a request about it its answer."""
    client.opened += 1
    path = project / f"shop/services_{client.opened}.py"
    diagnostics = await client.open(path, SERVICES)
    assert [d["code"] for d in diagnostics] == ["CEL101"]
    response = await client.request("textDocument/codeAction", code_action_params(path, 6))
    titles = [action["title"] for action in response["result"]]
    assert "Disable CEL101 for this line" in titles


@pytest_asyncio.fixture
async def session(tmp_path: Path) -> AsyncIterator[tuple[Client, Path]]:
    """A server initialized on a project (tmp_path/project), stopped cleanly at the end."""
    project = tmp_path / "project"
    write_project(project, PROJECT)
    client = await Client.start(tmp_path)
    try:
        await client.initialize(project)
        yield client, project
        assert client.errors_shown() == []
        await client.stop()
    finally:
        await client.kill()


# -- what cannot be read -------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_malformed_json_gets_a_parse_error(session: tuple[Client, Path]) -> None:
    client, project = session
    for body in (b"{oops}", b'{"jsonrpc": "2.0", "id": 1', b"\xff\xfe not utf-8",
                 b"[" * 100_000 + b"]" * 100_000):  # the last one: too deep for json
        start = len(client.messages)
        await client.raw(frame(body))
        error = await client.expect(lambda m: "error" in m, start)
        assert error["id"] is None
        assert error["error"]["code"] == -32700
        await still_answers(client, project)


@pytest.mark.asyncio
async def test_json_that_is_not_an_object_gets_invalid_request(
        session: tuple[Client, Path]) -> None:
    client, project = session
    batch = b'[{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}]'  # LSP has no batches
    for body in (b"[]", b"42", b'"text"', b"null", b"true", batch,
                 b'{"id": 6, "method": "shutdown"}'):  # no "jsonrpc": not a JSON-RPC 2.0 message
        start = len(client.messages)
        await client.raw(frame(body))
        error = await client.expect(lambda m: "error" in m, start)
        assert error["error"]["code"] == -32600
        assert error["id"] == (6 if b'"id": 6' in body else None)
        await still_answers(client, project)  # and the batched shutdown did not shut it down


BAD_HEADERS = {
    "not a number": b"Content-Length: twelve\r\n\r\n",
    "negative": b"Content-Length: -5\r\n\r\n",
    "zero": b"Content-Length: 0\r\n\r\n",
    "huge": b"Content-Length: 99999999999999999999\r\n\r\n",  # pygls: OverflowError, dead
    "missing": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
    "too small": b"Content-Length: 10\r\n\r\n",
    "too large": b"Content-Length: {large}\r\n\r\n",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("header", list(BAD_HEADERS), ids=lambda h: h.replace(" ", "-"))
async def test_bad_content_length_costs_only_its_frame(session: tuple[Client, Path],
                                                       header: str) -> None:
    client, project = session
    body = encode({"jsonrpc": "2.0", "id": 900, "method": "textDocument/codeAction",
                   "params": code_action_params(project / "shop/services_1.py", 0)})
    # too large: it runs into the whole header of the next frame
    prefix = BAD_HEADERS[header].replace(b"{large}", b"%d" % (len(body) + 40))
    start = len(client.messages)
    await client.raw(prefix + body)
    await still_answers(client, project)
    if header == "too small":
        assert any(m.get("error", {}).get("code") == -32700 for m in client.messages[start:])


@pytest.mark.asyncio
async def test_header_variants_a_client_may_send_are_read(session: tuple[Client, Path]) -> None:
    client, project = session
    params = code_action_params(project / "shop/nothing.py", 0)
    for number, header in enumerate((b"content-length: %d\n\n",  # lower case, \n alone
                                     b"Content-Length:%d\r\nContent-Type: x\r\n\r\n",
                                     b"Content-Length: %d  \r\n\r\n"), start=700):
        body = encode({"jsonrpc": "2.0", "id": number, "method": "textDocument/codeAction",
                       "params": params})
        start = len(client.messages)
        await client.raw(header % len(body) + body + b"\r\n")  # a stray line end after it too
        response = await client.expect(lambda m, n=number: m.get("id") == n, start)
        assert response["result"] == []
    await still_answers(client, project)


# -- what the server does not know ---------------------------------------------------------------

@pytest.mark.asyncio
async def test_unknown_request_gets_method_not_found(session: tuple[Client, Path]) -> None:
    client, project = session
    for method in ("celery-lint/nothing", "textDocument/diagnostic", "$/unknown"):
        response = await client.request(method, {"x": 1})
        assert response["error"]["code"] == -32601
        await still_answers(client, project)


@pytest.mark.asyncio
async def test_unknown_notification_is_ignored(session: tuple[Client, Path]) -> None:
    client, project = session
    start = len(client.messages)
    await client.notify("celery-lint/nothing", {"x": 1})
    await client.notify("$/unknownNotification", [1, 2])
    await still_answers(client, project)
    assert not [m for m in client.messages[start:] if "error" in m]


@pytest.mark.asyncio
async def test_request_with_params_of_the_wrong_type_gets_invalid_params(
        session: tuple[Client, Path]) -> None:
    client, project = session
    good = code_action_params(project / "shop/services.py", 0)
    for params in ({"textDocument": 3}, None, [], "text", {**good, "range": "all of it"},
                   {**good, "range": {"start": {"line": "one", "character": 0},
                                      "end": {"line": 0, "character": 0}}}):
        response = await client.request("textDocument/codeAction", params)
        assert response["error"]["code"] == -32602, response
        await still_answers(client, project)


@pytest.mark.asyncio
async def test_notification_with_params_of_the_wrong_type_is_dropped(
        session: tuple[Client, Path]) -> None:
    client, project = session
    start = len(client.messages)
    for method, params in (("textDocument/didOpen", {"textDocument": 3}),
                           ("textDocument/didOpen", None),
                           ("textDocument/didChange", {"textDocument": {"uri": 1},
                                                       "contentChanges": "all"}),
                           ("textDocument/didSave", []),
                           ("textDocument/didClose", "x"),
                           ("workspace/didChangeWatchedFiles", {"changes": [{"uri": None}]})):
        await client.notify(method, params)
        await still_answers(client, project)
    assert not [m for m in client.messages[start:] if "error" in m]


# -- documents in the wrong state ----------------------------------------------------------------

@pytest.mark.asyncio
async def test_close_twice(session: tuple[Client, Path]) -> None:
    client, project = session
    path = project / "shop/services.py"
    assert [d["code"] for d in await client.open(path, SERVICES)] == ["CEL101"]
    for _ in range(2):
        start = len(client.messages)
        await client.close(path)
        assert (await client.published(path, start))["diagnostics"] == []
    assert [d["code"] for d in await client.open(path, SERVICES, version=3)] == ["CEL101"]
    await still_answers(client, project)


@pytest.mark.asyncio
async def test_close_of_a_document_never_opened(session: tuple[Client, Path]) -> None:
    client, project = session
    await client.close(project / "shop/never.py")
    await client.close(project / "nowhere/at/all.py")
    await still_answers(client, project)


@pytest.mark.asyncio
async def test_change_of_a_document_never_opened_is_ignored(
        session: tuple[Client, Path]) -> None:
    client, project = session
    path = project / "shop/never.py"
    start = len(client.messages)
    await client.notify("textDocument/didChange", {
        "textDocument": {"uri": path.as_uri(), "version": 2},
        "contentChanges": [{"text": SERVICES}]})
    await client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
    await still_answers(client, project)
    await asyncio.sleep(0.5)  # longer than the debounce: nothing is published for it
    assert not [m for m in client.messages[start:]
                if m.get("params", {}).get("uri") == path.as_uri()]
    assert [d["code"] for d in await client.open(path, SERVICES, version=3)] == ["CEL101"]
    start = len(client.messages)
    await client.notify("textDocument/didChange", {  # and once open, changes count again
        "textDocument": {"uri": path.as_uri(), "version": 4},
        "contentChanges": [{"text": SERVICES.replace("delay(order)", "delay(order.pk)")}]})
    assert (await client.published(path, start))["diagnostics"] == []


@pytest.mark.asyncio
async def test_documents_with_odd_uris(session: tuple[Client, Path]) -> None:
    client, project = session
    for uri in ("untitled:Untitled-1", "", "relative.py", "file:", "https://example.com/a.py",
                (project / "shop/nul").as_uri() + "%00.py",  # no file can have this name
                (project / "shop/t\u00e9st.py").as_uri(), (project / "shop/x.py").as_uri() + "?q#f",
                "file://host/share/tasks.py"):
        document = {"uri": uri, "languageId": "python", "version": 1, "text": UNBOUND}
        await client.notify("textDocument/didOpen", {"textDocument": document})
        response = await client.request("textDocument/codeAction", {
            **code_action_params(project, 5), "textDocument": {"uri": uri}})
        assert isinstance(response["result"], list)
        await client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        await client.notify("workspace/didChangeWatchedFiles",
                            {"changes": [{"uri": uri, "type": 2}]})
        await client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    await still_answers(client, project)
    assert client.errors_shown() == []


# -- files outside the workspace -----------------------------------------------------------------

def loose_files(tmp_path: Path) -> Path:
    """A file in a folder with no project marker, outside the workspace, whose `.delay(order)`
    would be CEL101 only with the models of its neighbours (`shop/models.py` beside it)."""
    loose = tmp_path / "downloads"
    write_project(loose, {"shop/models.py": MODELS, "shop/tasks.py": TASKS,
                          "services.py": SERVICES + "\n\n" + UNBOUND})
    return loose / "services.py"


@pytest.mark.asyncio
async def test_file_outside_the_workspace_is_checked_alone(session: tuple[Client, Path],
                                                           tmp_path: Path) -> None:
    client, project = session
    path = loose_files(tmp_path)
    # its own findings, not its neighbours' facts: the folder around it was not read
    assert [d["code"] for d in await client.open(path, SERVICES + "\n\n" + UNBOUND)] == ["CEL205"]
    start = len(client.messages)
    await client.notify("textDocument/didChange", {
        "textDocument": {"uri": path.as_uri(), "version": 2},
        "contentChanges": [{"text": UNBOUND.replace("(self)", "(self, x)")}]})
    assert [d["code"] for d in (await client.published(path, start))["diagnostics"]] == [
        "CEL205"]
    missing = tmp_path / "not/on/disk.py"  # a new buffer not saved yet
    assert [d["code"] for d in await client.open(missing, UNBOUND)] == ["CEL205"]
    await client.close(path)
    await still_answers(client, project)


@pytest.mark.asyncio
async def test_files_without_a_workspace(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, PROJECT)
    path = loose_files(tmp_path)
    client = await Client.start(tmp_path)
    try:
        await client.initialize(None)
        # in a project (manage.py): the project's facts; a loose file: alone
        assert [d["code"] for d in await client.open(project / "shop/services.py", SERVICES)] \
            == ["CEL101"]
        assert [d["code"] for d in await client.open(path, SERVICES + "\n\n" + UNBOUND)] == [
            "CEL205"]
        start = len(client.messages)
        await client.notify("textDocument/didChange", {
            "textDocument": {"uri": path.as_uri(), "version": 2},
            "contentChanges": [{"text": SERVICES}]})
        assert (await client.published(path, start))["diagnostics"] == []
        await still_answers(client, project)
        assert client.errors_shown() == []
        await client.stop()
    finally:
        await client.kill()


def test_which_project_a_file_belongs_to(tmp_path: Path) -> None:
    project, workspace, elsewhere = tmp_path / "project", tmp_path / "ws", tmp_path / "else"
    write_project(project, PROJECT)
    (workspace / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    linter = Linter(lambda: [workspace])
    assert linter.root_of(project / "shop/deep/new.py") == project  # manage.py
    assert linter.root_of(workspace / "sub/a.py") == workspace / "sub"  # as before: its folder
    assert linter.root_of(elsewhere / "a.py") == elsewhere / "a.py"  # alone
    (elsewhere / "a.py").write_text(UNBOUND, encoding="utf-8")
    (elsewhere / "b.py").write_text("syntax error (", encoding="utf-8")
    result = linter.lint(elsewhere / "a.py", UNBOUND)
    assert [d.code for d in result.diagnostics] == ["CEL205"]  # b.py was not read
    assert Linter(list).root_of(workspace / "sub/a.py") == workspace / "sub/a.py"  # no folders
    assert Linter().root_of(elsewhere / "a.py") == elsewhere  # folders unknown: as before


# -- the session's edges -------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_before_initialize(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, PROJECT)
    client = await Client.start(tmp_path)
    try:
        await client.notify("textDocument/didOpen", {"textDocument": {
            "uri": (project / "shop/x.py").as_uri(), "languageId": "python", "version": 1,
            "text": SERVICES}})
        response = await client.request("textDocument/codeAction",
                                        code_action_params(project / "shop/x.py", 0))
        assert response["error"]["code"] == -32002  # ServerNotInitialized
        await client.initialize(project)
        await still_answers(client, project)
        assert client.errors_shown() == []
        await client.stop()
    finally:
        await client.kill()


@pytest.mark.asyncio
async def test_requests_after_shutdown_get_an_error(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, PROJECT)
    client = await Client.start(tmp_path)
    try:
        await client.initialize(project)
        await still_answers(client, project)
        assert (await client.request("shutdown"))["result"] is None
        for method in ("textDocument/codeAction", "shutdown"):
            response = await client.request(method, code_action_params(project / "a.py", 0))
            assert response["error"]["code"] == -32600  # InvalidRequest, not silence
        await client.notify("exit")
        assert await asyncio.wait_for(client.process.wait(), WAIT) == 0
    finally:
        await client.kill()


@pytest.mark.asyncio
async def test_exit_without_shutdown_exits_with_1(tmp_path: Path) -> None:
    client = await Client.start(tmp_path)
    try:
        await client.initialize(tmp_path)
        await client.notify("exit")
        assert await asyncio.wait_for(client.process.wait(), WAIT) == 1
    finally:
        await client.kill()


@pytest.mark.asyncio
async def test_end_of_input_ends_the_server(tmp_path: Path) -> None:
    client = await Client.start(tmp_path)
    try:
        await client.initialize(tmp_path)
        await client.raw(b"Content-Length: 50\r\n\r\n{\"jsonrpc\"")  # and then nothing more
        assert client.process.stdin is not None
        client.process.stdin.close()
        await asyncio.wait_for(client.process.wait(), WAIT)
    finally:
        await client.kill()


# -- the frame reader alone ----------------------------------------------------------------------

class Chunks:
    """A binary stream over `data` (what `_Frames` reads with `readline` and `read`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readline(self) -> bytes:
        end = self.data.find(b"\n") + 1 or len(self.data)
        line, self.data = self.data[:end], self.data[end:]
        return line

    def read(self, size: int) -> bytes:
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def bodies(data: bytes) -> list[bytes]:
    frames, out = _Frames(Chunks(data)), []  # type: ignore[arg-type]
    while header := frames.readline():
        assert header.startswith(b"Content-Length: ")
        assert frames.readline() == b"\r\n"
        out.append(frames.read(int(header.split(b":")[1])))
    return out


def test_frames_resume_after_a_broken_one() -> None:
    one, two = b'{"a": 1}', b'{"b": "Content-Length: 3"}'  # a header in a string is text
    assert bodies(frame(one) + frame(two)) == [one, two]
    assert bodies(b"Content-Length: x\r\n\r\n" + one + frame(two)) == [two]
    assert bodies(b"Content-Length: 3\r\n\r\n" + one + frame(two)) == [one[:3], two]
    assert bodies(b"Content-Length: 40\r\n\r\n" + one + frame(two)) == [one, two]
    assert bodies(b"Content-Length: 0\r\n\r\n" + frame(two)) == [two]
    assert bodies(b"Content-Length: %d\r\n\r\n" % 10**20 + one + frame(two)) == [two]
    assert bodies(b"garbage\r\n\r\n" + frame(one)) == [one]
    assert bodies(frame(one)[:-2]) == [one[:-2]]  # cut short by the end of the input
