# Extending Python with Go: the workshop's two commands.
#   make        system check, venv + dependencies, build every step, run the demos
#   make test   every step's tests (each in its own interpreter), Go checks, notebooks
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(abspath $(VENV))/bin/python
# Every NN_name/ folder with a Makefile is a step, in order.
STEPS := $(patsubst %/Makefile,%,$(sort $(wildcard [0-9][0-9]_*/Makefile)))

.PHONY: all system venv deps build demo test test-cgocheck2 test-min-go bench lint clean distclean
all: build demo

# The venv belongs to one interpreter: `make PYTHON=python3.12` makes a new one.
# A free-threaded build (python3.13t) gets requirements-free-threaded.txt, which
# says what it leaves out and why; --prefer-binary, because a package's newest
# release may not have a free-threaded wheel yet, and nothing builds here
# without the network (matplotlib downloads FreeType when built from source).
PY_TAG := $(shell $(PYTHON) -c 'import sys, sysconfig; print(sys.implementation.cache_tag + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))' 2>/dev/null)
REQUIREMENTS := $(if $(filter %t,$(PY_TAG)),requirements-free-threaded.txt,requirements.txt)
PIP_PREFER := $(if $(filter %t,$(PY_TAG)),--prefer-binary)
VENV_STAMP := $(VENV)/.installed-$(PY_TAG)

# The system check runs first: on a fresh Debian it installs venv support (a
# package of its own there), without which no venv (common/check-system.sh: the one list
# of system packages, per distribution).
system:
	@PYTHON=$(PYTHON) ./common/check-system.sh

$(VENV_STAMP): $(REQUIREMENTS) | system
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python >= 3.10 is needed (PYTHON=$(PYTHON))"; exit 1; }
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv --clear $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet $(PIP_PREFER) -r $(REQUIREMENTS)
	touch $@

venv: $(VENV_STAMP)

deps: system venv

build: deps
	@set -e; for step in $(STEPS); do \
		echo "== build $$step"; $(MAKE) --no-print-directory -C $$step PYTHON=$(VPY); done

demo: build
	@set -e; for step in $(STEPS); do \
		echo "== demo $$step"; $(MAKE) --no-print-directory -C $$step demo PYTHON=$(VPY); done

# One root pytest: conftest.py runs each step in its own interpreter.
test: build lint
	$(VPY) -m pytest

# The same suite with every Go core rebuilt under the stricter cgo pointer
# checks (cgocheck2 verifies every pointer store into C memory at run time).
# (Not the README checks: there, 03's broken version 1 dies with cgocheck2's
# fatal error instead of the panic its README shows.)
test-cgocheck2: deps
	GOEXPERIMENT=cgocheck2 $(MAKE) --no-print-directory build
	GOEXPERIMENT=cgocheck2 $(VPY) -m pytest -p no:nbmake --ignore=test_readmes.py
	$(MAKE) --no-print-directory build   # back to the default build

# The oldest Go the README promises (every go.mod says `go 1.21`), which the go
# command fetches from the Go module proxy (GOTOOLCHAIN): every step built with
# it, its Go checks, and the panic tests (gopanic reads the runtime's frames).
# A Go before 1.26 once failed to build step 04, and nothing here noticed.
MIN_GO := go1.21.13
test-min-go: deps
	GOTOOLCHAIN=$(MIN_GO) $(MAKE) --no-print-directory build
	@set -e; for step in $(STEPS); do \
		GOTOOLCHAIN=$(MIN_GO) $(MAKE) --no-print-directory -C $$step gocheck PYTHON=$(VPY); done
	GOTOOLCHAIN=$(MIN_GO) $(VPY) -m pytest -p no:nbmake test_go_panics.py
	$(MAKE) --no-print-directory build   # back to the default build

bench: build
	@set -e; for step in $(STEPS); do \
		if $(MAKE) -C $$step -n bench >/dev/null 2>&1; then \
			echo "== bench $$step"; $(MAKE) --no-print-directory -C $$step bench PYTHON=$(VPY); fi; done

lint: venv
	$(VPY) -m ruff check .

clean:
	@for step in $(STEPS); do $(MAKE) --no-print-directory -C $$step clean; done

distclean: clean
	rm -rf $(VENV)
