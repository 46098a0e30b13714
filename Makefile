# A stack of pull requests for dash, built on dash's own tree.
# Targets (the table of contents):
#   make tree           build/dash = dash 4.4.1 sdist + dash's repository files
#                       (tag upstream), with prs/NN-*/ applied in order, the
#                       k-th pull request's tip tagged pr-k
#   make venv           .venv (Python 3.12), .venv-py39, .venv-py313: the top
#   make venv-py39      of the stack's dash (editable) with what dash's CI
#   make venv-py313     installs for the backend-tests job (requirements/pr-test.in)
#   make venv-at REF=pr-1 [PY=3.13]   .venv-pr-1[-py313]: dash at that ref
#   make venv-upstream  .venv-upstream{,-py39,-py313}: the untouched release
#   make lint           dash's linters at dash's pins on what the stack touches
#   make test           lint, then dash's CI jobs (unit, backend-tests,
#                       websocket-tests) at the top on 3.12, 3.9 and 3.13, and
#                       lint, unit and backend-tests at every other PR's tip (3.12)
#   make test-at REF=pr-k   lint and the three jobs at that ref, on each Python
#   make guards PR=k    PR k's new and changed tests against its predecessor
#                       (the release for PR 1, on 3.12, 3.9 and 3.13)
#   make test-stress    the stack's new tests three times, a core burnt
#   make bisect-check   lint and tests at every commit of the stack
#   make repro          dist/ISSUE.md's reproduction: release vs pr-1, each server
#   make demo           the reproduction: release, pr-1 and the top, each server
#   make demo-full      the whole matrix (scripts/matrix.py): every way a
#                       client ends, every server, release vs top, 3.12 and 3.13
#   make bench [AT=pr-1]  healthy-connection cost and callgrind counts, release vs AT
#   make pr             dist/pr-k.diff (PR k as opened on PR 1: scripts/pr-diff.sh)
#                       and dist/pr-k.md per PR, dist/ISSUE.md
#   make refresh        regenerate prs/ from the pr-k tags of build/dash
#   make lock           regenerate requirements/lock-py*.txt
#   make clean

SHELL := /bin/bash
DASH_VERSION := 4.4.1
DASH_SHA256 := 9356ca7856bc496c12c5b6de5978aaf783e090d07450ee395ade1c0c2cbdf816
SDIST := build/dl/dash-$(DASH_VERSION).tar.gz
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
pyenv_python = $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python)))
PY312 := $(call pyenv_python,3.12)
PY39 := $(call pyenv_python,3.9)
PY313 := $(call pyenv_python,3.13)
TOOLS := build/tools
UV := $(TOOLS)/bin/uv
LINT_CFG := $(CURDIR)/../shared/upstream-lint
DASH_DEV := ../shared/dash-dev
BENCH_ARGS ?=
AT ?=
REF ?=
PY ?= 3.12
PR ?= 1
# the jobs of scripts/ci-jobs.sh run on each Python by `make test`
JOBS ?= unit backend websocket
JOBS_PY313 ?= $(JOBS)

# What the stack touches, read from the tree.
pr_files = $(shell git -C build/dash diff --name-only --diff-filter=d upstream HEAD -- '*.py' 2>/dev/null)
PR_DASH_PY = $(filter dash/%,$(pr_files))
PR_TEST_PY = $(filter tests/%,$(pr_files))
PR_LINTED_TESTS = $(filter tests/unit/% tests/integration/%,$(pr_files))
# pr-1 ... pr-N, and all of them but the top
PR_TAGS = $(shell git -C build/dash tag -l 'pr-*' 2>/dev/null | sort -t- -k2 -n)
LOWER_TIPS = $(filter-out $(lastword $(PR_TAGS)),$(PR_TAGS))

.PHONY: tree venv venv-py39 venv-py313 venv-upstream venv-at lint test test-at guards \
	test-stress bisect-check repro demo demo-full bench pr refresh lock clean \
	chromedriver valgrind

$(UV):
	@test -n "$(PY312)" || { echo "no Python 3.12 under $(PYENV_ROOT)/versions"; exit 1; }
	$(PY312) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements/pr-tools.txt

build/dl/dash-%.tar.gz:
	@mkdir -p build/dl
	@test -f $@ || $(PY312) -m pip download -q --no-deps --no-binary :all: --pre dash==$* -d build/dl
	@if [ "$*" = "$(DASH_VERSION)" ]; then \
	  echo "$(DASH_SHA256)  $@" | sha256sum -c --quiet - || { rm -f $@; echo "sha256 mismatch: refusing $@"; exit 1; }; fi

tree: $(SDIST)
	DASH_DEV=$(DASH_DEV) scripts/tree.sh $(SDIST)

build/dash/.git/HEAD:
	$(MAKE) tree

# the untouched release alone, for the upstream venvs
build/upstream/setup.py: $(SDIST)
	rm -rf build/upstream && mkdir -p build/upstream
	tar -xzf $(SDIST) -C build/upstream --strip-components=1
	touch $@

