#!/usr/bin/env bash
# Run in build/dash, with one venv's Python, what dash's CI (testing.yml) runs
# for a PR that touches dash/backends/: lint-unit's unit tests, then the
# backend-tests and websocket-tests jobs, each exactly as testing.yml runs it
# (tests/ copied into a fresh package folder beside dash's pytest.ini, then
# `pytest --headless --nopercyfinalize <suite> -v -s`).
#
# usage: scripts/ci-jobs.sh <venv> <job>...     jobs: unit backend websocket
# (TREE=<dir> runs them in another checkout of the tree, with its dash.) Each job's whole
# output goes to build/logs/<venv>-<job>.log; what is printed here is its
# summary (and, when it fails, the end of the log).
set -uo pipefail
venv=$(cd "$1" && pwd)
shift
name=$(basename "$venv")
root=$(cd "$(dirname "$0")/.." && pwd)
tree=${TREE:-$root/build/dash}
# Another checkout's dash/ must be the one imported, not the venv's editable
# install (build/dash): it goes first on sys.path.
[ -n "${TREE:-}" ] && export PYTHONPATH=$tree
logs=$root/build/logs
mkdir -p "$logs"
export DASH_TEST_CHROMEPATH=${DASH_TEST_CHROMEPATH:-$(command -v chromium || true)}
# Per job; a hang fails the job instead of the whole run.
JOB_TIMEOUT=${JOB_TIMEOUT:-900}
status=0

run() {  # <job> <dir> <command...>
  local job=$1 dir=$2 log="$logs/${LOG_PREFIX:-}$name-$1.log" start rc
  shift 2
  start=$(date +%s)
  (cd "$dir" && timeout "$JOB_TIMEOUT" "$@") >"$log" 2>&1
  rc=$?
  printf '%-22s %-10s rc=%s %4ss  %s\n' "$name" "$job" "$rc" "$(($(date +%s) - start))" \
    "$(grep -E '^=+ .*(passed|failed|error).* =+$' "$log" | tail -1 | tr -d '=' | sed 's/^ *//')"
  if [ "$rc" != 0 ]; then
    status=1
    echo "---- end of $log ----"
    tail -n 120 "$log"
    echo "----"
  fi
}

# A job's copy of tests/, as testing.yml makes it: a package folder inside the
# checkout, so that dash's pytest.ini (one level up) applies.
fresh_copy() {  # <folder>
  rm -rf "${tree:?}/$1" && mkdir "$tree/$1" && cp -r "$tree/tests" "$tree/$1/tests" && touch "$tree/$1/__init__.py"
}

for job in "$@"; do
  case $job in
    unit)  # lint-unit's `pytest tests/unit` (the tree has dash's WebSocket ones)
      run unit "$tree" "$venv/bin/python" -m pytest tests/unit ;;
    backend)
      fresh_copy bgtests
      run backend "$tree/bgtests" "$venv/bin/python" -m pytest \
        --headless --nopercyfinalize tests/backend_tests -v -s ;;
    websocket)
      fresh_copy wstests
      run websocket "$tree/wstests" "$venv/bin/python" -m pytest \
        --headless --nopercyfinalize tests/websocket -v -s ;;
    *) echo "unknown job $job" >&2; exit 2 ;;
  esac
done
exit $status
