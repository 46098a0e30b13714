#!/usr/bin/env bash
# `make repro` / `make demo`: dist/ISSUE.md's reproduction (scripts/repro.py)
# with each given venv's dash, on each server: what the server logged at
# WARNING and above, and its exceptions, side by side; then how many runs
# of each side logged anything (pr_failing: those of every side but release).
# "asgi": repro.py plays the ASGI server of a race real sockets hit now and
# then, and prints what the app raised, or that its handler did not end.
#
# usage: scripts/repro.sh <venv>=<label>...
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
declare -A failing  # label -> runs (server, Python) that logged something
for pair in "$@"; do
  venv=${pair%%=*}
  printf '%-8s %s\n' "${pair#*=}" "$("$root/$venv/bin/python" -c 'import sys
from importlib.metadata import version as v
names = ["dash", "starlette", "fastapi", "uvicorn", "websockets", "quart", "hypercorn"]
print(f"Python {sys.version.split()[0]}: " + ", ".join(f"{n} {v(n)}" for n in names))')"
done
for server in "fastapi uvicorn" "quart hypercorn" "quart uvicorn" "fastapi asgi" "quart asgi"; do
  echo "== ${server% *} on ${server#* }"
  for pair in "$@"; do
    venv=${pair%%=*} label=${pair#*=}
    python=$root/$venv/bin/python
    version=$("$python" -c 'import sys, dash; print(f"dash {dash.__version__}, Python {sys.version.split()[0]}")')
    log=$(cd "$root/scripts" && timeout 60 "$python" repro.py $server 2>&1)
    # what is not a traceback's frame: messages, and exceptions (also in groups)
    lines=$(echo "$log" | grep -vE '^\s*(\| *)?(Traceback|File |\^|\+ Exception Group|$)|^\s+[^|]' || true)
    failing[$label]=${failing[$label]:-0}
    if [ -z "$lines" ]; then
      printf '  %-8s (%s): nothing logged\n' "$label" "$version"
    else
      printf '  %-8s (%s): %s traceback(s), in %s lines\n' "$label" "$version" \
        "$(echo "$log" | grep -c 'Traceback (most recent call last)')" "$(echo "$log" | wc -l)"
      echo "$lines" | sed 's/^/      /'
      failing[$label]=$((failing[$label] + 1))
    fi
  done
done
pr=0 summary=""
for pair in "$@"; do
  label=${pair#*=}
  case "$summary" in *" $label="*) continue ;; esac
  summary="$summary $label=${failing[$label]}"
  [ "$label" = release ] || pr=$((pr + failing[$label]))
done
echo "runs that logged something:$summary"
echo "pr_failing=$pr"

