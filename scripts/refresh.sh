#!/usr/bin/env bash
# `make refresh`: write each pull request's commits (pr-(k-1)..pr-k in
# build/dash; upstream..pr-1 for the first) as a `git format-patch` series
# into its folder prs/NN-<slug>/, and check that the tags end at HEAD.
#
# A new pull request: tag its tip pr-<k> in build/dash and make its folder
# prs/<k as two digits>-<slug>/ (with its description, PR.md.in) first.
set -euo pipefail
tree=build/dash
test -d "$tree/.git" || { echo "no build/dash" >&2; exit 1; }
tags=$(git -C "$tree" tag -l 'pr-*' | sed 's/^pr-//' | sort -n)
last=$(echo "$tags" | tail -1)
[ "$(git -C "$tree" rev-parse "pr-$last")" = "$(git -C "$tree" rev-parse HEAD)" ] ||
  { echo "pr-$last is not build/dash's HEAD: tag the last pull request's tip" >&2; exit 1; }
prev=upstream
for k in $tags; do
  dir=$(ls -d prs/"$(printf '%02d' "$k")"-*/ 2>/dev/null | head -1)
  [ -n "$dir" ] || { echo "pr-$k has no folder prs/$(printf '%02d' "$k")-<slug>/" >&2; exit 1; }
  rm -f "$dir"*.patch
  git -C "$tree" format-patch -q --zero-commit --no-signature -o "$PWD/$dir" "$prev..pr-$k"
  echo "$dir: $(ls "$dir"*.patch | wc -l) commit(s), $(git -C "$tree" diff --numstat "$prev" "pr-$k" | awk '{n += $1 + $2} END {print n + 0}') changed lines"
  prev=pr-$k
done
extra=$(ls -d prs/[0-9][0-9]-*/ | wc -l)
[ "$extra" = "$(echo "$tags" | wc -l)" ] || { echo "prs/ has folders without a pr-<k> tag" >&2; exit 1; }
