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
import sys
import time

sys.path.insert(
    0, os.path.join(os.path.dirname(__file__), "..", "tests", "backend_tests")
)

# pylint: disable=wrong-import-position
from ws_disconnect_support import (  # noqa: E402
    OperatorView,
    RawClient,
    ReapingProxy,
    ServerThread,
    callback_request,
    leftover_tasks,
    make_app,
)
from test_ws_bad_input import BAD_FRAMES  # noqa: E402

KILLS = ["close", "reset", "reap", "half-open"]


def kill_scenario(client, served_probe, proxy, kill):
    for name in ("sync", "async", "stream"):
        client.send_json(callback_request(name))
    for name in ("sync", "async", "stream"):
        served_probe.wait_started(name)
    if kill == "close":
        client.close_clean()
    elif kill == "reset":
        client.reset()
    elif kill == "reap":
        proxy.reap()
    return None  # the client is gone: no close code to read


def pipelined(client):
    for name in ("sync", "async", "fast", "stream"):
        client.send_json(callback_request(name))
    client.send_json({"type": "heartbeat"})
    client.close_clean()


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
        code = None
        try:
            if scenario.startswith("kill:"):
                kill_scenario(client, probe, proxy, scenario[5:])
            elif scenario == "pipelined-close":
                pipelined(client)
            else:
                send = {f[0]: f[1] for f in BAD_FRAMES}[scenario[4:]]
                send(client)
                code = client.wait_close(timeout=5)
                if code is None:
                    code = 1006  # the TCP connection ended without a close frame
        except Exception as error:  # pylint: disable=broad-exception-caught
            code = f"client error: {error!r}"
        timeout = 15 if half_open and ws_impl == "websockets" else 5
        left = leftover_tasks(srv, baseline, timeout=timeout)
        serving = serves_new_client(srv.port)
        client.discard()
        if proxy:
            proxy.close()
        srv.stop()
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
        "tasks_left": len(left),
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
