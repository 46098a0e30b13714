#!/usr/bin/env bash
# `make pr`: print pull request k's diff as it is opened on dash's main with
# PR 1 merged. PR 1's is upstream..pr-1. A follow-up's is its commits
# (pr-(k-1)..pr-k in the stack) applied alone on pr-1: `git apply -C1` drops
# from the hunks' context only the lines other follow-ups added next to its
# own (their CHANGELOG entries, an import beside its import). The changed
# lines must come out the same as in the stack, or this fails.
#
# usage: scripts/pr-diff.sh <k>
set -euo pipefail
k=$1
tree=$(cd "$(dirname "$0")/.." && pwd)/build/dash
cd "$tree"
if [ "$k" = 1 ]; then
  git diff upstream pr-1 -- . ':!dash.egg-info'
  exit
fi
index=$(mktemp -u)
trap 'rm -f "$index"' EXIT
stacked() { git diff "$@" "pr-$((k - 1))" "pr-$k" -- . ':!dash.egg-info'; }
GIT_INDEX_FILE=$index git read-tree pr-1
stacked | GIT_INDEX_FILE=$index git apply --cached -C1 2> >(grep -v '^Context reduced' >&2)
alone=$(GIT_INDEX_FILE=$index git write-tree)
[ "$(git diff --numstat pr-1 "$alone")" = "$(stacked --numstat)" ] ||
  { echo "pr-$k: not the same change on pr-1 alone" >&2; exit 1; }
git diff pr-1 "$alone"
