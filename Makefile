# The dash WebSocket-disconnect pull request, built from the pinned release.
# Targets (the table of contents):
#   make tree           build/dash = dash 4.4.1 sdist (tag upstream) + patches/ + new files
#   make venv           .venv (Python 3.12) with the patched tree, editable
#   make venv-py39      .venv-py39 (Python 3.9) with the patched tree
#   make venv-upstream  .venv-upstream (Python 3.12) with the untouched release
#   make lint           dash's linters at dash's pins on what the PR touches
#   make test           lint, then tests/backend_tests on 3.12 and 3.9 as dash's CI runs them
#   make test-upstream  the same tests against the untouched release (guards must fail there)
#   make demo           the disconnect matrix, release vs PR (DASH=4.2.0rc1 adds a column)
#   make bench          healthy-connection cost and cleanup time, release vs PR
#   make soak           500 random clients dying in random ways (not part of make test)
#   make pr             dist/dash-pr.diff: the whole PR as one diff against the release
#   make refresh        regenerate patches/ from commits made in build/dash
#   make lock           regenerate requirements/lock-py*.txt
#   make clean

SHELL := /bin/bash
DASH_VERSION := 4.4.1
DASH_SHA256 := 9356ca7856bc496c12c5b6de5978aaf783e090d07450ee395ade1c0c2cbdf816
SDIST := build/dl/dash-$(DASH_VERSION).tar.gz
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY312 := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python)))
PY39 := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.9.*/bin/python)))
TOOLS := build/tools
UV := $(TOOLS)/bin/uv
LINT_CFG := ../shared/upstream-lint
# what the PR touches in dash's package (kept in step with patches/)
PR_DASH_FILES := dash/backends/ws.py dash/backends/_fastapi.py dash/backends/_quart.py
PYTEST_ARGS ?=
DASH ?=
BENCH_ARGS ?=

.PHONY: tree venv venv-py39 venv-upstream lint test test-upstream demo bench soak pr refresh lock clean chromedriver

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
	scripts/tree.sh $(SDIST)

build/upstream/setup.py: $(SDIST)
	rm -rf build/upstream && mkdir -p build/upstream
	tar -xzf $(SDIST) -C build/upstream --strip-components=1
	touch $@

# A venv: $(1)=dir $(2)=python $(3)=lock $(4)=source tree
define make_venv
	rm -rf $(1)
	$(UV) venv -q --python $(2) $(1)
	$(UV) pip install -q --python $(1)/bin/python -r $(3)
	$(UV) pip install -q --python $(1)/bin/python --no-deps $(4)
endef

build/dash/.git/HEAD:
	$(MAKE) tree

venv: $(UV) build/dash/.git/HEAD
	$(call make_venv,.venv,$(PY312),requirements/lock-py312.txt,-e build/dash)
	$(UV) pip install -q --python .venv/bin/python pylint==3.0.3

venv-py39: $(UV) build/dash/.git/HEAD
	@test -n "$(PY39)" || { echo "no Python 3.9 under $(PYENV_ROOT)/versions"; exit 1; }
	$(call make_venv,.venv-py39,$(PY39),requirements/lock-py39.txt,-e build/dash)

venv-upstream: $(UV) build/upstream/setup.py
	$(call make_venv,.venv-upstream,$(PY312),requirements/lock-py312.txt,build/upstream)
	$(call make_venv,.venv-upstream-py39,$(PY39),requirements/lock-py39.txt,build/upstream)

# Any other release, for `make demo DASH=...` and guard runs (e.g. 4.2.0rc1).
.venv-dash-%/bin/python: $(UV) build/dl/dash-%.tar.gz
	rm -rf build/rel-$* && mkdir -p build/rel-$*
	tar -xzf build/dl/dash-$*.tar.gz -C build/rel-$* --strip-components=1
	$(call make_venv,.venv-dash-$*,$(PY312),requirements/lock-py312.txt,build/rel-$*)

lock: $(UV) build/dash/.git/HEAD
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.12 pr-test.in -o lock-py312.txt
	cd requirements && ../$(UV) pip compile -q --no-header --python-version 3.9 pr-test.in -o lock-py39.txt

# black 22.3.0 fails on several files under uvloop (installed with uvicorn), so
# black and flake8 run from the tools venv; pylint needs dash importable.
lint: .venv/bin/python $(UV)
	cd build/dash && ../tools/bin/black --check $(PR_DASH_FILES) tests/backend_tests
	cd build/dash && ../tools/bin/flake8 --config ../../$(LINT_CFG)/.flake8 $(PR_DASH_FILES) tests/backend_tests
	cd build/dash && ../../.venv/bin/pylint --rcfile=../../$(LINT_CFG)/.pylintrc $(PR_DASH_FILES)
	cd build/dash && ../../.venv/bin/pylint tests/backend_tests -d all -e C0410,C0413,W0109 --rcfile=../../$(LINT_CFG)/.pylintrc

.venv/bin/python:
	$(MAKE) venv
.venv-py39/bin/python:
	$(MAKE) venv-py39
.venv-upstream/bin/python:
	$(MAKE) venv-upstream

chromedriver:
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Run tests/backend_tests from a copy outside the source tree, as dash's CI does,
# so that the installed package is what is tested.  $(1)=venv $(2)=scratch dir
define run_tests
	rm -rf $(2) && mkdir -p $(2) && cp -R tests $(2)/tests
	cd $(2) && DASH_TEST_CHROMEPATH=$$(command -v chromium) timeout 1200 $(CURDIR)/$(1)/bin/python -m pytest --headless --nopercyfinalize -p no:cacheprovider $(PYTEST_ARGS) tests/backend_tests
endef

test: chromedriver
	$(MAKE) tree
	$(MAKE) venv venv-py39
	$(MAKE) lint
	$(call run_tests,.venv,build/run-py312)
	$(call run_tests,.venv-py39,build/run-py39)

# The guard tests must fail here; the exit status is reported, not enforced.
test-upstream: chromedriver .venv-upstream/bin/python
	-$(call run_tests,.venv-upstream,build/run-upstream)
	-$(call run_tests,.venv-upstream-py39,build/run-upstream-py39)

demo: .venv/bin/python .venv-upstream/bin/python $(if $(DASH),.venv-dash-$(DASH)/bin/python)
	.venv/bin/python scripts/demo.py --release .venv-upstream --pr .venv $(if $(DASH),--extra $(DASH)=.venv-dash-$(DASH))

bench: .venv/bin/python .venv-upstream/bin/python
	.venv/bin/python scripts/bench.py --release .venv-upstream --pr .venv $(BENCH_ARGS)

soak: .venv/bin/python
	.venv/bin/python scripts/soak.py --venv .venv

pr: build/dash/.git/HEAD
	@mkdir -p dist
	git -C build/dash diff upstream HEAD -- . ':!dash.egg-info' > dist/dash-pr.diff
	@echo "dist/dash-pr.diff: $$(grep -c '^diff --git' dist/dash-pr.diff) files"

refresh:
	@test -d build/dash/.git || { echo "no build/dash"; exit 1; }
	rm -f patches/*.patch && mkdir -p patches
	git -C build/dash format-patch -q --zero-commit --no-signature -o $(CURDIR)/patches upstream..HEAD -- . ':!tests' ':!CHANGELOG.md'
	@ls patches

clean:
	rm -rf build dist .venv .venv-py39 .venv-upstream .venv-upstream-py39 .venv-dash-*
