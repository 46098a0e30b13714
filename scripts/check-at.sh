#!/usr/bin/env bash
# Lint and dash's CI jobs at each given ref of build/dash, each checked out
# in a worktree of its own under build/at-check/ (its dash/ first on
# sys.path): dash's linters at dash's pins on the .py files changed since
# `upstream`, then the jobs of scripts/ci-jobs.sh with each venv.
#
# usage: scripts/check-at.sh <ref>...     JOBS (default: unit backend) and
# VENVS (default: .venv, Python 3.12) choose what runs; SKIP_LINT=1 skips lint.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/dash
tools=$root/build/tools/bin
lint=$root/../shared/upstream-lint
JOBS=${JOBS:-unit backend}
VENVS=${VENVS:-.venv}
status=0
mkdir -p "$root/build/logs"
git -C "$tree" worktree prune
for ref in "$@"; do
  work=$root/build/at-check/$ref
  rm -rf "$work"
  git -C "$tree" worktree add -q --detach "$work" "$ref"
  echo "== $ref $(git -C "$tree" rev-parse --short "$ref") $(git -C "$tree" log -1 --format=%s "$ref")"
  mapfile -t files < <(git -C "$work" diff --name-only --diff-filter=d upstream HEAD -- '*.py')
  dash_files=() test_files=() linted_tests=()
  for f in "${files[@]}"; do
    case $f in
      dash/*) dash_files+=("$f") ;;
      tests/unit/* | tests/integration/*) test_files+=("$f") linted_tests+=("$f") ;;
      tests/*) test_files+=("$f") ;;
    esac
  done
  if [ -z "${SKIP_LINT:-}" ]; then
    if (
      cd "$work" &&
        "$tools/black" -q --check "${dash_files[@]}" "${test_files[@]}" &&
        "$tools/flake8" --config "$lint/.flake8" "${dash_files[@]}" "${test_files[@]}" &&
        PYTHONPATH=$work "$root/.venv/bin/python" -m pylint -sn --rcfile="$lint/.pylintrc" "${dash_files[@]}" &&
        { [ ${#linted_tests[@]} = 0 ] || PYTHONPATH=$work "$root/.venv/bin/python" -m pylint -sn \
          "${linted_tests[@]}" -d all -e C0410,C0413,W0109 --rcfile="$lint/.pylintrc"; }
    ) >"$root/build/logs/at-$ref-lint.log" 2>&1; then
      echo "lint ok: ${#files[@]} changed .py files"
    else
      echo "lint FAILED"; tail -20 "$root/build/logs/at-$ref-lint.log"; status=1
    fi
  fi
  for venv in $VENVS; do
    TREE=$work LOG_PREFIX=at-$ref- "$root/scripts/ci-jobs.sh" "$root/$venv" $JOBS || status=1
  done
  git -C "$tree" worktree remove --force "$work"
done
exit $status
