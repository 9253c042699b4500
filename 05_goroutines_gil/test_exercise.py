"""`make exercise` (exercise/count.c): the start holds the GIL through the Go
call, the solution releases it; common/exercise_ci.py builds both and checks
them."""

import sysconfig
from pathlib import Path

import pytest
from exercise_ci import prove

STEP = Path(__file__).resolve().parent


@pytest.mark.skipif(bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                    reason="a free-threaded CPython has no GIL to release: the exercise's "
                    "check cannot tell the start from the solution there")
def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/count.c", fails_with=[
        "the helper thread counted 0: it waited for the GIL the whole time",
    ])
