#!/usr/bin/env bash
# `make bisect-check`: every commit of the stack, on its own, passes dash's
# linters on what the stack has touched by then and the tests that exist at
# that commit: unit, backend-tests and websocket-tests with Python 3.12 and
# backend-tests with Python 3.13 (Quart 0.23). FROM and TO (1-based) narrow
# the range of commits.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
FROM=${FROM:-1}
TO=${TO:-1000}
mapfile -t commits < <(git -C "$root/build/dash" rev-list --reverse upstream..HEAD)
status=0
n=0
for commit in "${commits[@]}"; do
  n=$((n + 1))
  { [ "$n" -lt "$FROM" ] || [ "$n" -gt "$TO" ]; } && continue
  echo "-- commit $n of ${#commits[@]}"
  JOBS="unit backend websocket" "$root/scripts/check-at.sh" "$commit" || status=1
  SKIP_LINT=1 JOBS=backend VENVS=.venv-py313 "$root/scripts/check-at.sh" "$commit" >/dev/null || {
    echo "backend-tests on Python 3.13 FAILED at commit $n"; status=1; }
done
echo "bisect-check: ${#commits[@]} commits, status $status"
exit $status
