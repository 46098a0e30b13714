"""Shared pieces of the WebSocket disconnect tests.

- ``RawClient``: a minimal WebSocket client over a plain socket, so that a test
  decides exactly how the client dies (clean close, TCP reset, silence) and
  what it sends (binary frames, garbage text, pipelined requests).
- ``ServerThread``: a real uvicorn or Hypercorn server on its own event loop in
  a thread, so that a test can list the tasks left on that loop.
- ``OperatorView``: what an operator would see: every log record at WARNING or
  above from any logger, and what reached stderr.
"""
import asyncio
import base64
import inspect
import json
import logging
import os
import socket
import struct
import threading
import time
import uuid

from dash import Dash, Input, Output, ctx, html, set_props

HOST = "127.0.0.1"
WS_PATH = "/_dash-ws-callback"
UVICORN_WS = ("websockets-sansio", "websockets", "wsproto")
# (backend, server, uvicorn ws implementation)
SERVERS = [("fastapi", "uvicorn", impl) for impl in UVICORN_WS] + [
    ("quart", "hypercorn", None)
]
SERVER_IDS = [f"{backend}-{impl or server}" for backend, server, impl in SERVERS]


def wait_until(predicate, timeout, interval=0.01):
    """Poll ``predicate`` until it is truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------- app


class Probe:
    """Lets a test see inside the app's callbacks (thread-safe).

    ``saw_shutdown[name]`` is when (time.monotonic) the callback saw
    ``ws.is_shutdown``."""

    def __init__(self):
        self.started = {}
        self.saw_shutdown = {}
        self.release = threading.Event()

    def start(self, name):
        self.started.setdefault(name, threading.Event()).set()

    def wait_started(self, name, timeout=10):
        event = self.started.setdefault(name, threading.Event())
        assert event.wait(timeout), f"callback {name!r} did not start"


def make_app(backend):
    """A Dash app whose WebSocket callbacks block until released or shut down."""
    app = Dash(__name__, backend=backend, websocket_callbacks=True)
    probe = Probe()
    names = ["sync", "async", "get-props", "stream", "fast", "afast"]
    app.layout = html.Div(
        [html.Button(id=f"{name}-btn") for name in names]
        + [html.Div(id=f"{name}-out") for name in names]
        + [html.Div(id="stream-progress"), html.Div("asked", id="asked")]
    )

    @app.callback(
        Output("sync-out", "children"),
        Input("sync-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    def slow_sync(n_clicks):
        probe.start("sync")
        ws = ctx.websocket
        while not probe.release.wait(0.01):
            if ws.is_shutdown:
                probe.saw_shutdown["sync"] = time.monotonic()
                break
        return f"sync {n_clicks}"

    @app.callback(
        Output("async-out", "children"),
        Input("async-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    async def slow_async(n_clicks):
        probe.start("async")
        while not probe.release.is_set():
            await asyncio.sleep(0.01)
        return f"async {n_clicks}"

    @app.callback(
        Output("get-props-out", "children"),
        Input("get-props-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    async def asks_client(n_clicks):
        probe.start("get-props")
        value = await ctx.websocket.get_prop("asked", "children", timeout=30)
        return f"{value} {n_clicks}"

    @app.callback(
        Output("stream-out", "children"),
        Input("stream-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    def streams(n_clicks):
        probe.start("stream")
        ws = ctx.websocket
        step = 0
        while not probe.release.is_set() and not ws.is_shutdown:
            step += 1
            set_props("stream-progress", {"children": step})
            time.sleep(0.005)
        if ws.is_shutdown:
            probe.saw_shutdown["stream"] = time.monotonic()
        return f"stream {n_clicks}"

    @app.callback(
        Output("afast-out", "children"),
        Input("afast-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    async def afast(n_clicks):
        return f"afast {n_clicks}"

    @app.callback(
        Output("fast-out", "children"),
        Input("fast-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    def fast(n_clicks):
        return f"fast {n_clicks}"

    app._setup_server()  # pylint: disable=protected-access
    return app, probe


def callback_request(name, n_clicks=1, request_id=None):
    """The renderer's callback_request for the app's ``name`` callback."""
    return {
        "type": "callback_request",
        "requestId": request_id or str(uuid.uuid4()),
        "rendererId": "renderer-1",
        "payload": {
            "output": f"{name}-out.children",
            "outputs": {"id": f"{name}-out", "property": "children"},
            "inputs": [
                {"id": f"{name}-btn", "property": "n_clicks", "value": n_clicks}
            ],
            "changedPropIds": [f"{name}-btn.n_clicks"],
            "state": [],
        },
    }


# ------------------------------------------------------------------ client


class RawClient:
    """A WebSocket client on a plain socket: every byte is the test's choice."""

    def __init__(self, port, origin=True):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = [
            f"GET {WS_PATH} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin:
            headers.append(f"Origin: http://{HOST}:{port}")
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "server closed during the handshake"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])
        assert self.status == 101, head
        self.close_code = None

    # frames
    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self.send_frame(0x1, text.encode())

    def send_json(self, message):
        self.send_text(json.dumps(message))

    def _read(self, n):
        while len(self.buffer) < n:
            if self.sock.fileno() < 0:
                raise ConnectionError("the client closed its socket")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the TCP connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_frame(self, timeout=10):
        self.sock.settimeout(timeout)
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return first & 0x0F, self._read(length)

    def messages(self, timeout=10):
        """Yield the server's JSON messages (batches flattened); answer pings.

        Stops at the server's close frame, recording its code.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no message from the server in time")
            opcode, payload = self.recv_frame(remaining)
            if opcode == 0x9:
                self.send_frame(0xA, payload)
            elif opcode == 0x8:
                self.close_code = (
                    struct.unpack("!H", payload[:2])[0] if payload else 1005
                )
                try:  # complete the closing handshake, as a browser does
                    self.send_frame(0x8, payload[:2])
                except OSError:
                    pass
                # and close TCP: some servers wait for that before they end
                # (uvicorn's legacy "websockets" implementation, 10 s)
                self.sock.close()
                return
            elif opcode == 0x1:
                data = json.loads(payload)
                for message in data if isinstance(data, list) else [data]:
                    yield message

    def wait_for(self, predicate, timeout=10):
        for message in self.messages(timeout):
            if predicate(message):
                return message
        raise AssertionError(f"connection closed ({self.close_code}) first")

    def response_to(self, request, timeout=10):
        return self.wait_for(
            lambda m: m.get("type") == "callback_response"
            and m.get("requestId") == request["requestId"],
            timeout,
        )

    def wait_close(self, timeout=10):
        """The close code the server sent (None if the TCP connection just ended)."""
        try:
            for _ in self.messages(timeout):
                pass
        except ConnectionError:
            pass
        return self.close_code

    # ways to go away
    def close_clean(self):
        self.send_frame(0x8, struct.pack("!H", 1000))
        self.sock.close()

    def reset(self):
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.sock.close()

    def go_silent(self):
        """A half-open peer: never reads, never answers a ping, never closes."""

    def discard(self):
        self.sock.close()


class ReapingProxy:
    """A TCP proxy that can drop both sides at once, as an idle reaper does."""

    def __init__(self, port):
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.target = port
        self.pairs = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection((HOST, self.target))
                self.pairs.append((client, upstream))
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(
                        target=self._pump, args=(a, b), daemon=True
                    ).start()
        except OSError:
            return

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reap(self):
        for pair in self.pairs:
            for sock in pair:
                try:
                    sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    # shutdown() wakes the pump thread blocked in recv()
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self):
        self.listener.close()
        self.reap()


# ------------------------------------------------------------------ server


class ServerThread:
    """A real server for ``app`` on its own loop in a thread."""

    def __init__(self, app, server, ws_impl=None, ping=None):
        self.app = app
        self.server = server
        self.ws_impl = ws_impl
        self.ping = ping
        self.loop = None
        self._stop = None
        self._uvicorn = None
        self.error = None
        sock = socket.create_server((HOST, 0))
        self.port = sock.getsockname()[1]
        self._sock = sock
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert wait_until(self._ready, 15), f"{server} did not start: {self.error}"

    def _ready(self):
        if self.loop is None or self._stop is None:
            return False
        if self.server == "uvicorn":
            return self._uvicorn is not None and self._uvicorn.started
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as probe:
                probe.sendall(b"GET /_dash-layout HTTP/1.1\r\nHost: x\r\n")
                probe.sendall(b"Connection: close\r\n\r\n")
                while probe.recv(65536):
                    pass
            return True
        except OSError:
            return False

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except Exception as error:  # pylint: disable=broad-exception-caught
            self.error = error
        finally:
            self.loop.close()

    async def _serve(self):
        self._stop = asyncio.Event()
        if self.server == "uvicorn":
            import uvicorn  # pylint: disable=import-outside-toplevel

            options = {}
            if self.ping:
                options = {"ws_ping_interval": self.ping, "ws_ping_timeout": self.ping}
            config = uvicorn.Config(
                self.app.server,
                ws=self.ws_impl,
                log_config=None,
                lifespan="off",
                access_log=False,
                **options,
            )
            self._uvicorn = uvicorn.Server(config)
            await self._uvicorn.serve(sockets=[self._sock])
        else:
            # pylint: disable=import-outside-toplevel
            from hypercorn.asyncio import serve
            from hypercorn.config import Config

            config = Config()
            # As dash's own run() does: one event stops the server and ends
            # the open WebSocket handlers (Python 3.12's Server.wait_closed()
            # waits for open connections).
            self.app.backend._ws_shutdown_event = self._stop
            self._sock.close()
            config.bind = [f"{HOST}:{self.port}"]
            config.accesslog = None
            config.errorlog = logging.getLogger("hypercorn.error")
            await serve(self.app.server, config, shutdown_trigger=self._stop.wait)

    def call(self, coro_fn, timeout=10):
        """Run ``coro_fn()`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result(timeout)

    def tasks(self):
        async def snapshot():
            me = asyncio.current_task()
            return {t for t in asyncio.all_tasks() if t is not me and not t.done()}

        return self.call(snapshot)

    def baseline(self):
        """The server's own tasks, once it is idle."""
        before = self.tasks()
        while True:
            time.sleep(0.05)
            now = self.tasks()
            if now == before:
                return now
            before = now

    def stop(self):
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        elif self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(15)
        assert not self.thread.is_alive(), "server did not stop"


def describe(task):
    coro = task.get_coro()
    frames = []
    while coro is not None:
        frames.append(getattr(coro, "__qualname__", repr(coro)))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if coro is not None and not inspect.iscoroutine(coro):
            break
    return " > ".join(frames)


def leftover_tasks(server, baseline, timeout=5):
    """Tasks started since ``baseline`` still on the loop after ``timeout``."""

    def extra():
        return server.tasks() - baseline

    left = extra()
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = extra()
    return sorted(describe(t) for t in left)


# ---------------------------------------------------------------- operator


class OperatorView(logging.Handler):
    """Every log record at WARNING+ from any logger, DEBUG from dash's."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []
        self._lock = threading.Lock()

    def emit(self, record):
        with self._lock:
            self.records.append(record)

    def __enter__(self):
        root = logging.getLogger()
        root.addHandler(self)
        self._dash_level = logging.getLogger("dash").level
        logging.getLogger("dash").setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)
        logging.getLogger("dash").setLevel(self._dash_level)

    def at_least(self, level):
        with self._lock:
            return [r for r in self.records if r.levelno >= level]

    def lines(self, level=logging.WARNING):
        return [
            f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.at_least(level)
        ]


def problems(view, stderr):
    """What an operator would call trouble, as a list of strings."""
    found = view.lines(logging.WARNING)
    found += [
        f"traceback in log: {r.name}: {r.getMessage()}"
        for r in view.records
        if r.exc_info and r.levelno >= logging.INFO
    ]
    for marker in ("Traceback", "never retrieved", "Exception in"):
        if marker in stderr:
            found.append(f"stderr has {marker!r}: {stderr[-2000:]}")
    return found
