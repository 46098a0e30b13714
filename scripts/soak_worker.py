"""The server side of `make soak`: both backends in one process, watched.

Prints {"fastapi": port, "quart": port}, then answers commands on stdin, one
JSON line each:
    baseline  remember the servers' idle tasks and the warm RSS
    stats     tasks left since the baseline, RSS growth, error lines
"""
import gc
import io
import json
import logging
import os
import sys
import time

import psutil

sys.path.insert(
    0,
    os.path.join(
        os.path.dirname(__file__), "..", "build", "dash", "tests", "backend_tests"
    ),
)

# pylint: disable=wrong-import-position
from ws_helpers import (  # noqa: E402
    OperatorView,
    ServerThread,
    describe,
    make_app,
)


def main():
    stderr = io.StringIO()
    sys.stderr = stderr
    view = OperatorView().__enter__()
    servers = {}
    for backend, server, impl in (
        ("fastapi", "uvicorn", "websockets-sansio"),
        ("quart", "hypercorn", None),
        ("quart", "uvicorn", "websockets-sansio"),
    ):
        app, _ = make_app(backend)
        servers[f"{backend}-{server}"] = ServerThread(app, server, impl)
    print(json.dumps({k: s.port for k, s in servers.items()}), flush=True)
    process = psutil.Process()
    baseline = {}
    warm_rss = None
    for line in sys.stdin:
        command = line.strip()
        gc.collect()
        if command == "baseline":
            baseline = {k: s.baseline() for k, s in servers.items()}
            time.sleep(0.2)
            gc.collect()
            warm_rss = process.memory_info().rss
            print(json.dumps({"ok": True}), flush=True)
        elif command == "stats":
            left = {
                k: sorted(describe(t) for t in s.tasks() - baseline.get(k, set()))
                for k, s in servers.items()
            }
            errors = view.lines(logging.ERROR)
            text = stderr.getvalue()
            print(
                json.dumps(
                    {
                        "tasks_left": sum(len(v) for v in left.values()),
                        "tasks": {k: v[:5] for k, v in left.items()},
                        "rss_growth_mb": (process.memory_info().rss - warm_rss)
                        / 2**20,
                        "error_lines": len(errors)
                        + text.count("Traceback")
                        + text.count("Exception in"),
                        "errors": errors[:5],
                        "warnings": len(view.lines(logging.WARNING)) - len(errors),
                    }
                ),
                flush=True,
            )
    for s in servers.values():
        s.stop()


if __name__ == "__main__":
    main()
