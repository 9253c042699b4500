"""`make exercise` (exercise/sum.go): the start wraps around, the solution
raises OverflowError; common/exercise_ci.py builds both and checks them."""

from pathlib import Path

from exercise_ci import prove

STEP = Path(__file__).resolve().parent


def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/sum.go", fails_with=[
        "sum(9223372036854775807, 1) = -9223372036854775808, expected OverflowError",
        "sum_list([4611686018427387904, 4611686018427387904]) -> -9223372036854775808, "
        "expected OverflowError",
    ])
