# kpwidgets: `make lab` opens the course, `make test` checks it.
#
# Everything runs from a virtual environment in .venv, created on first use from
# python3 (PYTHON=... to choose another) and filled with the versions pinned in
# constraints.txt. A stamp file inside .venv records a hash of pyproject.toml,
# constraints.txt and the package version; while none changes, a second run
# installs nothing.

# Prefer Python 3.11, the version constraints.txt was resolved for.
ifndef PYTHON
PYTHON := $(shell command -v python3.11 2>/dev/null || echo python3)
endif
VENV := .venv
BIN := $(VENV)/bin

# The version line counts too: the installed metadata carries the version.
INSTALL_HASH := $(shell { cat pyproject.toml constraints.txt; \
	grep '^__version__' kpwidgets/__init__.py; } 2>/dev/null | \
	$(PYTHON) -c "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])")
STAMP := $(VENV)/.installed-$(INSTALL_HASH)

# Extra arguments, e.g. make test PYTEST_ARGS="-k operators -x"
PYTEST_ARGS ?=
JUPYTER_ARGS ?=

# JupyterLab listens on loopback only, with its notebooks directory as root and
# Jupyter's usual random token (printed in the URL it shows).
LAB_FLAGS := --ip=127.0.0.1 --ServerApp.root_dir=notebooks
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif
# A Linux machine with no display has no browser to open (macOS has no DISPLAY
# either, but can open one).
ifeq ($(shell uname -s)$(DISPLAY)$(WAYLAND_DISPLAY),Linux)
LAB_FLAGS += --no-browser
endif

# $(call fail,step): say which step failed, then stop.
fail = { echo "*** step failed: $(1)" >&2; exit 1; }

.DEFAULT_GOAL := help
.PHONY: help lab test install lint bench clean lock

help:
	@echo "make lab      open the course notebooks in JupyterLab (JUPYTER_ARGS=...)"
	@echo "make test     ruff check, ruff format --check, then pytest (PYTEST_ARGS=...)"
	@echo "make install  create .venv and install kpwidgets with pinned dependencies"
	@echo "make lint     ruff check and ruff format --check only"
	@echo "make bench    run every benchmarks/bench_*.py script"
	@echo "make lock     re-resolve constraints.txt in a scratch venv"
	@echo "make clean    remove .venv and build leftovers"

lab: install
	@mkdir -p notebooks
	@echo "==> jupyter lab on 127.0.0.1, root notebooks/"
	@$(BIN)/jupyter lab $(LAB_FLAGS) $(JUPYTER_ARGS) || $(call fail,jupyter lab)

test: lint
	@echo "==> pytest"
	@$(BIN)/pytest $(PYTEST_ARGS) || $(call fail,pytest)

lint: install
	@echo "==> ruff check"
	@$(BIN)/ruff check . || $(call fail,ruff check)
	@echo "==> ruff format --check"
	@$(BIN)/ruff format --check . || $(call fail,ruff format --check)

bench: install
	@for script in benchmarks/bench_*.py; do \
		echo "==> python $$script"; \
		$(BIN)/python $$script || $(call fail,$$script); \
	done

install: $(STAMP)
ifneq ($(wildcard $(STAMP)),)
	@echo "==> $(VENV) is up to date with pyproject.toml and constraints.txt: nothing to install"
endif

$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" || \
		$(call fail,the pins in constraints.txt need Python 3.11 or newer: set PYTHON=...)
	@$(PYTHON) -m venv $(VENV) || $(call fail,creating $(VENV))

$(STAMP): | $(BIN)/python
	@echo "==> installing kpwidgets and pinned dependencies"
	@$(BIN)/python -m pip install -c constraints.txt -e ".[dev]" || \
		$(call fail,installing kpwidgets and pinned dependencies)
	@rm -f $(VENV)/.installed-*
	@touch $@

# Resolve the dev install from scratch and freeze it. torch is pinned to the CPU
# build that lies on this machine's disk; an unpinned torch pulls a CUDA build.
lock:
	@echo "==> resolving a fresh dev install in a scratch venv"
	@rm -rf .lock-venv
	@$(PYTHON) -m venv .lock-venv || $(call fail,creating .lock-venv)
	@.lock-venv/bin/python -m pip install "torch==2.13.0" -e ".[dev]" || \
		$(call fail,resolving the dev install)
	@echo "==> writing constraints.txt"
	@{ echo "# Pinned versions of everything 'pip install -e .[dev]' resolves to on"; \
	   echo "# Python 3.11 (x86_64 Linux), torch being the CPU build. Regenerate: make lock"; \
	   .lock-venv/bin/python -m pip freeze --all --exclude-editable | \
	   grep -v '^pip==' | sed -E 's/^(torch==[^+]*)\+cpu$$/\1/'; } > constraints.txt
	@rm -rf .lock-venv

clean:
	@echo "==> removing $(VENV) and build leftovers"
	@rm -rf $(VENV) .lock-venv *.egg-info .pytest_cache .ruff_cache
