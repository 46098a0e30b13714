#!/usr/bin/env bash
# `make pr`: print pull request k's diff as it is opened on dash's main with
# PR 1 merged, or with PR 1 and the PRs it needs: their numbers, if any, in
# prs/NN-*/NEEDS. PR 1's is upstream..pr-1. A follow-up's is its commits
# (pr-(k-1)..pr-k in the stack) applied alone on that base: `git apply -C1`
# drops from the hunks' context only the lines other follow-ups added next to
# its own (their CHANGELOG entries, an import beside its import). The changed
# lines must come out the same as in the stack, or this fails.
#
# usage: scripts/pr-diff.sh <k>          the diff
#        scripts/pr-diff.sh --base <k>   the tree it applies on
set -euo pipefail
base_only=; [ "$1" = --base ] && { base_only=1; shift; }
k=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/build/dash"
if [ "$k" = 1 ]; then
  [ -n "$base_only" ] && git rev-parse 'upstream^{tree}' || git diff upstream pr-1 -- . ':!dash.egg-info'
  exit
fi
index=$(mktemp -u)
trap 'rm -f "$index"' EXIT
stacked() { git diff "$@" "pr-$((k - 1))" "pr-$k" -- . ':!dash.egg-info'; }
apply() { GIT_INDEX_FILE=$index git apply --cached "$@" 2> >(grep -v '^Context reduced' >&2); }
GIT_INDEX_FILE=$index git read-tree pr-1
needs=$(cat "$root"/prs/"$(printf '%02d' "$k")"-*/NEEDS 2>/dev/null || true)
for need in $needs; do "$root/scripts/pr-diff.sh" "$need" | apply -C1; done
base=$(GIT_INDEX_FILE=$index git write-tree)
[ -n "$base_only" ] && { echo "$base"; exit; }
stacked | apply -C1
alone=$(GIT_INDEX_FILE=$index git write-tree)
[ "$(git diff --numstat "$base" "$alone")" = "$(stacked --numstat)" ] ||
  { echo "pr-$k: not the same change on its base" >&2; exit 1; }
git diff "$base" "$alone"
