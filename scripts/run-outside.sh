#!/usr/bin/env bash
# Run some of the PR tree's tests with another venv's dash (the untouched
# release, say), in dash's CI layout but outside any dash tree: tests/ copied
# into a package folder, dash's pytest.ini one level up. pytest puts that
# level on sys.path, so a copy inside a tree would import the tree's dash/.
#
# usage: [REF=pr-1] scripts/run-outside.sh <venv> <test path>... [pytest args]
set -uo pipefail
venv=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/dash
name=$(basename "$venv")
scratch=$root/build/outside-$name
rm -rf "$scratch" && mkdir -p "$scratch/ci"
if [ -n "${REF:-}" ]; then  # the tests (and dash's pytest.ini) as they are at REF
  git -C "$tree" show "$REF:pytest.ini" >"$scratch/pytest.ini"
  git -C "$tree" archive "$REF" tests | tar -x -C "$scratch/ci"
else  # as they are in build/dash's working tree
  cp "$tree/pytest.ini" "$scratch/" && cp -r "$tree/tests" "$scratch/ci/tests"
fi
touch "$scratch/ci/__init__.py"
export DASH_TEST_CHROMEPATH=${DASH_TEST_CHROMEPATH:-$(command -v chromium || true)}
cd "$scratch/ci" || exit 1
echo "== $name: $("$venv/bin/python" -c 'import dash, sys; print("dash", dash.__version__, "from", dash.__file__, "on Python", sys.version.split()[0])')"
timeout "${JOB_TIMEOUT:-1200}" "$venv/bin/python" -m pytest --headless --nopercyfinalize -p no:cacheprovider "$@"
