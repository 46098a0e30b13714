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
"""
import json
import os
import sys
import time

sys.path.insert(
    0, os.path.join(os.path.dirname(__file__), "..", "tests", "backend_tests")
)

# pylint: disable=wrong-import-position
from ws_disconnect_support import (  # noqa: E402
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
    from starlette.routing import (
        WebSocketRoute,
    )  # pylint: disable=import-outside-toplevel

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
        probe.saw_shutdown.clear()
        probe.started.clear()
        client = RawClient(server.port)
        client.send_json(callback_request("sync"))
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


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        cleanup(int(sys.argv[2]))
