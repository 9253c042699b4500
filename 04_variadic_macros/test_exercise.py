"""`make exercise` (exercise/item.go): the start leaks a reference per item
read, the solution borrows; common/exercise_ci.py builds both and checks them."""

from pathlib import Path

from exercise_ci import prove

STEP = Path(__file__).resolve().parent


def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/item.go", fails_with=[
        "reference counts moved:",
        "item 0 (1099511627776): +100,000",
        "1 failed, 1 passed",  # it still sums: only the references are wrong
    ])
