"""One side of `make demo`: every scenario on one server, with this venv's dash.

Run by scripts/demo.py with the interpreter of the venv under test; prints one
JSON object per scenario on stdout.
"""
import contextlib
import gc
import io
import json
import logging
import os
import select
import struct
import sys
import threading
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
    BAD_FRAMES,
    OperatorView,
    RawClient,
    ReapingProxy,
    ServerThread,
    callback_request,
    make_app,
)

# A text frame over the 16 MiB that uvicorn and Hypercorn accept by default.
OVERSIZE = 17 * 2**20


def send_oversize(client):
    """An oversize text frame, sent a chunk at a time until the server
    answers: some servers refuse it on its header, others once it is in."""
    client.sock.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, OVERSIZE) + b"mask")
    chunk = b"x" * 2**16
    wait = 0.5  # for an answer to the header
    for _ in range(OVERSIZE // len(chunk)):
        if select.select([client.sock], [], [], wait)[0]:
            return  # the server has answered
        client.sock.sendall(chunk)
        wait = 0


def kill_scenario(client, probe, proxy, kill):
    for name in ("sync", "async", "stream"):
        client.send_json(callback_request(name))
    for name in ("sync", "async", "stream"):
        probe.wait_started(name)
    if kill == "close":
        client.close_clean()
    elif kill == "reset":
        client.reset()
    elif kill == "reap":
        proxy.reap()
    # half-open: the client just stops reading and answering pings


def pipelined(client):
    for name in ("sync", "async", "fast", "stream"):
        client.send_json(callback_request(name))
    client.send_json({"type": "heartbeat"})
    client.close_clean()


def server_stop(client, probe, srv):
    """Stop the server mid-callback; the close code the client got."""
    client.send_json(callback_request("sync"))
    probe.wait_started("sync")
    codes = []
    reader = threading.Thread(target=lambda: codes.append(client.wait_close(10)))
    reader.start()
    srv.stop()
    reader.join(15)
    return codes[0] if codes else None


def serves_new_client(port):
    try:
        client = RawClient(port)
        request = callback_request("fast", 9)
        client.send_json(request)
        ok = client.response_to(request, timeout=5)["payload"]["status"] == "ok"
        client.close_clean()
        return ok
    except Exception:  # pylint: disable=broad-exception-caught
        return False


def run(backend, server, ws_impl, scenario):
    app, probe = make_app(backend)
    stderr = io.StringIO()
    with OperatorView() as view, contextlib.redirect_stderr(stderr):
        half_open = scenario == "kill:half-open"
        srv = ServerThread(app, server, ws_impl, ping=0.3 if half_open else None)
        baseline = srv.baseline()
        proxy = ReapingProxy(srv.port) if scenario == "kill:reap" else None
        client = RawClient(proxy.port if proxy else srv.port)
        code = left = serving = None
        try:
            if scenario.startswith("kill:"):
                kill_scenario(client, probe, proxy, scenario[5:])
            elif scenario == "pipelined-close":
                pipelined(client)
            elif scenario == "server-stop":
                code = server_stop(client, probe, srv)
            else:
                frames = {name: frame for name, frame, _ in BAD_FRAMES}
                if scenario == "bad:oversize":
                    send_oversize(client)
                else:
                    client.send_any(frames[scenario[4:]])
                code = client.wait_close(timeout=5)
                if code is None:
                    code = 1006  # the TCP connection ended without a close frame
        except Exception as error:  # pylint: disable=broad-exception-caught
            code = f"client error: {error!r}"
        if scenario != "server-stop":
            timeout = 15 if half_open and ws_impl == "websockets" else 5
            left = srv.leftover_tasks(baseline, timeout=timeout)
            serving = serves_new_client(srv.port)
            srv.stop()
        client.discard()
        if proxy:
            proxy.close()
        probe.release.set()
        gc.collect()
        time.sleep(0.05)
    text = stderr.getvalue()
    errors = view.lines(logging.ERROR)
    return {
        "error_lines": len(errors) + text.count("Exception in ASGI application"),
        "warnings": len(view.lines(logging.WARNING)) - len(errors),
        "tracebacks": text.count("Traceback")
        + sum(1 for r in view.records if r.exc_info and r.levelno >= logging.ERROR),
        "close_code": code,
        "tasks_left": None if left is None else len(left),
        "serves_new_client": serving,
        "first_error": (errors[:1] or [""])[0][:160],
    }


def main():
    backend, server, ws_impl = sys.argv[1], sys.argv[2], sys.argv[3]
    ws_impl = None if ws_impl == "-" else ws_impl
    scenarios = sys.argv[4:]
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    for scenario in scenarios:
        row = run(backend, server, ws_impl, scenario)
        row["scenario"] = scenario
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
