"""`make soak`: 500 clients die at random, while well-behaved clients keep calling.

Mixed FastAPI/uvicorn (websockets-sansio), Quart/Hypercorn and Quart/uvicorn.
Each client
opens, starts callbacks (sync, async, streaming set_props, waiting on
get_props), and dies at a random point in a random way; one in ten sends a
random malformed frame (generated with hypothesis) instead. Pass: zero error
lines, zero tasks left, RSS back within 10 MB of the warm start, every
well-behaved callback answered. Not part of `make test`.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from hypothesis import errors as hypothesis_errors
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "build", "dash", "tests", "backend_tests"))

# pylint: disable=wrong-import-position
from ws_helpers import RawClient, callback_request  # noqa: E402

warnings.simplefilter("ignore", hypothesis_errors.NonInteractiveExampleWarning)
warnings.simplefilter("ignore", hypothesis_errors.HypothesisDeprecationWarning)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
FIELDS = ["type", "requestId", "rendererId", "payload"]


def malformed_frame():
    """A random frame that a well-behaved renderer would never send."""
    kind = random.choice(["binary", "text", "json", "mutated"])
    if kind == "binary":
        return "binary", st.binary(max_size=64).example()
    if kind == "text":
        return "text", st.text(max_size=64).example()
    if kind == "json":
        return "text", json.dumps(JSON.example())
    message = callback_request(random.choice(["fast", "sync"]))
    field = random.choice(FIELDS)
    if random.random() < 0.3:
        del message[field]
    else:
        message[field] = JSON.example()
    return "text", json.dumps(message)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n


def doomed_client(port, tally):
    """Open, start callbacks, then die at a random point in a random way."""
    try:
        client = RawClient(port)
    except Exception:  # pylint: disable=broad-exception-caught
        tally.add("connect_failed")
        return
    try:
        if random.random() < 0.1:
            kind, frame = malformed_frame()
            if kind == "binary":
                client.send_frame(0x2, frame)
            else:
                client.send_text(frame)
            tally.add("malformed")
            client.wait_close(timeout=2)
            return
        for _ in range(random.randint(1, 3)):
            client.send_json(
                callback_request(
                    random.choice(["sync", "async", "stream", "get-props"])
                )
            )
        time.sleep(random.uniform(0, 0.3))
        how = random.choice(["close", "reset", "silent-then-reset", "at-response"])
        tally.add(f"died:{how}")
        if how == "close":
            client.close_clean()
        elif how == "reset":
            client.reset()
        elif how == "silent-then-reset":
            time.sleep(random.uniform(0.2, 1.5))
            client.reset()
        else:
            client.send_json(callback_request("fast"))
            client.reset()
    except (OSError, ConnectionError, TimeoutError):
        tally.add("client_side_error")
    finally:
        client.discard()


def steady_client(port, stop, tally):
    """A well-behaved client: calls and waits for each answer."""
    client = RawClient(port)
    n = 0
    while not stop.is_set():
        n += 1
        request = callback_request(random.choice(["fast", "afast"]), n)
        client.send_json(request)
        try:
            response = client.response_to(request, timeout=10)
            ok = response["payload"]["status"] == "ok"
            tally.add("answered" if ok else "unanswered")
        except Exception:  # pylint: disable=broad-exception-caught
            tally.add("unanswered")
            client.discard()
            client = RawClient(port)
        time.sleep(0.05)
    client.close_clean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", required=True)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    python = os.path.join(ROOT, args.venv, "bin", "python")
    worker = subprocess.Popen(
        [python, os.path.join(HERE, "soak_worker.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def ask(command):
        worker.stdin.write(command + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())

    ports = json.loads(worker.stdout.readline())
    tally = Tally()
    # Warm up both servers, then take the baseline.
    for port in ports.values():
        for name in ("fast", "afast", "sync", "stream"):
            client = RawClient(port)
            request = callback_request(name)
            client.send_json(request)
            if name in ("fast", "afast"):
                client.response_to(request)
            client.reset()
    time.sleep(1)
    ask("baseline")

    stop = threading.Event()
    steady = [
        threading.Thread(target=steady_client, args=(port, stop, tally))
        for port in ports.values()
        for _ in range(2)
    ]
    for thread in steady:
        thread.start()
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        for i in range(args.clients):
            pool.submit(doomed_client, random.choice(list(ports.values())), tally)
            time.sleep(args.seconds / args.clients)
            if (i + 1) % 50 == 0:
                print(
                    f"{i + 1} clients, {time.monotonic() - started:.0f} s: {tally.counts}",
                    file=sys.stderr,
                    flush=True,
                )
    stop.set()
    for thread in steady:
        thread.join()

    deadline = time.monotonic() + 20
    stats = ask("stats")
    while stats["tasks_left"] and time.monotonic() < deadline:
        time.sleep(0.5)
        stats = ask("stats")
    print(json.dumps(stats, indent=1), file=sys.stderr)
    print(f"outcomes: {tally.counts}", file=sys.stderr)
    worker.stdin.close()
    worker.wait(30)
    print(
        f"clients={args.clients} error_lines={stats['error_lines']} "
        f"tasks_left={stats['tasks_left']} rss_growth_mb={stats['rss_growth_mb']:.1f} "
        f"unanswered={tally.counts.get('unanswered', 0)}"
    )


if __name__ == "__main__":
    main()
