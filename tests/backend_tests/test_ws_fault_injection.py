"""Deterministic guards for dash#3790, with faults injected at the ASGI boundary.

With real sockets the seed's tracebacks depend on a race. Here the test is the
server: it calls the app with a websocket scope and its own ``receive`` and
``send``, and makes ``send`` fail exactly where a closing transport makes
uvicorn fail (``ClientDisconnected``, an ``OSError``).
"""
import asyncio
import gc
import json
import logging

import pytest

from ws_disconnect_support import OperatorView, callback_request, make_app

try:
    from uvicorn.protocols.utils import ClientDisconnected
except ImportError:  # pragma: no cover - older uvicorn
    ClientDisconnected = OSError

BACKENDS = ["fastapi", "quart"]
SCOPE = {
    "type": "websocket",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "scheme": "ws",
    "server": ("testserver", 80),
    "client": ("127.0.0.1", 50000),
    "root_path": "",
    "path": "/_dash-ws-callback",
    "raw_path": b"/_dash-ws-callback",
    "query_string": b"",
    "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
    "subprotocols": [],
    "extensions": {},
}


class FakeServer:
    """The server side of the ASGI boundary, scripted by the test."""

    def __init__(self, fail=None):
        self.inbox = asyncio.Queue()
        self.sent = []
        self.fail = fail or (lambda message: None)
        self.failed = asyncio.Event()
        self.inbox.put_nowait({"type": "websocket.connect"})

    async def receive(self):
        return await self.inbox.get()

    async def send(self, message):
        error = self.fail(message)
        if error is not None:
            self.failed.set()
            raise error
        self.sent.append(message)

    def push(self, message):
        self.inbox.put_nowait(
            {"type": "websocket.receive", "text": json.dumps(message)}
        )

    def disconnect(self, code=1006):
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})

    def close_codes(self):
        return [m.get("code") for m in self.sent if m["type"] == "websocket.close"]


def responses(message):
    """Whether ``message`` carries a callback response."""
    return message["type"] == "websocket.send" and "callback_response" in (
        message.get("text") or ""
    )


def run_app(app, fail, script, timeout=3):
    """Run the app on a ``FakeServer(fail)`` while ``script(fake)`` plays
    the client. The fake is made on the loop: Python 3.9 binds asyncio
    primitives to a loop when they are created.

    Returns ((what the app raised or None, whether it ended in time), the
    operator's view, the fake).
    """
    made = []

    async def main():
        fake = FakeServer(fail)
        made.append(fake)
        call = asyncio.ensure_future(app.server(dict(SCOPE), fake.receive, fake.send))
        await script(fake)
        done, _ = await asyncio.wait({call}, timeout=timeout)
        if not done:
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            return None, False
        # Let the app's orphaned tasks, if any, finish and be collected.
        for _ in range(20):
            await asyncio.sleep(0.01)
        gc.collect()
        return call.exception(), True

    with OperatorView() as view:
        outcome = asyncio.run(main())
        gc.collect()
    return outcome, view, made[0]


def disconnect_on_response(message):
    return ClientDisconnected() if responses(message) else None


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc020_send_to_a_closing_transport(backend):
    """Seed traceback 1: WebSocketDisconnect (1006) from send_json in
    execute_callback_task, "Task exception was never retrieved".

    The callback's response meets a transport that is closing; the
    disconnect event follows. Fails on 4.2.0rc1; 4.4.1's sender fixed it.
    """
    app, _ = make_app(backend)
    fail = disconnect_on_response

    async def client(fake):
        fake.push(callback_request("fast"))
        await fake.failed.wait()
        fake.disconnect()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "the connection did not end after its client went away"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert view.lines(logging.WARNING) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc021_send_after_the_close_was_sent(backend):
    """Seed traceback 2: RuntimeError('Cannot call "send" once a close
    message has been sent.') from a second callback task on the same socket.

    Two responses are due when the transport closes under the first.
    Fails on 4.2.0rc1; 4.4.1's sender fixed it.
    """
    app, _ = make_app(backend)
    fail = disconnect_on_response

    async def client(fake):
        fake.push(callback_request("fast", 1))
        fake.push(callback_request("fast", 2))
        await fake.failed.wait()
        fake.disconnect()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "the connection did not end after its client went away"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert view.lines(logging.WARNING) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc022_receive_after_the_socket_closed(backend):
    """Seed traceback 3: RuntimeError('WebSocket is not connected. Need to
    call "accept" first.') from receive_json, "Exception in ASGI application".

    The client had one more frame in flight when the send failed.
    Fails on 4.4.1 (FastAPI).
    """
    app, _ = make_app(backend)
    fail = disconnect_on_response

    async def client(fake):
        fake.push(callback_request("fast", 1))
        await fake.failed.wait()
        fake.push(callback_request("fast", 2))
        fake.disconnect()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "the connection did not end after its client went away"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert view.lines(logging.WARNING) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc023_disconnect_event_never_comes(backend):
    """A half-open peer, or a server that reports the disconnect late: the
    send fails but no websocket.disconnect follows. The connection must end
    on the failed send alone. Fails on 4.4.1 (the handler waits forever).
    """
    app, probe = make_app(backend)
    fail = disconnect_on_response

    async def client(fake):
        fake.push(callback_request("async"))
        fake.push(callback_request("fast"))
        await fake.failed.wait()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "the connection outlived a send that found its client gone"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert "async" in probe.started
    assert view.lines(logging.WARNING) == []


