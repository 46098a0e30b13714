"""`make demo`: the disconnect matrix, the untouched release against the PR.

For each server and scenario (every way of killing a client mid-callback from
the test suite, a pipelined-then-closed client, the server stopping
mid-callback, every malformed-frame class of the tests and an oversize
frame), runs a real server and real clients with each side's dash, and prints
what an operator would see. Writes the same table to dist/demo.md, and the
rows to dist/demo.json.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "build", "dash", "tests", "backend_tests"))

# pylint: disable=wrong-import-position
from ws_helpers import BAD_FRAMES, SERVERS, detects_half_open  # noqa: E402

# The close code each scenario must end with, where it has one: the protocol's
# for a bad frame, the server's own 1009 for an oversize one, and 1012 (the
# renderer reconnects) when the server stops.
EXPECTED_CODE = {f"bad:{name}": code for name, _, code in BAD_FRAMES}
EXPECTED_CODE.update({"bad:oversize": 1009, "server-stop": 1012})


def scenarios_for(server, ws_impl):
    kills = ["close", "reset", "reap"]
    if detects_half_open(server, ws_impl):
        kills.append("half-open")
    return (
        [f"kill:{k}" for k in kills]
        + ["pipelined-close", "server-stop"]
        + [f"bad:{name}" for name, _, _ in BAD_FRAMES]
        + ["bad:oversize"]
    )


def failing(row):
    expected = EXPECTED_CODE.get(row["scenario"])
    return bool(
        row["error_lines"]
        or row["tracebacks"]
        or row["tasks_left"]
        or row["serves_new_client"] is False
        or (expected is not None and row["close_code"] != expected)
    )


def cell(row):
    if row is None:
        return "-"
    code = row["close_code"] if row["close_code"] is not None else "gone"
    verdict = "FAIL" if failing(row) else "ok"
    serves = {True: "y", False: "N", None: "-"}[row["serves_new_client"]]
    tasks = "-" if row["tasks_left"] is None else row["tasks_left"]
    return (
        f"{verdict}: err={row['error_lines']} tb={row['tracebacks']} "
        f"close={code} tasks={tasks} serves={serves}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", required=True)
    parser.add_argument("--pr", required=True)
    parser.add_argument("--extra", action="append", default=[])
    args = parser.parse_args()
    sides = [("release 4.4.1", args.release)]
    sides += [(f"release {e.split('=')[0]}", e.split("=", 1)[1]) for e in args.extra]
    sides.append(("PR", args.pr))

    results = {}
    for backend, server, ws_impl in SERVERS:
        label = f"{backend}/{server}" + (f" ({ws_impl})" if ws_impl else "")
        scenarios = scenarios_for(server, ws_impl)
        for side, venv in sides:
            python = os.path.join(ROOT, venv, "bin", "python")
            command = [python, os.path.join(HERE, "demo_worker.py"), backend, server]
            command += [ws_impl or "-"] + scenarios
            with subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            ) as proc:
                for line in proc.stdout:
                    row = json.loads(line)
                    results[(label, row["scenario"], side)] = row
                    print(
                        f"[{side:>15}] {label:<35} {row['scenario']:<32} {cell(row)}",
                        file=sys.stderr,
                        flush=True,
                    )

    labels = []
    for key in results:
        if (key[0], key[1]) not in labels:
            labels.append((key[0], key[1]))
    header = ["scenario", "server"] + [side for side, _ in sides]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for label, scenario in labels:
        cells = [cell(results.get((label, scenario, side))) for side, _ in sides]
        lines.append(f"| {scenario} | {label} | " + " | ".join(cells) + " |")
    counts = {
        side: sum(
            1
            for label, scenario in labels
            if results.get((label, scenario, side)) is None
            or failing(results[(label, scenario, side)])
        )
        for side, _ in sides
    }
    legend = (
        "err: log records at ERROR+ and 'Exception in ASGI application'; "
        "tb: tracebacks; close: the close code the client got ('gone': the "
        "client had gone); tasks: the connection's tasks left on the server's "
        "loop; serves: a new client is served afterwards ('-': the server "
        "was stopped)."
    )
    summary = (
        f"scenarios={len(labels)} upstream_failing={counts[sides[0][0]]} "
        f"pr_failing={counts['PR']}"
    )
    os.makedirs(os.path.join(ROOT, "dist"), exist_ok=True)
    with open(os.path.join(ROOT, "dist", "demo.md"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n\n" + legend + "\n\n" + summary + "\n")
    with open(os.path.join(ROOT, "dist", "demo.json"), "w", encoding="utf-8") as out:
        rows = [
            {
                **row,
                "server": label,
                "side": side,
                "verdict": "FAIL" if failing(row) else "ok",
            }
            for (label, scenario, side), row in results.items()
        ]
        json.dump({"rows": rows, "summary": summary}, out, indent=1)
    print("\n".join(lines))
    print()
    print(legend)
    extra = " ".join(
        f"{side.split()[-1]}_failing={counts[side]}" for side, _ in sides[1:-1]
    )
    print(summary + (f" {extra}" if extra else ""))


if __name__ == "__main__":
    main()