# A venv: $(1)=dir $(2)=python $(3)=lock $(4)=what to install as dash
define make_venv
	@test -n "$(2)" || { echo "no such Python under $(PYENV_ROOT)/versions"; exit 1; }
	rm -rf $(1)
	$(UV) venv -q --python $(2) $(1)
	$(UV) pip install -q --python $(1)/bin/python -r $(3)
	$(UV) pip install -q --python $(1)/bin/python --no-deps $(4)
endef

venv: $(UV) build/dash/.git/HEAD
	$(call make_venv,.venv,$(PY312),requirements/lock-py312.txt,-e build/dash)
venv-py39: $(UV) build/dash/.git/HEAD
	$(call make_venv,.venv-py39,$(PY39),requirements/lock-py39.txt,-e build/dash)
venv-py313: $(UV) build/dash/.git/HEAD
	$(call make_venv,.venv-py313,$(PY313),requirements/lock-py313.txt,-e build/dash)

venv-upstream: $(UV) build/upstream/setup.py
	$(call make_venv,.venv-upstream,$(PY312),requirements/lock-py312.txt,build/upstream)
	$(call make_venv,.venv-upstream-py39,$(PY39),requirements/lock-py39.txt,build/upstream)
	$(call make_venv,.venv-upstream-py313,$(PY313),requirements/lock-py313.txt,build/upstream)

# dash at one ref of the stack (REF=pr-1), from build/at/<ref> (scripts/at.sh,
# which the targets using these venvs run again): .venv-<ref> (Python 3.12)
# or, with PY=3.13, .venv-<ref>-py313.
AT_SUFFIX = $(if $(filter 3.13,$(PY)),-py313,$(if $(filter 3.9,$(PY)),-py39))
AT_LOCK = requirements/lock-py$(subst .,,$(PY)).txt
venv-at: $(UV) build/dash/.git/HEAD
	@test -n "$(REF)" || { echo "usage: make venv-at REF=pr-1 [PY=3.13]"; exit 1; }
	scripts/at.sh $(REF)
	$(call make_venv,.venv-$(REF)$(AT_SUFFIX),$(call pyenv_python,$(PY)),$(AT_LOCK),-e build/at/$(REF))

.venv/bin/python:
	$(MAKE) venv
.venv-py39/bin/python:
	$(MAKE) venv-py39
.venv-py313/bin/python:
	$(MAKE) venv-py313
.venv-upstream/bin/python:
	$(MAKE) venv-upstream
.venv-pr-%-py313/bin/python:
	$(MAKE) venv-at REF=pr-$* PY=3.13
.venv-pr-%-py39/bin/python:
	$(MAKE) venv-at REF=pr-$* PY=3.9
.venv-pr-%/bin/python:
	$(MAKE) venv-at REF=pr-$*

lock: $(UV) build/dash/.git/HEAD
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.12 pr-test.in -o lock-py312.txt
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.9 pr-test.in -o lock-py39.txt
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.13 pr-test-py313.in -o lock-py313.txt

# lint-unit's commands, on what the stack touches. black and flake8 run from
# the tools venv at dash's pins (black 22.3.0 needs an older click than the
# test venv has); pylint runs in the test venv, where dash imports.
lint: .venv/bin/python $(UV) build/dash/.git/HEAD
	cd build/dash && $(CURDIR)/$(TOOLS)/bin/black --check $(PR_DASH_PY) $(PR_TEST_PY)
	cd build/dash && $(CURDIR)/$(TOOLS)/bin/flake8 --config $(LINT_CFG)/.flake8 $(PR_DASH_PY) $(PR_TEST_PY)
	cd build/dash && $(CURDIR)/.venv/bin/python -m pylint --rcfile=$(LINT_CFG)/.pylintrc $(PR_DASH_PY)
	$(if $(PR_LINTED_TESTS),cd build/dash && $(CURDIR)/.venv/bin/python -m pylint $(PR_LINTED_TESTS) -d all -e C0410$(,)C0413$(,)W0109 --rcfile=$(LINT_CFG)/.pylintrc)

, := ,

chromedriver:
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

valgrind:
	@command -v valgrind >/dev/null || { \
	  echo "installing Debian's valgrind"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }

test: chromedriver
	@start=$$(date +%s); \
	$(MAKE) tree && $(MAKE) venv venv-py39 venv-py313 && $(MAKE) lint && \
	{ rc=0; \
	  scripts/ci-jobs.sh .venv $(JOBS) || rc=1; \
	  scripts/ci-jobs.sh .venv-py39 $(JOBS) || rc=1; \
	  scripts/ci-jobs.sh .venv-py313 $(JOBS_PY313) || rc=1; \
	  tips="$$(git -C build/dash tag -l 'pr-*' | sort -t- -k2 -n | sed '$$d')"; \
	  [ -z "$$tips" ] || scripts/check-at.sh $$tips || rc=1; \
	  echo "make test: $$(( $$(date +%s) - start )) s, rc=$$rc"; exit $$rc; }

