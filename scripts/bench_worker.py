"""The server side of `make bench`, run with the interpreter of the side's venv.

    bench_worker.py serve      serve the bench app (FastAPI on uvicorn,
                               websockets-sansio) plus a bare Starlette echo
                               endpoint at /echo; print the port; answer
                               each line on stdin with the process's CPU
                               time; run until stdin closes
    bench_worker.py cleanup N  N times: a client dies mid-callback (TCP reset);
                               print, as JSON, the milliseconds until the
                               callback saw ws.is_shutdown and until the
                               connection's tasks were gone
    bench_worker.py count N    for callgrind: N pipelined sync callbacks on one
                               connection, through the app's ASGI interface
                               (no network), after a warm-up run. Prints
                               "ready <pid>" and waits for a line on stdin,
                               so that instrumentation can be switched on
                               just for the measured run; prints "done".
                               The thread pool is replaced by an executor
                               that runs each callback inline, so that the
                               count does not depend on thread timing.

Self-contained (it does not import the tests of any side), so that each side
runs the same app and server.
"""
import asyncio
import concurrent.futures
import json
import os
import socket
import struct
import sys
import threading
import time

import uvicorn
from dash import Dash, Input, Output, ctx, html

SCOPE = {
    "type": "websocket",
    "scheme": "ws",
    "path": "/_dash-ws-callback",
    "query_string": b"",
    "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
}


def make_app():
    app = Dash(__name__, backend="fastapi", websocket_callbacks=True)
    app.layout = html.Div([html.Div(id=n) for n in ("fast", "afast", "sync")])
    saw_shutdown = {}

    @app.callback(Output("fast", "children"), Input("fast", "title"))
    def fast(n):
        return n

    @app.callback(Output("afast", "children"), Input("afast", "title"))
    async def afast(n):
        return n

    @app.callback(Output("sync", "children"), Input("sync", "title"))
    def sync(n):
        saw_shutdown[n] = None
        ws, deadline = ctx.websocket, time.monotonic() + 10
        while not ws.is_shutdown and time.monotonic() < deadline:
            time.sleep(0.001)
        saw_shutdown[n] = time.monotonic() if ws.is_shutdown else None
        return n

    app._setup_server()  # pylint: disable=protected-access
    return app, saw_shutdown


def request(name, n):
    return json.dumps(
        {
            "type": "callback_request",
            "requestId": f"r{n}",
            "rendererId": "bench",
            "payload": {
                "output": f"{name}.children",
                "outputs": {"id": name, "property": "children"},
                "inputs": [{"id": name, "property": "title", "value": n}],
                "changedPropIds": [f"{name}.title"],
            },
        }
    )


class ServerThread:
    """uvicorn (websockets-sansio) serving ``asgi`` on its own loop in a thread."""

    def __init__(self, asgi):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            asgi, ws="websockets-sansio", log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(self.server.serve(sockets=[sock]),),
            daemon=True,
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def tasks(self):
        async def collect():
            return set(asyncio.all_tasks()) - {asyncio.current_task()}

        return asyncio.run_coroutine_threadsafe(collect(), self.loop).result(10)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


def bare_client(port, text):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"GET /_dash-ws-callback HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Origin: http://127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade"
        b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.recv(4096)
    data = text.encode()
    sock.sendall(struct.pack("!BBH4x", 0x81, 0x80 | 126, len(data)) + data)
    return sock


def serve():
    app, _ = make_app()

    async def echo(websocket):
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except Exception:  # pylint: disable=broad-exception-caught
            return

    # Ahead of dash's catch-all route, which would otherwise take the path.
    # pylint: disable-next=import-outside-toplevel
    from starlette.routing import WebSocketRoute

    app.server.router.routes.insert(0, WebSocketRoute("/echo", echo))
    server = ServerThread(app.server)
    print(server.port, flush=True)
    for _ in sys.stdin:  # each line asks for the CPU time used so far
        print(time.process_time(), flush=True)
    server.stop()


def cleanup(count):
    app, saw_shutdown = make_app()
    server = ServerThread(app.server)
    baseline = server.tasks()
    seen, gone = [], []
    for n in range(1, count + 1):
        sock = bare_client(server.port, request("sync", n))
        while n not in saw_shutdown:
            time.sleep(0.001)
        died = time.monotonic()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        tasks_gone = None
        while time.monotonic() < died + 10:
            if tasks_gone is None and not server.tasks() - baseline:
                tasks_gone = time.monotonic()
            if tasks_gone is not None and saw_shutdown[n]:
                break
            time.sleep(0.002)
        saw = saw_shutdown[n]
        seen.append(None if not saw else (saw - died) * 1000)
        gone.append(None if tasks_gone is None else (tasks_gone - died) * 1000)
    server.stop()
    print(json.dumps({"seen_ms": seen, "tasks_gone_ms": gone}), flush=True)


class InlineExecutor(concurrent.futures.Executor):
    """Runs each submitted callback at once, on the caller's thread."""

    def submit(self, fn, /, *args, **kwargs):  # pylint: disable=arguments-differ
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # pylint: disable=broad-exception-caught
            future.set_exception(error)
        return future


def count(n):
    app, _ = make_app()
    app.backend._callback_executor = InlineExecutor()  # pylint: disable=protected-access
    texts = [request("fast", i) for i in range(n)]

    async def pipelined():
        inbox = asyncio.Queue()
        answered = asyncio.Event()
        responses = 0

        async def receive():
            return await inbox.get()

        async def send(message):
            nonlocal responses
            if message["type"] == "websocket.send":
                responses += message["text"].count('"callback_response"')
                if responses >= n:
                    answered.set()

        inbox.put_nowait({"type": "websocket.connect"})
        call = asyncio.ensure_future(app.server(dict(SCOPE), receive, send))
        for text in texts:
            inbox.put_nowait({"type": "websocket.receive", "text": text})
        await asyncio.wait_for(answered.wait(), 600)
        inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(call, 600)

    asyncio.run(pipelined())  # warm-up: imports, first-call caches
    print("ready", os.getpid(), flush=True)
    sys.stdin.readline()
    asyncio.run(pipelined())
    print("done", flush=True)


if __name__ == "__main__":
    {"serve": serve, "cleanup": lambda: cleanup(int(sys.argv[2]))}.get(
        sys.argv[1], lambda: count(int(sys.argv[2]))
    )()
