"""The follow-up reports' reproductions (dist/issues/pr-2..8.md), one case each.

    python followups.py hook | stubborn | queue | stop | frames | refused
                        | refused-all | bug | first   [fastapi | quart]

Each serves a small app in this process, playing its client at the ASGI
boundary (all but stop and first) or over a real socket, and prints what the
client got and what was logged at WARNING or above.
"""
import asyncio
import json
import logging
import sys
import threading
import time

from dash import Dash, Input, Output, ctx, hooks, html, set_props

case, backend = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "fastapi"
logged = []
handler = logging.Handler(logging.WARNING)
handler.emit = lambda record: logged.append(f"{record.levelname} {record.name}: {record.getMessage()}")
logging.getLogger().addHandler(handler)

if case == "hook":

    @hooks.websocket_connect()
    def check_session(_websocket):
        raise TimeoutError("auth store did not answer")  # an auth store that is down


if case == "bug":  # a stand-in for a bug in dash's receive loop
    from dash.backends import _quart

    def a_dash_bug(*_args):
        raise RuntimeError("a dash bug")

    _quart.DashWebsocketCallback = a_dash_bug

if case == "first":  # as pages apps register callbacks: dash.callback
    import dash

    dash.callback(Output("late", "children"), Input("in", "title"))(lambda v: v)

# refused: only the callbacks marked websocket=True (none here) are on WebSocket;
# refused-all: all of them are
app = Dash(__name__, backend=backend, websocket_callbacks=case != "refused")
app.layout = html.Div([html.Div(id=i) for i in ("out", "in", "late")])
started = threading.Event()
answers = []  # the start of each frame the server sent


@app.callback(Output("out", "children"), Input("in", "title"))
def sync_callback(value):
    started.set()
    while not ctx.websocket.is_shutdown:  # runs until its connection closes
        if value == "ignores is_shutdown":
            time.sleep(3)
            return "done"
        if value == "streams":
            set_props("out", {"title": time.monotonic()})
        else:
            time.sleep(0.01)


@app.callback(Output("in", "children"), Input("out", "title"))
async def async_callback(_):
    started.set()
    end = time.monotonic() + 8
    while time.monotonic() < end:  # a bare except around an await swallows the cancel
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            pass


def request(output, value):
    trigger = {"id": output.split(".")[0] == "out" and "in" or "out", "value": value}
    trigger["property"] = "title"
    payload = {"output": output, "inputs": [trigger]}
    payload["outputs"] = dict(zip(("id", "property"), output.split(".")))
    return json.dumps({"type": "callback_request", "requestId": "1", "payload": payload})


async def connection(*texts, wait_started=False, wait_close=False):
    """One client at the ASGI boundary: its frames, then it goes (a close)."""
    app._setup_server()  # pylint: disable=protected-access
    scope = {"type": "websocket", "scheme": "ws", "path": "/_dash-ws-callback"}
    scope.update(query_string=b"", headers=[(b"host", b"h"), (b"origin", b"http://h")])
    events, closes, sent, closed = asyncio.Queue(), [], asyncio.Event(), asyncio.Event()

    async def send(message):
        if message["type"] == "websocket.send":
            answers.append(message["text"][:90])
        if message["type"] == "websocket.close":
            closes.append(message.get("code"))
            closed.set()
        sent.set()

    events.put_nowait({"type": "websocket.connect"})
    for text in texts:  # a frame's text, or its ASGI fields
        frame = text if isinstance(text, dict) else {"text": text}
        events.put_nowait(dict(frame, type="websocket.receive"))
    task = asyncio.ensure_future(app.server(scope, events.get, send))
    if wait_started:
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        await asyncio.wait_for(sent.wait(), 10)
    if wait_close:  # the server closes, or its handler ends, first
        waiting = asyncio.ensure_future(closed.wait())
        await asyncio.wait([task, waiting], timeout=5, return_when="FIRST_COMPLETED")
        waiting.cancel()
    started.clear()
    events.put_nowait({"type": "websocket.disconnect", "code": 1001})
    done, _ = await asyncio.wait([task], timeout=5)
    raised = done and not task.cancelled() and task.exception()
    return closes, bool(done) if not raised else f"raised {raised!r}"


if case == "hook":
    closes, _ = asyncio.run(connection())
    print(f"{backend}: the client got close {closes}; logged at WARNING+: {logged}")
elif case == "stubborn":
    for output, value in (("in.children", 1), ("out.children", "ignores is_shutdown")):
        start = time.monotonic()
        _, ended = asyncio.run(connection(request(output, value), wait_started=True))
        how = "ended" if ended else "still running 5 s after the client went"
        print(f"{backend}, {output}: the connection's handler {how}; logged: {logged}")
elif case == "queue":

    async def many(n):
        for _ in range(n):
            await connection(request("out.children", "streams"), wait_started=True)

    asyncio.run(many(200))
elif case == "frames":  # what a client other than the renderer may send
    for frame in ({"bytes": b"\x00"}, {"text": "not json"}, {"text": "[1, 2]"}):
        closes, ended = asyncio.run(connection(frame, wait_close=True))
        print(f"{backend}, frame {frame}: close {closes}, handler {ended}; logged: {logged}")
        logged.clear()
elif case.startswith("refused"):  # a page older than the app, or another client
    for output in ("out.children", "nope.children")[case == "refused-all" :]:
        closes, ended = asyncio.run(connection(request(output, 1), wait_close=True))
        print(f"{backend}, request for {output}: answers {answers}, close {closes},", end=" ")
        print(f"handler {ended}; logged: {logged}")
        answers.clear(), logged.clear()
elif case == "bug":
    closes, ended = asyncio.run(connection(request("out.children", 1), wait_close=True))
    print(f"{backend}: answers {answers}, close {closes}, handler {ended}; logged: {logged}")
elif case == "first":  # a fresh server; the first request is a WebSocket callback
    import socket
    import urllib.request

    import uvicorn
    from websockets.sync.client import connect

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app.server, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run)
    thread.start()
    for _ in range(1000):  # up to 10 s
        if server.started:
            break
        time.sleep(0.01)
    url = f"ws://127.0.0.1:{port}/_dash-ws-callback"
    for first in ("first request", "after an HTTP GET /"):
        if first != "first request":
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        with connect(url, origin=f"http://127.0.0.1:{port}") as websocket:
            websocket.send(request("late.children", 1))
            print(f"{backend} under uvicorn, {first}: {websocket.recv(10)[:150]}")
    server.should_exit = True
    thread.join(10)
elif case == "stop":
    from dash.testing.application_runners import ThreadedRunner
    from websockets.sync.client import connect
    from websockets.exceptions import ConnectionClosed

    runner = ThreadedRunner()
    runner.start(app, host="127.0.0.1")
    url = f"ws://127.0.0.1:{runner.port}/_dash-ws-callback"
    with connect(url, origin=f"http://127.0.0.1:{runner.port}") as websocket:
        websocket.send(request("out.children", 1))
        started.wait(10)
        runner.stop()  # as dash stops its server (Ctrl+C, SIGTERM)
        try:
            for _ in range(10000):  # what was sent before the close
                websocket.recv(10)
        except ConnectionClosed as closed:
            print(f"{backend}: dash stopped its server; the client got close {closed.rcvd.code}")
