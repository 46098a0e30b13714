"""`make pr` (second half): dist/PR.md, the pull request's description.

The prose is in scripts/PR.md.in; the figures come from the files in
results/, each written by a command of this repository (its first line says
which), and the list of commits from build/dash. Run with any Python 3.
"""
import json
import os
import subprocess
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(ROOT, "results")


def read(name):
    with open(os.path.join(RESULTS, name), encoding="utf-8") as f:
        return f.read().rstrip("\n")


def series():
    log = subprocess.run(
        ["git", "-C", os.path.join(ROOT, "build", "dash"), "log", "--reverse"]
        + ["--format=%s", "upstream..HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return "\n".join(f"{i}. {subject}" for i, subject in enumerate(log, 1))


def group(scenario):
    """Kills and the like stay rows of their own; bad frames are one row."""
    if scenario.startswith("bad:") and scenario != "bad:oversize":
        return "bad frames (each class of the tests)"
    return scenario


def demo():
    """The demo's rows, condensed: per scenario group and server, how many
    scenarios fail on the release and with the PR."""
    data = json.loads(read("demo.json"))
    sides = sorted({row["side"] for row in data["rows"]}, key=lambda s: s != "PR")
    release = [s for s in sides if s != "PR"][0]
    cells = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    servers, groups = [], []
    for row in data["rows"]:
        server, name = row["server"], group(row["scenario"])
        if server not in servers:
            servers.append(server)
        if name not in groups:
            groups.append(name)
        cell = cells[name][server]
        if row["side"] == release:
            cell[0] += 1 if row["verdict"] == "FAIL" else 0
            cell[2] += 1
        elif row["side"] == "PR":
            cell[1] += 1 if row["verdict"] == "FAIL" else 0
    lines = [
        "| scenario | " + " | ".join(servers) + " |",
        "|---|" + "---|" * len(servers),
    ]
    for name in groups:
        row = []
        for server in servers:
            bad_release, bad_pr, total = cells[name][server]
            row.append(
                f"{bad_release}/{total} → {bad_pr}/{total}" if total else "-"
            )
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines), data["summary"]


def main():
    table, summary = demo()
    with open(os.path.join(HERE, "PR.md.in"), encoding="utf-8") as f:
        text = f.read()
    for key, value in {
        "series": series(),
        "demo_table": table,
        "demo_summary": summary,
        "bench": read("bench.txt"),
        "tests": read("test.txt"),
        "guards": read("guards.txt"),
        "stress": read("stress.txt"),
        "bisect": read("bisect.txt"),
    }.items():
        text = text.replace("{{" + key + "}}", value)
    print(text, end="")


if __name__ == "__main__":
    main()
