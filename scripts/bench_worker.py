"""The server side of `make bench`, run with the interpreter of the side's venv.

    bench_worker.py serve      serve the test app (FastAPI, uvicorn
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
"""
import asyncio
import concurrent.futures
import json
import os
import sys
import time

# The tests' helper module of the PR tree: it imports dash from this venv.
sys.path.insert(
    0,
    os.path.join(
        os.path.dirname(__file__), "..", "build", "dash", "tests", "backend_tests"
    ),
)

# pylint: disable=wrong-import-position
from ws_helpers import (  # noqa: E402
    SCOPE,
    RawClient,
    ServerThread,
    callback_request,
    make_app,
)


def serve():
    app, _ = make_app("fastapi")

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
    server = ServerThread(app, "uvicorn", "websockets-sansio")
    print(server.port, flush=True)
    for _ in sys.stdin:  # each line asks for the CPU time used so far
        print(time.process_time(), flush=True)
    server.stop()


def cleanup(count):
    app, probe = make_app("fastapi")
    server = ServerThread(app, "uvicorn", "websockets-sansio")
    baseline = server.baseline()
    seen, gone = [], []
    for _ in range(count):
        probe.reset()
        client = RawClient(server.port)
        client.send_json(callback_request("sync", probe.token))
        probe.wait_started("sync")
        died = time.monotonic()
        client.reset()
        tasks_gone = None
        deadline = died + 10
        while time.monotonic() < deadline:
            if tasks_gone is None and not server.tasks() - baseline:
                tasks_gone = time.monotonic()
            if tasks_gone is not None and probe.saw_shutdown.get("sync"):
                break
            time.sleep(0.002)
        saw = probe.saw_shutdown.get("sync")
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
    app, _ = make_app("fastapi")
    app.backend._callback_executor = InlineExecutor()  # pylint: disable=protected-access
    texts = [
        json.dumps(callback_request("fast", i, request_id=f"r{i}")) for i in range(n)
    ]

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
    {"serve": lambda: serve(), "cleanup": lambda: cleanup(int(sys.argv[2]))}.get(
        sys.argv[1], lambda: count(int(sys.argv[2]))
    )()