# lint, and all three of dash's jobs, at one ref of the stack on each Python
test-at: chromedriver build/dash/.git/HEAD .venv/bin/python .venv-py39/bin/python .venv-py313/bin/python
	@test -n "$(REF)" || { echo "usage: make test-at REF=pr-1"; exit 1; }
	JOBS="unit backend websocket" VENVS=".venv .venv-py39 .venv-py313" scripts/check-at.sh $(REF)

# PR k's new and changed tests (from its tip), in dash's CI layout outside any
# dash tree, against the base it applies on: the untouched release for PR 1,
# PR 1 for the others (each applies on PR 1 alone, unless it NEEDS others),
# on 3.12, 3.9 and 3.13.
# The guards fail there; what passes there is what the PR keeps. The exit
# status is reported, not enforced.
# A PR that needs others (prs/NN-*/NEEDS) is run against the previous tip,
# which has them.
GUARD_PREV = $(if $(filter 1,$(PR)),upstream,pr-$(shell echo $$(($(PR) - 1))))
GUARD_NEEDS = $(wildcard prs/$(shell printf %02d $(PR))-*/NEEDS)
GUARD_BASE = $(if $(filter 1,$(PR)),upstream,$(if $(GUARD_NEEDS),$(GUARD_PREV),pr-1))
GUARD_TESTS = $(shell git -C build/dash diff --name-only --diff-filter=AM $(GUARD_PREV) pr-$(PR) -- 'tests/*test_*.py' 2>/dev/null)
GUARD_VENVS = .venv-$(GUARD_BASE) .venv-$(GUARD_BASE)-py39 .venv-$(GUARD_BASE)-py313
guards: chromedriver build/dash/.git/HEAD $(addsuffix /bin/python,$(GUARD_VENVS))
	@$(if $(filter 1,$(PR)),,scripts/at.sh $(GUARD_BASE) >/dev/null;) for v in $(GUARD_VENVS); do \
	  REF=pr-$(PR) scripts/run-outside.sh $$v $(GUARD_TESTS) -p no:sugar -q -rfE --continue-on-collection-errors \
	    | grep -E '^(== |FAILED|ERROR|=+ .*[0-9]+ (passed|failed))' \
	    | sed -E 's#^== ([^:]*): (dash [^ ]*) from [^ ]* on#== \1: \2 on#'; done; true

# The stack's new tests, three times, while another process keeps a core busy.
NEW_TESTS = $(shell git -C build/dash diff --name-only --diff-filter=A upstream HEAD -- 'tests/*test_*.py' 2>/dev/null)
test-stress: chromedriver .venv/bin/python build/dash/.git/HEAD
	scripts/stress.sh .venv 3 $(NEW_TESTS)

bisect-check: $(UV) build/dash/.git/HEAD .venv/bin/python .venv-py313/bin/python
	scripts/bisect-check.sh

repro: .venv-upstream/bin/python .venv-pr-1/bin/python .venv-pr-1-py313/bin/python .venv-pr-1-py39/bin/python
	scripts/at.sh pr-1
	scripts/repro.sh .venv-upstream=release .venv-pr-1=pr-1 .venv-upstream-py313=release \
	  .venv-pr-1-py313=pr-1 .venv-upstream-py39=release .venv-pr-1-py39=pr-1

demo: .venv-upstream/bin/python .venv-pr-1/bin/python .venv-pr-1-py313/bin/python .venv-pr-1-py39/bin/python \
	  .venv/bin/python .venv-py313/bin/python .venv-py39/bin/python
	scripts/at.sh pr-1
	scripts/repro.sh .venv-upstream=release .venv-pr-1=pr-1 .venv=top \
	  .venv-upstream-py313=release .venv-pr-1-py313=pr-1 .venv-py313=top \
	  .venv-upstream-py39=release .venv-pr-1-py39=pr-1 .venv-py39=top

demo-full: .venv/bin/python .venv-py313/bin/python .venv-upstream/bin/python
	cd scripts && ../.venv/bin/python matrix.py release=../.venv-upstream top=../.venv \
	  release=../.venv-upstream-py313 top=../.venv-py313

BENCH_VENV = $(if $(AT),.venv-$(AT),.venv)
bench: valgrind $(BENCH_VENV)/bin/python .venv-upstream/bin/python
	$(if $(AT),scripts/at.sh $(AT))
	.venv/bin/python scripts/bench.py --release .venv-upstream --pr $(BENCH_VENV) $(BENCH_ARGS)

pr: build/dash/.git/HEAD
	@mkdir -p dist
	@prev=upstream; for tag in $(PR_TAGS); do \
	  scripts/pr-diff.sh $${tag#pr-} > dist/$$tag.diff || exit 1; \
	  echo "dist/$$tag.diff: $$(grep -c '^diff --git' dist/$$tag.diff) files, $$(git -C build/dash diff --numstat $$prev $$tag | awk '{n += $$1 + $$2} END {print n}') changed lines"; \
	  prev=$$tag; done
	$(PY312) scripts/pr_description.py

refresh:
	scripts/refresh.sh

clean:
	rm -rf build dist .venv .venv-py39 .venv-py313 .venv-upstream .venv-upstream-py39 \
	  .venv-upstream-py313 .venv-pr-*
