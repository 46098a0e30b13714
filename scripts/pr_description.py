"""`make pr` (second half): each pull request's description, dist/pr-k.md,
from prs/NN-<slug>/PR.md.in, and the bug report, dist/ISSUE.md, from
scripts/ISSUE.md.in.

In a template, {{commits}} is the PR's commits, {{size}} its changed lines
(what `git diff --numstat` counts, from the previous PR's tip), {{file:path}}
a file of this repository, {{body:path}} the same without its first line,
{{tail:path}} its last line, {{at:path}} only its lines for this PR's tip (results/test.txt: the lines
before the first "== pr-k" are the top's) (the figures are in results/, each
file written by a command of this repository, which its first line names).
Run with any Python 3.
"""
import glob
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TREE = os.path.join(ROOT, "build", "dash")


def git(*args):
    return subprocess.run(
        ["git", "-C", TREE, *args], capture_output=True, text=True, check=True
    ).stdout


def size(base, tip):
    counts = {"dash source": 0, "tests": 0, "other": 0}
    for line in git("diff", "--numstat", base, tip).splitlines():
        added, removed, path = line.split("\t")
        kind = (
            "dash source"
            if path.startswith("dash/")
            else "tests" if path.startswith("tests/") else "other"
        )
        counts[kind] += int(added) + int(removed)
    total = sum(counts.values())
    parts = ", ".join(f"{kind} {n}" for kind, n in counts.items())
    return f"{total} changed lines ({parts}; `git diff --numstat {base} {tip}`)"


def fill(text, base=None, tip=None, top=None):
    def file(match):
        with open(os.path.join(ROOT, match.group(1)), encoding="utf-8") as f:
            return f.read().rstrip("\n")

    def body(match):  # the file without its first line (the command and date)
        return file(match).split("\n", 1)[1]

    def at(match):  # the lines of results/test.txt for this tip
        lines, out = body(match).split("\n"), []
        mine = tip == top
        for line in lines:
            if line.startswith(("== pr-", "make test:")):
                mine = line.startswith(f"== {tip} ")
            if mine:
                out.append(line)
        return "\n".join(out)

    text = re.sub(r"\{\{file:([^}]+)\}\}", file, text)
    def tail(match):  # the file's last line
        return file(match).split("\n")[-1]

    text = re.sub(r"\{\{tail:([^}]+)\}\}", tail, text)
    text = re.sub(r"\{\{at:([^}]+)\}\}", at, text)
    text = re.sub(r"\{\{body:([^}]+)\}\}", body, text)
    if tip:
        commits = git("log", "--reverse", "--format=%s", f"{base}..{tip}")
        text = text.replace(
            "{{commits}}",
            "\n".join(f"{i}. {s}" for i, s in enumerate(commits.splitlines(), 1)),
        )
        text = text.replace("{{size}}", size(base, tip))
    return text


def main():
    os.makedirs(os.path.join(ROOT, "dist"), exist_ok=True)
    base = "upstream"
    folders = sorted(glob.glob(os.path.join(ROOT, "prs", "[0-9]*")))
    for k, folder in enumerate(folders, 1):
        tip = f"pr-{k}"
        with open(os.path.join(folder, "PR.md.in"), encoding="utf-8") as f:
            text = fill(f.read(), base, tip, f"pr-{len(folders)}")
        out = os.path.join(ROOT, "dist", f"{tip}.md")
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"dist/{tip}.md: {text.count(chr(10))} lines ({os.path.basename(folder)})")
        base = tip
    # the bug reports: PR 1's (dist/ISSUE.md, also dist/issues/pr-1.md), each
    # other PR's (prs/NN-*/ISSUE.md.in), and scripts/issues/*.md.in
    os.makedirs(os.path.join(ROOT, "dist", "issues"), exist_ok=True)
    sources = [(os.path.join(HERE, "ISSUE.md.in"), "ISSUE.md")]
    sources.append((os.path.join(HERE, "ISSUE.md.in"), "issues/pr-1.md"))
    for k, folder in enumerate(folders, 1):
        if os.path.exists(os.path.join(folder, "ISSUE.md.in")):
            sources.append((os.path.join(folder, "ISSUE.md.in"), f"issues/pr-{k}.md"))
    for path in sorted(glob.glob(os.path.join(HERE, "issues", "*.md.in"))):
        sources.append((path, "issues/" + os.path.basename(path)[: -len(".in")]))
    for path, name in sources:
        with open(path, encoding="utf-8") as f:
            text = fill(f.read())
        with open(os.path.join(ROOT, "dist", name), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"dist/{name}: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
