#!/usr/bin/env bash
# Build build/dash: dash's repository as far as it can be had here (tag
# `upstream`), with the stack of pull requests applied on top by `git am`:
# prs/01-*/ first, then prs/02-*/, ...; the tip of the k-th is tagged pr-k.
#
# The base is the dash release sdist (its dash/ and requirements/ are newer
# than the repository snapshot) plus the files of dash's repository that the
# sdist lacks, from ../shared/dash-dev (its own README is a description of the
# data, not a file of dash's).  Same inputs give the same commits (fixed
# identity and dates), so running it twice gives the same tree.
set -euo pipefail
sdist=$1
devfiles=${DASH_DEV:-../shared/dash-dev}
tree=build/dash
export GIT_AUTHOR_NAME="dash PR build" GIT_AUTHOR_EMAIL="build@localhost"
export GIT_COMMITTER_NAME="dash PR build" GIT_COMMITTER_EMAIL="build@localhost"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"

test -d "$devfiles/tests" || { echo "no $devfiles (dash's repository files): is ../shared beside this checkout?" >&2; exit 1; }

if [ -d "$tree/.git" ]; then
  if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
    echo "build/dash has uncommitted edits: commit them there and run 'make refresh' first" >&2
    exit 1
  fi
  # Refuse to drop commits made in build/dash that prs/ does not hold yet.
  unexported=$(git -C "$tree" format-patch --stdout upstream..HEAD | git patch-id --stable | awk '{print $1}' | sort)
  exported=$( (cat prs/*/*.patch 2>/dev/null || true) | git patch-id --stable | awk '{print $1}' | sort)
  if [ "$unexported" != "$exported" ]; then
    echo "build/dash has commits that prs/ does not reproduce: run 'make refresh' first" >&2
    exit 1
  fi
  git -C "$tree" worktree list --porcelain | awk '/^worktree / {print $2}' | tail -n +2 |
    xargs -r -n1 git -C "$tree" worktree remove --force
fi

rm -rf "$tree"
mkdir -p "$tree"
tar -xzf "$sdist" -C "$tree" --strip-components=1
(cd "$devfiles" && find . -type f ! -path ./README.md -print0) |
  (cd "$devfiles" && xargs -0 cp --parents -t "$OLDPWD/$tree")
git -C "$tree" init -q -b stack
git -C "$tree" add -A
git -C "$tree" commit -q -m "dash $(basename "$sdist" .tar.gz | sed 's/^dash-//') (PyPI sdist) + dash's repository files the sdist lacks ($(basename "$devfiles"))"
git -C "$tree" tag upstream
# the test runs' scratch copies and caches are not part of the PR
printf '%s\n' /bgtests/ /wstests/ /stresstests/ .pytest_cache/ __pycache__/ >>"$tree/.git/info/exclude"
# setuptools rewrites dash.egg-info on install; that is not an edit to dash.
git -C "$tree" ls-files -z dash.egg-info | xargs -0 git -C "$tree" update-index --skip-worktree
k=0
for dir in prs/[0-9][0-9]-*/; do
  k=$((k + 1))
  git -C "$tree" am -q --committer-date-is-author-date "$PWD/$dir"*.patch
  git -C "$tree" tag "pr-$k"
done
echo "build/dash at $(git -C "$tree" rev-parse --short HEAD): upstream $(git -C "$tree" rev-parse --short upstream) + $k pull request(s) (pr-1..pr-$k)"
