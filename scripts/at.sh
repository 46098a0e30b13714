#!/usr/bin/env bash
# build/at/<ref>: the files of that ref of build/dash (git archive), which a
# venv made by `make venv-at REF=<ref>` installs in editable mode. Exported
# again whenever the ref's tree has changed (after `make tree`, say).
#
# usage: scripts/at.sh <ref>...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for ref in "$@"; do
  at=$root/build/at/$ref
  want=$(git -C "$root/build/dash" rev-parse "$ref^{tree}")
  [ "$(cat "$at/.tree" 2>/dev/null)" = "$want" ] && continue
  rm -rf "$at" && mkdir -p "$at"
  git -C "$root/build/dash" archive "$ref" | tar -x -C "$at"
  echo "$want" >"$at/.tree"
  echo "build/at/$ref: $(git -C "$root/build/dash" rev-parse --short "$ref")"
done
