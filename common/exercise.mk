# exercise.mk: `make exercise` in steps 02-05, the rustlings way. You edit
# one small file (EXERCISE, in the step's exercise/ folder), `make exercise`
# builds it into build/exercise/ and runs a test (EXERCISE_CHECK) that fails,
# saying why, until your fix is right. Included after common/step.mk by the
# step's Makefile, which sets EXERCISE, EXERCISE_CHECK and the recipe of
# `exercise-build` (what to build from $(EXERCISE) into $(EXERCISE_BUILD)).
#
# The exercise never builds into the step's own module: a broken exercise
# does not break `make`. CI builds both the shipped start and the shipped
# solution (exercise/solution/), and checks that the first fails and the
# second passes (the step's test_exercise.py):
#     make exercise EXERCISE=exercise/solution/<file> EXERCISE_BUILD=build/exercise-solution
EXERCISE_BUILD ?= build/exercise
EXERCISE_HINT ?= read the comment at the top of $(EXERCISE)

.PHONY: exercise exercise-build
# "not yet" only when the check ran and failed (pytest's status 1): a check
# that cannot run says so, rather than calling a right answer wrong.
exercise:
	@$(PYTHON) -c 'import pytest' 2>/dev/null || { echo "cannot check: $(PYTHON) has no" \
		"pytest (the workshop's venv has it: run make at the root)"; exit 2; }
	@$(MAKE) --no-print-directory exercise-build || { \
		echo; echo "not yet: $(EXERCISE) does not build (the compiler said why, above)"; exit 1; }
	@echo "== checking $(EXERCISE) ($(EXERCISE_CHECK))"
	@EPG_EXERCISE_BUILD=$(abspath $(EXERCISE_BUILD)) EPG_EXERCISE=$(abspath $(EXERCISE)) \
		$(PYTEST) -q --tb=short --no-header $(EXERCISE_CHECK) || { rc=$$?; echo; \
		if [ $$rc = 1 ]; then echo "not yet: $(EXERCISE_HINT); then run make exercise again"; \
		else echo "the check could not run (pytest's exit status $$rc, above)"; fi; exit $$rc; }
	@echo; echo "done: $(EXERCISE) passes (one solution: $(wildcard exercise/solution/*.c exercise/solution/*.go))."

# A copy of this step whose one file is replaced by $(EXERCISE), built with
# -tags exercise (the exercise's Go files carry `//go:build exercise`, so
# the step's own `go vet` and `go test` leave them out). Usage in a recipe:
#     $(call exercise_tree,sum/sum.go,<make target in the copy>)
EXERCISE_TREE = $(EXERCISE_BUILD)/$(STEP)
define exercise_tree
	@mkdir -p $(EXERCISE_TREE) && ln -sfn $(COMMON) $(EXERCISE_BUILD)/common
	@tar -cf - --exclude=./build --exclude='*.so' --exclude=./.build-flags --exclude='lib*.h' \
		--exclude=./exercise . | tar -xf - -C $(EXERCISE_TREE)
	cp $(EXERCISE) $(EXERCISE_TREE)/$(1)
	@$(MAKE) --no-print-directory -C $(EXERCISE_TREE) PYTHON=$(PYTHON) \
		GO_TAGS=$(strip $(GO_TAGS) exercise) $(2)
endef
