"""`make exercise` (exercise/hello.c): the start leaks every greeting, the
solution frees it; common/exercise_ci.py builds both and checks them."""

import sysconfig
from pathlib import Path

from exercise_ci import prove, rejects

STEP = Path(__file__).resolve().parent


def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/hello.c", fails_with=[
        "FAILED exercise/check_hello.py::test_the_greetings_are_freed",
        "the buffer Go returns is still not freed",
        "FAILED exercise/check_hello.py::test_the_greeting_is_freed_when_the_str_cannot_be_made",
        "2 failed, 2 passed",  # it still greets, frees nothing wrongly: only the leaks are wrong
    ])


def test_the_exercise_rejects_freeing_with_the_wrong_allocator(tmp_path):
    """PyMem_Free on malloc's greeting works by chance on a GIL build (3.13t's
    mimalloc crashes at once), until PYTHONMALLOC=debug
    (or another allocator) is in use: it passed the check once."""
    rejects(STEP, "exercise/hello.c", "    free(greeting);", "    PyMem_Free(greeting);",
            tmp_path, fails_with=[
                "FAILED exercise/check_hello.py::"
                "test_the_greetings_go_back_to_the_allocator_that_made_them",
                "Memory from Go's C.CString (malloc) must be released with free(), "
                "not PyMem_Free",
                # it greets and does not leak; on 3.13t, mimalloc's free of a
                # block it did not make crashes every call at once
                "4 failed" if sysconfig.get_config_var("Py_GIL_DISABLED") else
                "1 failed, 3 passed",
            ])


def test_the_exercise_rejects_a_leak_where_the_str_cannot_be_made(tmp_path):
    """The buffer is still the glue's when PyUnicode_FromString fails: the check
    could not see that path (a real greeting is always valid UTF-8) until
    exercise/fault.h made it fail for one name."""
    rejects(STEP, "exercise/hello.c",
            "    PyObject *result = PyUnicode_FromString(greeting); /* a copy, or NULL */\n"
            "    free(greeting);",
            "    PyObject *result = PyUnicode_FromString(greeting);\n"
            "    if (result == NULL)\n"
            "        return NULL; /* the mistake: greeting leaks */\n"
            "    free(greeting);",
            tmp_path, fails_with=[
                "FAILED exercise/check_hello.py::"
                "test_the_greeting_is_freed_when_the_str_cannot_be_made",
                "when the copy fails, the buffer is still yours to free",
                "1 failed, 3 passed",
            ])