# FastAPI only: Quart's own final close (outside dash) meets the same error.
@pytest.mark.parametrize("backend", ["fastapi"])
def test_wsdc025_server_closed_before_the_app_knew(backend):
    """uvicorn closes the connection itself on a ping timeout; the app's next
    send raises RuntimeError("Unexpected ASGI message 'websocket.send', after
    sending 'websocket.close'.") before the disconnect reaches it. That is a
    gone client: quiet, and the connection ends. (Seen under websockets-sansio
    with a half-open peer.)
    """
    app, _ = make_app(backend)
    closed = RuntimeError(
        "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."
    )

    def fail(message):
        return closed if message["type"] != "websocket.accept" else None

    async def client(fake):
        fake.push(callback_request("fast"))
        await fake.failed.wait()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "the connection outlived a server-side close"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert view.lines(logging.WARNING) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc024_send_fails_for_another_reason(backend):
    """A send that fails for a reason other than a gone client is a bug: it
    must be loud (one ERROR with traceback) and close with 1011 so the
    renderer reconnects. Fails on 4.4.1 (silent, connection hangs).
    """
    app, _ = make_app(backend)

    def fail(message):
        return TypeError("not serializable") if responses(message) else None

    async def client(fake):
        fake.push(callback_request("fast"))
        await fake.failed.wait()

    (raised, ended), view, fake = run_app(app, fail, client)
    assert ended, "a failing send left the connection hanging"
    assert raised is None, f"the app raised to the server: {raised!r}"
    errors = view.at_least(logging.ERROR)
    assert len(errors) == 1, view.lines(logging.ERROR)
    assert errors[0].exc_info and errors[0].exc_info[0] is TypeError
    assert 1011 in fake.close_codes()


def test_wsdc026_client_gone_before_accept():
    """The client left while the websocket_connect hooks ran: accepting
    meets a closed transport. Fails on 4.4.1 (the OSError escapes the app).
    """
    app, _ = make_app("fastapi")

    def fail(message):
        return ClientDisconnected() if message["type"] == "websocket.accept" else None

    async def client(fake):
        await fake.failed.wait()

    (raised, ended), view, _ = run_app(app, fail, client)
    assert ended, "the handler did not end"
    assert raised is None, f"the app raised to the server: {raised!r}"
    assert view.lines(logging.WARNING) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wsdc027_a_bug_in_dash_is_loud_once(backend, monkeypatch):
    """A bug in dash's own message handling: one ERROR with its traceback, a
    1011 close so the renderer reconnects, and nothing raised to the server.
    """
    from dash.backends import ws  # pylint: disable=import-outside-toplevel

    def broken(self, message):
        raise KeyError("a bug")

    monkeypatch.setattr(ws.WebSocketConnection, "_dispatch", broken)
    app, _ = make_app(backend)

    async def client(fake):
        fake.push(callback_request("fast"))

    (raised, ended), view, fake = run_app(app, None, client)
    assert ended, "the connection did not end"
    assert raised is None, f"the app raised to the server: {raised!r}"
    errors = view.at_least(logging.ERROR)
    assert len(errors) == 1, view.lines(logging.ERROR)
    assert errors[0].exc_info and errors[0].exc_info[0] is KeyError
    assert 1011 in fake.close_codes()
