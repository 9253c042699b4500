"""`make exercise` (exercise/count.c): the start holds the GIL through the Go
call, the solution releases it; common/exercise_ci.py builds both and checks
them."""

import sysconfig
from pathlib import Path

import pytest
from exercise_ci import make_exercise, prove

STEP = Path(__file__).resolve().parent
needs_a_gil = pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    reason="a free-threaded CPython has no GIL to release: the exercise's check cannot "
    "tell the start from the solution there")


@needs_a_gil
def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/count.c", fails_with=[
        "the helper thread counted 0: it waited for the GIL the whole time",
    ])


# The solution, wrong in the one way the Go call's own test cannot see: the
# result is built before the GIL is taken back. On 3.11 that usually works.
RELEASED = ("    Py_BEGIN_ALLOW_THREADS\n"
            "    done = go_Countdown(n, 1, NULL, &panic);\n"
            "    Py_END_ALLOW_THREADS\n")
RESULT_WITHOUT_GIL = ("    PyObject *result = NULL;\n"
                      "    Py_BEGIN_ALLOW_THREADS\n"
                      "    done = go_Countdown(n, 1, NULL, &panic);\n"
                      "    if (panic.value == NULL)\n"
                      "        result = PyLong_FromLongLong(done); /* wrong: no GIL */\n"
                      "    Py_END_ALLOW_THREADS\n")


@needs_a_gil
def test_a_result_built_with_the_gil_released_fails(tmp_path):
    solution = (STEP / "exercise" / "solution" / "count.c").read_text()
    assert solution.count(RELEASED) == 1
    assert solution.count("return PyLong_FromLongLong(done);") == 1
    wrong = tmp_path / "count.c"
    wrong.write_text(solution.replace(RELEASED, RESULT_WITHOUT_GIL)
                     .replace("return PyLong_FromLongLong(done);", "return result;"))
    proc = make_exercise(STEP, f"EXERCISE={wrong}", "EXERCISE_BUILD=build/exercise-ci-wrong")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "does not build" not in out, out[-4000:]
    assert ("the interpreter aborted during count.countdown(10**6): Python memory allocator "
            "called without holding the GIL") in out, out[-4000:]


# The solution, wrong on the panic path only: Go's report raised before the
# GIL is taken back (a return between the two macros). Only a panic shows it.
PANIC_WITHOUT_GIL = ("    Py_BEGIN_ALLOW_THREADS\n"
                     "    done = go_Countdown(n, 1, NULL, &panic);\n"
                     "    if (panic.value != NULL)\n"
                     "        return epg_raise_go_panic(\"countdown()\", &panic);\n"
                     "    Py_END_ALLOW_THREADS\n")


@needs_a_gil
def test_a_panic_raised_with_the_gil_released_fails(tmp_path):
    solution = (STEP / "exercise" / "solution" / "count.c").read_text()
    raised = ("    if (panic.value != NULL)\n"
              "        return epg_raise_go_panic(\"countdown()\", &panic);\n")
    assert solution.count(RELEASED + raised) == 1
    wrong = tmp_path / "count.c"
    wrong.write_text(solution.replace(RELEASED + raised, PANIC_WITHOUT_GIL))
    proc = make_exercise(STEP, f"EXERCISE={wrong}", "EXERCISE_BUILD=build/exercise-ci-panic")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "FAILED exercise/check_count.py::test_a_go_panic_is_raised_with_the_gil_held" in out
    assert "when Go panics, count.countdown ends the interpreter" in out, out[-4000:]
    assert "2 passed" in out, out[-4000:]  # the GIL is released, the arguments checked
