# step.mk: what every step's Makefile shares. Included as
#     include ../common/step.mk
# Everything comes from the interpreter that runs the build (PYTHON), never
# from a hard-coded version; extensions never link libpython.

# The including Makefile's first rule is not its default goal: `all` is.
.DEFAULT_GOAL := all

COMMON := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ROOT := $(abspath $(COMMON)/..)
STEP := $(notdir $(CURDIR))

# The workshop venv when it exists, else whatever python3 is on PATH.
PYTHON ?= $(if $(wildcard $(ROOT)/.venv/bin/python),$(ROOT)/.venv/bin/python,python3)
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
# (An empty one, "-I$(PY_INCLUDE) -I$(COMMON)", would hide common/ from the
# compiler; clean needs no Python: a dangling .venv/bin/python is removed.)
ifeq ($(PY_INCLUDE),)
ifneq ($(filter-out clean distclean,$(or $(MAKECMDGOALS),all)),)
$(error $(PYTHON) does not run a Python: give a path or a name on PATH, e.g. make PYTHON=$$(pyenv which python3.12))
endif
endif
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
# No Python (clean only gets here): a glob of every module's name. Empty, it
# made clean's "countdown$(EXT_SUFFIX)" the source folder countdown/.
EXT_SUFFIX := $(or $(EXT_SUFFIX),.*so)
ABI3_SUFFIX := .abi3$(suffix $(EXT_SUFFIX))
# 1 on a free-threaded build (3.13t, 3.14t): no limited API there (until
# abi3t, Python 3.15), so modules that are abi3 elsewhere are built
# version-specific.
PY_GIL_DISABLED := $(shell $(PYTHON) -c 'import sysconfig; print(1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0)' 2>/dev/null)

GO ?= go
CC ?= cc
UNAME := $(shell uname -s)

# C glue: strict warnings, position independent, Python headers, common/.
EXT_CFLAGS := -std=gnu11 -O2 -fPIC -Wall -Wextra -Werror \
	-I$(PY_INCLUDE) -I$(COMMON) $(CFLAGS)
ifeq ($(UNAME),Darwin)
# macOS: symbols of the interpreter are resolved when the module is loaded.
EXT_LDFLAGS := -bundle -undefined dynamic_lookup $(LDFLAGS)
GO_UNDEFINED := -undefined dynamic_lookup
GO_DEFS :=
else
EXT_LDFLAGS := -shared $(LDFLAGS)
GO_UNDEFINED := -Wl,--unresolved-symbols=ignore-all
# Every symbol of a core must come from a library it links: a missing -l
# fails the build here, not the import later.
GO_DEFS := -Wl,-z,defs
endif
EXT_LDLIBS := -ldl

# Rebuild when the interpreter, the compiler or GOEXPERIMENT changes
# (`make test-cgocheck2` rebuilds every Go core with GOEXPERIMENT=cgocheck2).
BUILD_FLAGS := .build-flags
$(BUILD_FLAGS): FORCE
	@printf '%s\n' "$(BUILD_SETTINGS)" | cmp -s - $@ || printf '%s\n' "$(BUILD_SETTINGS)" > $@
BUILD_SETTINGS = PYTHON=$(PYTHON) EXT_SUFFIX=$(EXT_SUFFIX) CC=$(CC) GOEXPERIMENT=$(GOEXPERIMENT) CFLAGS=$(CFLAGS) CGO_CFLAGS=$(CGO_CFLAGS) CGO_LDFLAGS=$(CGO_LDFLAGS) GO_TAGS=$(GO_TAGS) GOTOOLCHAIN=$(GOTOOLCHAIN)

# cgo's environment: the user's CGO_CFLAGS/CGO_LDFLAGS (Go's defaults when
# unset), plus Python's headers (for cores that call CPython) and common/.
CGO_CFLAGS ?= -O2 -g
CGO_LDFLAGS ?= -O2 -g
CGO_ENV = CGO_CFLAGS="$(CGO_CFLAGS) -I$(PY_INCLUDE) -I$(COMMON) -Wall" CGO_LDFLAGS="$(CGO_LDFLAGS) $(GO_DEFS)"
# A core that calls the CPython API itself (02's variant a, 04) cannot link
# libpython (the interpreter may be a static binary): Python's symbols are
# left for the interpreter to provide at load time, and only there.
CGO_ENV_PY = CGO_CFLAGS="$(CGO_CFLAGS) -I$(PY_INCLUDE) -I$(COMMON) -Wall" CGO_LDFLAGS="$(CGO_LDFLAGS) $(GO_UNDEFINED)"

# What the C glue of a Go-backed module includes, and the Go code every core
# shares (the panic boundary): both are dependencies of what they build.
GO_CORE_H := $(COMMON)/go_core.h $(COMMON)/go_guard.h $(COMMON)/go_panic.h
GOPANIC_SRC := $(wildcard $(COMMON)/gopanic/*.go) $(COMMON)/gopanic/go.mod $(COMMON)/go_panic.h

# Go core as a C shared library (+ cgo's generated header next to it).
# Usage in a recipe: $(GO_C_SHARED) -o $@ ./pkg   ($(GO_C_SHARED_PY) for the
# cores that call CPython)
GO_C_SHARED = $(CGO_ENV) $(GO) build $(GO_TAGS_FLAG) -buildmode=c-shared
GO_C_SHARED_PY = $(CGO_ENV_PY) $(GO) build $(GO_TAGS_FLAG) -buildmode=c-shared
GO_TAGS ?=
GO_TAGS_FLAG = $(if $(GO_TAGS),-tags $(call go_tags,$(GO_TAGS)))
go_tags = $(subst $(eval) ,$(comma),$(strip $(1)))# go build -tags a,b
comma := ,

# The panic tests need cores whose gopanic.Hook is live (-tags epgpanic): a
# copy of the step built that way in build/epgpanic/<step>/, the production
# build left alone. Tests run the step's modules from there with
# EPG_GO_PANIC=<Go function> (common/gopanic/hook_on.go).
PANIC_TREE := build/epgpanic
PANIC_TARGETS ?= all
.PHONY: panic-build
panic-build:
	@mkdir -p $(PANIC_TREE)/$(STEP) && ln -sfn $(COMMON) $(PANIC_TREE)/common
	@tar -cf - --exclude=./build --exclude='*.so' --exclude=./.build-flags --exclude='lib*.h' . \
		| tar -xf - -C $(PANIC_TREE)/$(STEP)
	@$(MAKE) --no-print-directory -C $(PANIC_TREE)/$(STEP) PYTHON=$(PYTHON) \
		GO_TAGS=$(strip $(GO_TAGS) epgpanic) $(PANIC_TARGETS)

# The step's own tests, in one interpreter for this step only (see ../conftest.py).
PYTEST = EPG_STEP=$(STEP) $(PYTHON) -m pytest -p no:cacheprovider

# Go checks: formatting, vet and unit tests of every package of the step,
# and of the shared common/gopanic it uses (each step checks what it builds).
.PHONY: gocheck FORCE
GO_DEPS_CHECKED = $(if $(shell grep -s example.com/epg/gopanic go.mod),example.com/epg/gopanic)
ifneq ($(wildcard go.mod),)
gocheck:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(CGO_ENV_PY) $(GO) vet ./... $(GO_DEPS_CHECKED)
	$(CGO_ENV_PY) $(GO) test -count=1 ./... $(GO_DEPS_CHECKED)
else
gocheck:
	@echo "$(STEP): no Go code"
endif
FORCE:

# `make print-GO_C_SHARED` and friends: what a variable expands to (tests).
print-%:
	@echo '$($*)'
