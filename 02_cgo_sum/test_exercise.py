"""`make exercise` (exercise/sum.go): the start wraps around, the solution
raises OverflowError; common/exercise_ci.py builds both and checks them."""

from pathlib import Path

from exercise_ci import make_exercise, prove, rejects

STEP = Path(__file__).resolve().parent


def test_the_exercise_fails_on_its_start_and_passes_on_its_solution():
    prove(STEP, "exercise/sum.go", fails_with=[
        "sum(9223372036854775807, 1) = -9223372036854775808, expected OverflowError",
        "sum_list([4611686018427387904, 4611686018427387904]) -> -9223372036854775808, "
        "expected OverflowError: sum_list(): the running total does not fit in a signed "
        "64-bit integer at item 1",
    ])


def test_the_exercise_rejects_an_add_that_overflows_one_too_soon(tmp_path):
    """a + b == MinInt64 fits: an Add that calls it an overflow when b < 0
    (as `a <= MinInt64 - b` does) passed once."""
    rejects(STEP, "exercise/sum.go", "return sum, ok",
            "return sum, ok && !(b < 0 && sum == -1<<63)",
            tmp_path, fails_with=[
                "sum(-9223372036854775807, -1) raised OverflowError",
                "sum(-1, -9223372036854775807) raised OverflowError",
                "integer: Add must say ok == true whenever a + b fits, even exactly MIN or "
                "MAX)",  # that hint alone
                # sum_list names the item: one early here, not just any OverflowError
                "sum_list([-4611686018427387904, -4611686018427387904, -1]) -> OverflowError: "
                "sum_list(): the running total does not fit in a signed 64-bit integer at item 1, "
                "expected OverflowError: sum_list(): the running total does not fit in a signed "
                "64-bit integer at item 2",
            ])


def test_the_exercise_hints_at_a_missed_overflow(tmp_path):
    """A sign test that misses MIN + MIN wrapping to 0 was told it overflows
    too soon: the hint was chosen from sum(MAX, 1) alone."""
    rejects(STEP, "exercise/sum.go", "ok = (a >= 0) != (b >= 0) || (sum >= 0) == (a >= 0)",
            "ok = !(a > 0 && b > 0 && sum < 0) && !(a < 0 && b < 0 && sum > 0)",
            tmp_path, fails_with=[
                "sum(-9223372036854775808, -9223372036854775808) = 0, expected OverflowError",
                "Add must say ok == false when a + b wraps around)",
            ])



def test_the_exercise_rejects_what_its_rules_forbid(tmp_path):
    """math/big gives the right results: the rules said no, and only the
    results were checked."""
    solution = (STEP / "exercise" / "solution" / "sum.go").read_text()
    body = solution[solution.index("\tsum = a + b\n"):solution.index("\treturn sum, ok\n")]
    wrong = tmp_path / "sum.go"
    wrong.write_text(solution.replace("package sum\n", 'package sum\n\nimport "math/big"\n', 1)
                     .replace(body + "\treturn sum, ok\n",
                              "\tr := new(big.Int).Add(big.NewInt(a), big.NewInt(b))\n"
                              "\treturn r.Int64(), r.IsInt64()\n"))
    proc = make_exercise(STEP, f"EXERCISE={wrong}", f"EXERCISE_BUILD={tmp_path / 'build'}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "does not build" not in out, out[-4000:]
    assert "the results are right, but the rules say no math/big" in out, out[-4000:]
    assert "1 failed, 2 passed" in out, out[-4000:]
