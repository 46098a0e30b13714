#!/usr/bin/env bash
# `make test-stress`: the PR's new tests, <rounds> times, in dash's CI layout,
# while a second process keeps a core busy (on these 2-core machines, half the
# CPU), so that a test that leans on timing shows it.
#
# usage: scripts/stress.sh <venv> <rounds> <test path>...
set -uo pipefail
venv=$(cd "$1" && pwd)
rounds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/dash
logs=$root/build/logs
mkdir -p "$logs"
export DASH_TEST_CHROMEPATH=${DASH_TEST_CHROMEPATH:-$(command -v chromium || true)}

"$venv/bin/python" -c "while True: pass" &
burner=$!
trap 'kill $burner 2>/dev/null' EXIT
echo "core burner: pid $burner"
status=0
for round in $(seq "$rounds"); do
  rm -rf "$tree/stresstests" && mkdir "$tree/stresstests" && cp -r "$tree/tests" "$tree/stresstests/tests" \
    && touch "$tree/stresstests/__init__.py"
  log=$logs/stress-$round.log
  start=$(date +%s)
  (cd "$tree/stresstests" && timeout 1800 "$venv/bin/python" -m pytest --headless \
    --nopercyfinalize -p no:cacheprovider "$@" -v -s) >"$log" 2>&1
  rc=$?
  echo "round $round: rc=$rc $(($(date +%s) - start)) s  $(grep -E '^=+ .*(passed|failed).* =+$' "$log" | tail -1 | tr -d '=')"
  if [ "$rc" != 0 ]; then
    status=1
    grep -E "^(FAILED|ERROR)" "$log" | head -20
  fi
done
rm -rf "$tree/stresstests"
exit $status
