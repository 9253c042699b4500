"""The contract of `newmath.sum`, shared by every implementation of it.

Step 01 (C), step 02's Go variants and its cffi/ctypes loaders must all
behave the same: 64-bit signed integers in and out, OverflowError instead of
wrap-around, TypeError for anything that is not an int.
"""

from __future__ import annotations

import re
from collections.abc import Callable

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# (arguments, expected result)
GOOD: list[tuple[tuple, int]] = [
    ((5, 4), 9),  # the talk's example
    ((0, 0), 0),
    ((-7, 3), -4),
    ((INT64_MAX, 0), INT64_MAX),
    ((0, INT64_MAX), INT64_MAX),
    ((INT64_MIN, 0), INT64_MIN),
    ((0, INT64_MIN), INT64_MIN),
    ((INT64_MAX, INT64_MIN), -1),
    # results exactly on either bound, both argument orders: a check off by
    # one (a + b == MIN or MAX taken for an overflow) fails here
    ((INT64_MAX - 1, 1), INT64_MAX),
    ((1, INT64_MAX - 1), INT64_MAX),
    ((INT64_MIN + 1, -1), INT64_MIN),
    ((-1, INT64_MIN + 1), INT64_MIN),
    ((-(2**62), -(2**62)), INT64_MIN),
    ((True, 2), 3),  # bool is an int
]

# (arguments, exception type, pattern its message must match)
BAD: list[tuple[tuple, type[Exception], str]] = [
    ((INT64_MAX, 1), OverflowError, r"does not fit in a signed 64-bit integer"),
    ((INT64_MIN, -1), OverflowError, r"does not fit in a signed 64-bit integer"),
    # wraps to exactly 0: a sign test such as (a < 0 && b < 0 && sum > 0) misses it
    ((INT64_MIN, INT64_MIN), OverflowError, r"does not fit in a signed 64-bit integer"),
    ((2**63, 0), OverflowError, r"int too big to convert"),
    ((0, -(2**63) - 1), OverflowError, r"int too big to convert"),
    ((1.5, 2), TypeError, r"'float' object cannot be interpreted as an integer"),
    (("5", 4), TypeError, r"'str' object cannot be interpreted as an integer"),
    ((None, 4), TypeError, r"'NoneType' object cannot be interpreted as an integer"),
    ((1,), TypeError, r"sum\(\) (takes exactly 2 arguments|missing 1 required positional)"),
    ((1, 2, 3), TypeError, r"sum\(\) takes (exactly )?2 (positional )?arguments"),
]


def problems(sum_func: Callable[..., int]) -> list[str]:
    """Check sum_func against the whole contract; return what is wrong."""
    found = []
    for args, expected in GOOD:
        try:
            got = sum_func(*args)
        except Exception as exc:  # report, don't stop
            found.append(f"sum{args!r} raised {exc!r}, expected {expected}")
            continue
        if got != expected or type(got) is not int:
            found.append(f"sum{args!r} = {got!r}, expected {expected}")
    for args, exc_type, pattern in BAD:
        try:
            got = sum_func(*args)
        except exc_type as exc:
            if not re.search(pattern, str(exc)):
                found.append(f"sum{args!r}: message {str(exc)!r} !~ {pattern!r}")
        except Exception as exc:
            found.append(f"sum{args!r} raised {exc!r}, expected {exc_type.__name__}")
        else:
            found.append(f"sum{args!r} = {got!r}, expected {exc_type.__name__}")
    return found
