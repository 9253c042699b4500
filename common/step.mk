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
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
ABI3_SUFFIX := .abi3$(suffix $(EXT_SUFFIX))

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
else
EXT_LDFLAGS := -shared $(LDFLAGS)
GO_UNDEFINED := -Wl,--unresolved-symbols=ignore-all
endif
EXT_LDLIBS := -ldl

# Rebuild when the interpreter, the compiler or GOEXPERIMENT changes
# (`make test-cgocheck2` rebuilds every Go core with GOEXPERIMENT=cgocheck2).
BUILD_FLAGS := .build-flags
$(BUILD_FLAGS): FORCE
	@printf '%s\n' "$(BUILD_SETTINGS)" | cmp -s - $@ || printf '%s\n' "$(BUILD_SETTINGS)" > $@
BUILD_SETTINGS = PYTHON=$(PYTHON) EXT_SUFFIX=$(EXT_SUFFIX) CC=$(CC) GOEXPERIMENT=$(GOEXPERIMENT) CFLAGS=$(CFLAGS)

# cgo's environment: Python's headers (for cores that call CPython), common/,
# and Python's symbols left for the interpreter to provide at load time.
CGO_ENV = CGO_CFLAGS="-I$(PY_INCLUDE) -I$(COMMON) -O2 -Wall" CGO_LDFLAGS="$(GO_UNDEFINED)"

# Go core as a C shared library (+ cgo's generated header next to it).
# Usage in a recipe: $(GO_C_SHARED) -o $@ ./pkg
GO_C_SHARED = $(CGO_ENV) $(GO) build -buildmode=c-shared

# The step's own tests, in one interpreter for this step only (see ../conftest.py).
PYTEST = EPG_STEP=$(STEP) $(PYTHON) -m pytest -p no:cacheprovider

# Go checks: formatting, vet and unit tests of every package of the step.
.PHONY: gocheck FORCE
ifneq ($(wildcard go.mod),)
gocheck:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(CGO_ENV) $(GO) vet ./...
	$(CGO_ENV) $(GO) test -count=1 ./...
else
gocheck:
	@echo "$(STEP): no Go code"
endif
FORCE:
