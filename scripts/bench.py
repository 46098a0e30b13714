"""`make bench [AT=pr-k]`: what the stack (or its k-th PR's tip) costs on a
healthy connection, against the release.

Throughput and latency of WebSocket callback round trips (20 connections x 100
sequential callbacks, sync and async callbacks, uvicorn websockets-sansio),
the release and the PR alternating in one run, with a bare Starlette echo
endpoint on the same server as the floor. Then cleanup time after a client
dies mid-callback. The machines are shared and noisy: compare the ratios,
measured in one alternating run, not the absolute figures.
"""
import argparse
import asyncio
import base64
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONNECTIONS = 20
CALLS = 100
# The server and the client each get a core of their own (when there are two),
# so that both sides are measured under the same conditions.
SERVER_CPU, CLIENT_CPU = (1, 0) if len(os.sched_getaffinity(0)) > 1 else (None, None)


def pin(cpu):
    """A preexec_fn that pins the child to ``cpu`` (or does nothing)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Client:
    """A minimal asyncio WebSocket client (text frames only)."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{port}\r\n\r\n"
            ).encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        return cls(reader, writer)

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        header = (
            struct.pack("!BB", 0x81, 0x80 | n)
            if n < 126
            else struct.pack("!BBH", 0x81, 0x80 | 126, n)
        )
        self.writer.write(
            header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        )

    async def recv(self):
        while True:
            first, second = await self.reader.readexactly(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(n)
            if first & 0x0F == 0x1:
                return payload.decode()

    async def close(self):
        self.writer.close()


def request(name):
    return json.dumps(
        {
            "type": "callback_request",
            "requestId": str(uuid.uuid4()),
            "rendererId": "bench",
            "payload": {
                "output": f"{name}.children",
                "outputs": {"id": name, "property": "children"},
                "inputs": [{"id": name, "property": "title", "value": 1}],
                "changedPropIds": [f"{name}.title"],
                "state": [],
            },
        }
    )


async def one_connection(port, kind, latencies):
    path = "/echo" if kind == "echo" else "/_dash-ws-callback"
    client = await Client.connect(port, path)
    for _ in range(CALLS):
        text = "x" * 200 if kind == "echo" else request(kind)
        start = time.perf_counter()
        client.send(text)
        while True:
            reply = await client.recv()
            if kind == "echo" or "callback_response" in reply:
                break
        latencies.append(time.perf_counter() - start)
    await client.close()


async def load(port, kind):
    latencies = []
    start = time.perf_counter()
    await asyncio.gather(
        *(one_connection(port, kind, latencies) for _ in range(CONNECTIONS))
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "throughput": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def measure(venv, kinds):
    python = os.path.join(ROOT, venv, "bin", "python")
    with subprocess.Popen(
        [python, os.path.join(HERE, "bench_worker.py"), "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=pin(SERVER_CPU),
    ) as proc:
        port = int(proc.stdout.readline())

        def cpu():
            proc.stdin.write("\n")
            proc.stdin.flush()
            return float(proc.stdout.readline())

        results = {}
        for kind in kinds:
            before = cpu()
            results[kind] = asyncio.run(load(port, kind))
            calls = CONNECTIONS * CALLS
            results[kind]["cpu_us"] = (cpu() - before) / calls * 1e6
        proc.stdin.close()
        proc.wait(30)
    return results


def cleanup(venv, deaths):
    python = os.path.join(ROOT, venv, "bin", "python")
    out = subprocess.run(
        [python, os.path.join(HERE, "bench_worker.py"), "cleanup", str(deaths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", required=True)
    parser.add_argument("--pr", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--deaths", type=int, default=50)
    args = parser.parse_args()
    if CLIENT_CPU is not None:
        os.sched_setaffinity(0, {CLIENT_CPU})
    sides = {"release": args.release, "PR": args.pr}
    kinds = ["fast", "afast", "echo"]
    runs = {side: {kind: [] for kind in kinds} for side in sides}
    for round_no in range(1, args.rounds + 1):
        for side in sides if round_no % 2 else reversed(list(sides)):
            result = measure(sides[side], kinds)
            for kind in kinds:
                runs[side][kind].append(result[kind])
            print(
                f"round {round_no} {side:>7}: "
                + "  ".join(
                    f"{k} {result[k]['throughput']:.0f}/s p50 {result[k]['p50_ms']:.1f}ms"
                    f" cpu {result[k]['cpu_us']:.0f}us"
                    for k in kinds
                ),
                file=sys.stderr,
                flush=True,
            )

    def med(side, kind, field):
        return statistics.median(r[field] for r in runs[side][kind])

    label = {"fast": "sync callback", "afast": "async callback", "echo": "bare echo"}
    print(
        f"{'':16} {'side':>7} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'server CPU us/call':>19}"
    )
    for kind in kinds:
        for side in sides:
            print(
                f"{label[kind]:16} {side:>7} {med(side, kind, 'throughput'):9.0f} "
                f"{med(side, kind, 'p50_ms'):8.2f} {med(side, kind, 'p99_ms'):8.2f}"
                f" {med(side, kind, 'cpu_us'):19.0f}"
            )
    # Ratios are taken within each round (release and PR measured back to
    # back), then the median over rounds: slow drift of a shared machine
    # cancels out.
    callbacks = ("fast", "afast")

    def ratio(field):
        per_round = [
            statistics.mean(
                runs["PR"][k][i][field] / runs["release"][k][i][field]
                for k in callbacks
            )
            for i in range(args.rounds)
        ]
        return statistics.median(per_round)

    throughput_ratio = ratio("throughput")
    latency_ratio = ratio("p50_ms")
    echo = statistics.median(
        runs["PR"]["echo"][i]["throughput"] / runs["release"]["echo"][i]["throughput"]
        for i in range(args.rounds)
    )
    print(
        f"per-round ratios PR/release, median of {args.rounds}: "
        f"throughput {throughput_ratio:.3f}, p50 latency {latency_ratio:.3f}, "
        f"server CPU per call {ratio('cpu_us'):.3f}; "
        f"the echo floor, which runs no dash code: throughput {echo:.3f}"
    )

    print(
        f"cleanup after {args.deaths} deaths mid-callback (TCP reset), ms:",
        file=sys.stderr,
        flush=True,
    )
    cleaned = {}
    for side in sides:
        result = cleanup(sides[side], args.deaths)
        gone = [
            max(s, t)
            for s, t in zip(result["seen_ms"], result["tasks_gone_ms"])
            if s is not None and t is not None
        ]
        missing = args.deaths - len(gone)
        cleaned[side] = gone
        print(
            f"{'cleanup':16} {side:>7} median {statistics.median(gone):6.1f} ms"
            f"  max {max(gone):6.1f} ms  never: {missing}"
        )
    per_callback = {side: instructions_per_callback(sides[side]) for side in sides}
    for side in sides:
        print(
            f"{'instructions':16} {side:>7} {per_callback[side]:9.0f} per pipelined"
            " sync callback (callgrind)"
        )
    print(
        f"throughput_ratio={throughput_ratio:.2f} latency_p50_ratio={latency_ratio:.2f} "
        f"cleanup_ms_median={statistics.median(cleaned['PR']):.0f} "
        f"cleanup_ms_max={max(cleaned['PR']):.0f} "
        f"instructions_ratio={per_callback['PR'] / per_callback['release']:.3f}"
    )


def instructions(venv, calls):
    """Instructions callgrind counts for ``calls`` pipelined sync callbacks
    on one connection (bench_worker.py count), start-up not counted."""
    python = os.path.join(ROOT, venv, "bin", "python")
    with subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            python,
            os.path.join(HERE, "bench_worker.py"),
            "count",
            str(calls),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # str hashes are randomised per process and they steer dict and set
        # work: with a fixed seed two runs agree within a few instructions.
        env={**os.environ, "PYTHONHASHSEED": "0"},
    ) as proc:
        pid = proc.stdout.readline().split()[1]
        subprocess.run(
            ["callgrind_control", "--instr=on", pid], check=True, capture_output=True
        )
        _, err = proc.communicate("go\n", timeout=900)
    return int(re.search(r"Collected : (\d+)", err).group(1))


def instructions_per_callback(venv):
    """The count of 520 callbacks less that of 20, per callback. With the
    hash seed fixed, the same code, inputs and Python give the same figure
    within a few instructions (without it, runs differ by up to 0.5%)."""
    per = (instructions(venv, 520) - instructions(venv, 20)) / 500
    print(f"callgrind: {venv} {per:.0f} instructions per callback", file=sys.stderr)
    return per


if __name__ == "__main__":
    main()
