#!/usr/bin/env bash
# `make bisect-check`: every commit of the series, on its own, passes dash's
# linters on what the series has touched by then and the tests that exist at
# that commit: lint-unit's unit tests and the backend-tests and websocket-tests
# jobs (scripts/ci-jobs.sh), with Python 3.12; and, with Python 3.13 (Quart
# 0.23), the backend-tests job.
#
# Each commit is checked out in its own worktree under build/bisect/; the test
# copies sit inside it, so pytest imports that worktree's dash/ (the copy's
# parent comes first on sys.path) whatever the venv's editable install says.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/dash
tools=$root/build/tools/bin
lint=$root/../shared/upstream-lint
JOBS312=${JOBS312:-unit backend websocket}
JOBS313=${JOBS313:-backend}
FROM=${FROM:-1}  # the first commit to check (1: all of them)
TO=${TO:-1000}   # the last one
status=0
rm -rf "$root/build/bisect" && mkdir -p "$root/build/bisect" "$root/build/logs"
git -C "$tree" worktree prune
n=0
for commit in $(git -C "$tree" rev-list --reverse upstream..HEAD); do
  n=$((n + 1))
  { [ "$n" -lt "$FROM" ] || [ "$n" -gt "$TO" ]; } && continue
  work=$root/build/bisect/$n
  git -C "$tree" worktree add -q --detach "$work" "$commit"
  subject=$(git -C "$tree" log -1 --format=%s "$commit")
  echo "== $n/$(git -C "$tree" rev-list --count upstream..HEAD) $(git -C "$tree" rev-parse --short "$commit") $subject"
  mapfile -t files < <(git -C "$work" diff --name-only --diff-filter=d upstream HEAD -- '*.py')
  dash_files=() test_files=() linted_tests=()
  for f in "${files[@]}"; do
    case $f in
      dash/*) dash_files+=("$f") ;;
      tests/unit/* | tests/integration/*) test_files+=("$f") linted_tests+=("$f") ;;
      tests/*) test_files+=("$f") ;;
    esac
  done
  (
    cd "$work" &&
      "$tools/black" -q --check "${dash_files[@]}" "${test_files[@]}" &&
      "$tools/flake8" --config "$lint/.flake8" "${dash_files[@]}" "${test_files[@]}" &&
      "$root/.venv/bin/python" -m pylint -sn --rcfile="$lint/.pylintrc" "${dash_files[@]}" &&
      { [ ${#linted_tests[@]} = 0 ] || "$root/.venv/bin/python" -m pylint -sn "${linted_tests[@]}" \
        -d all -e C0410,C0413,W0109 --rcfile="$lint/.pylintrc"; }
  ) >"$root/build/logs/bisect-$n-lint.log" 2>&1 && echo "lint ok" || {
    echo "lint FAILED"; tail -20 "$root/build/logs/bisect-$n-lint.log"; status=1; }
  TREE=$work LOG_PREFIX=bisect-$n- "$root/scripts/ci-jobs.sh" "$root/.venv" $JOBS312 || status=1
  TREE=$work LOG_PREFIX=bisect-$n- "$root/scripts/ci-jobs.sh" "$root/.venv-py313" $JOBS313 || status=1
  git -C "$tree" worktree remove --force "$work"
done
echo "bisect-check: $n commits, status $status"
exit $status
