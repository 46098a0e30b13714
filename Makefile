# The dash WebSocket-disconnect pull request, built on dash's own tree.
# Targets (the table of contents):
#   make tree           build/dash = dash 4.4.1 sdist + dash's repository files
#                       (tag upstream), with patches/ applied as commits
#   make venv           .venv (Python 3.12), .venv-py39, .venv-py313: the PR's
#   make venv-py39      dash (editable) with what dash's CI installs for the
#   make venv-py313     backend-tests job (see requirements/pr-test.in)
#   make venv-upstream  .venv-upstream{,-py39,-py313}: the untouched release
#   make lint           dash's linters at dash's pins on what the PR touches
#   make test           lint, then dash's CI jobs (unit, backend-tests,
#                       websocket-tests) on 3.12 and 3.9, and on 3.13
#   make test-upstream  the PR's new tests against the untouched release
#   make test-stress    the new tests three times with a second process
#                       burning a core
#   make bisect-check   lint and tests at every commit of the series
#   make demo           the disconnect matrix, release vs PR (DASH=4.2.0rc1 adds a column)
#   make bench          healthy-connection cost, release vs PR, and callgrind counts
#   make soak           500 random clients dying in random ways (not part of make test)
#   make pr             dist/dash-pr.diff (the whole PR as one diff) and dist/PR.md
#   make refresh        regenerate patches/ from commits made in build/dash
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
DASH ?=
BENCH_ARGS ?=
# the jobs of scripts/ci-jobs.sh run on each Python by `make test`
JOBS ?= unit backend websocket
JOBS_PY313 ?= $(JOBS)

# What the PR touches, read from the tree.
pr_files = $(shell git -C build/dash diff --name-only --diff-filter=d upstream HEAD -- '*.py' 2>/dev/null)
PR_DASH_PY = $(filter dash/%,$(pr_files))
PR_TEST_PY = $(filter tests/%,$(pr_files))
PR_LINTED_TESTS = $(filter tests/unit/% tests/integration/%,$(pr_files))

.PHONY: tree venv venv-py39 venv-py313 venv-upstream lint test test-upstream \
	test-stress bisect-check demo bench soak pr refresh lock clean chromedriver valgrind

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

.venv/bin/python:
	$(MAKE) venv
.venv-py39/bin/python:
	$(MAKE) venv-py39
.venv-py313/bin/python:
	$(MAKE) venv-py313
.venv-upstream/bin/python:
	$(MAKE) venv-upstream

# Any other release, for `make demo DASH=...` and guard runs (e.g. 4.2.0rc1).
.venv-dash-%/bin/python: $(UV) build/dl/dash-%.tar.gz
	rm -rf build/rel-$* && mkdir -p build/rel-$*
	tar -xzf build/dl/dash-$*.tar.gz -C build/rel-$* --strip-components=1
	$(call make_venv,.venv-dash-$*,$(PY312),requirements/lock-py312.txt,build/rel-$*)

lock: $(UV) build/dash/.git/HEAD
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.12 pr-test.in -o lock-py312.txt
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.9 pr-test.in -o lock-py39.txt
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.13 pr-test-py313.in -o lock-py313.txt

# lint-unit's commands, on what the PR touches. black and flake8 run from the
# tools venv at dash's pins (black 22.3.0 needs an older click than the test
# venv has); pylint runs in the test venv, where dash imports.
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
	  echo "make test: $$(( $$(date +%s) - start )) s, rc=$$rc"; exit $$rc; }

# The PR's new tests (taken from the PR tree) against the untouched release,
# from a copy outside any dash tree, with dash's pytest.ini beside it: the
# copy's parent goes on sys.path, so a copy inside a tree would import that
# tree's dash/. The guards fail here; the exit status is reported, not enforced.
# The unit module subclasses the PR's WebSocketTransport, so it fails to import
# on the release (one collection error); the other modules run on.
NEW_TESTS = $(shell git -C build/dash diff --name-only --diff-filter=A upstream HEAD -- 'tests/*test_*.py' 2>/dev/null)
test-upstream: chromedriver .venv-upstream/bin/python build/dash/.git/HEAD
	-scripts/run-outside.sh .venv-upstream $(NEW_TESTS) --continue-on-collection-errors
	-scripts/run-outside.sh .venv-upstream-py39 $(NEW_TESTS) --continue-on-collection-errors
	-scripts/run-outside.sh .venv-upstream-py313 $(NEW_TESTS) --continue-on-collection-errors

# The new tests, three times, while another process keeps a core busy.
test-stress: chromedriver .venv/bin/python build/dash/.git/HEAD
	scripts/stress.sh .venv 3 $(NEW_TESTS)

bisect-check: $(UV) build/dash/.git/HEAD .venv/bin/python
	scripts/bisect-check.sh

demo: .venv/bin/python .venv-upstream/bin/python $(if $(DASH),.venv-dash-$(DASH)/bin/python)
	.venv/bin/python scripts/demo.py --release .venv-upstream --pr .venv $(if $(DASH),--extra $(DASH)=.venv-dash-$(DASH))

bench: valgrind .venv/bin/python .venv-upstream/bin/python
	.venv/bin/python scripts/bench.py --release .venv-upstream --pr .venv $(BENCH_ARGS)

.venv-soak/bin/python: $(UV) build/dash/.git/HEAD
	$(call make_venv,.venv-soak,$(PY312),requirements/lock-py312.txt,-e build/dash)
	$(UV) pip install -q --python .venv-soak/bin/python -r requirements/pr-soak.txt

soak: .venv-soak/bin/python
	.venv-soak/bin/python scripts/soak.py --venv .venv-soak

pr: build/dash/.git/HEAD
	@mkdir -p dist
	git -C build/dash diff upstream HEAD -- . ':!dash.egg-info' > dist/dash-pr.diff
	@echo "dist/dash-pr.diff: $$(grep -c '^diff --git' dist/dash-pr.diff) files"
	$(PY312) scripts/pr_description.py > dist/PR.md
	@echo "dist/PR.md: $$(wc -l < dist/PR.md) lines"

refresh:
	@test -d build/dash/.git || { echo "no build/dash"; exit 1; }
	rm -f patches/*.patch && mkdir -p patches
	git -C build/dash format-patch -q --zero-commit --no-signature -o $(CURDIR)/patches upstream..HEAD
	@ls patches

clean:
	rm -rf build dist .venv .venv-py39 .venv-py313 .venv-upstream .venv-upstream-py39 \
	  .venv-upstream-py313 .venv-dash-* .venv-soak
