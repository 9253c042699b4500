"""`make exercise` (exercise/hello.c): the start leaks every greeting, the
solution frees it; common/exercise_ci.py builds both and checks them."""

from pathlib import Path

from exercise_ci import prove

STEP = Path(__file__).resolve().parent


def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/hello.c", fails_with=[
        "FAILED exercise/check_hello.py::test_the_greetings_are_freed",
        "the buffer Go returns is still not freed",
        "1 failed, 1 passed",  # it still greets: only the leak is wrong
    ])
