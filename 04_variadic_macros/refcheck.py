"""Refcount drift of list_sum's arguments, for the tests and the notebook.

    python refcheck.py [MODULE_DIR] [CALLS]   # JSON: {object: refcount change}

Every object list_sum sees (the lists and their items, on the good path and
on every error path) is counted with sys.getrefcount before and after CALLS
calls. Correct code: every change is 0. A reference taken and never released
shows up as +CALLS on the objects it was taken on.
"""

from __future__ import annotations

import collections
import json
import sys

INT64_MAX = 2**63 - 1


def _call_every_path(list_sum, calls: int, lists: list, errors: tuple,
                     raised: collections.Counter) -> None:
    for _ in range(calls):
        for values in lists:
            try:
                list_sum(values)
            except errors as exc:
                raised[type(exc).__name__] += 1


def drift(list_sum, calls: int = 100_000, errors: tuple = (TypeError, OverflowError),
          raised: collections.Counter | None = None) -> dict[str, int]:
    """{object: refcount after - before} over `calls` rounds of every path.

    Exceptions of the types in `errors` are expected (counted by type name in
    `raised`, if given); any other propagates.
    """

    class MyList(list):
        pass

    items = [(1 << 40) + i for i in range(5)]  # distinctive, not cached objects
    # Built at run time: a constant (`1 << 70` is folded into one) may be
    # immortal, its refcount frozen (free-threaded 3.13 makes code constants so).
    big, text = (1 << 70) + len(items), "".join(["not ", "an int"])
    lists = {
        "good list": list(items),
        "list with a str": [*items, text],
        "list with a big int": [*items, big],
        "list whose sum overflows": [*items, INT64_MAX],
        "list subclass": MyList(items),
        "tuple (not a list)": tuple(items),
    }
    watched = dict(lists)
    watched.update({f"item {i} ({item})": item for i, item in enumerate(items)})
    watched.update({"the str item": text, "the big int item": big})
    before = {name: sys.getrefcount(obj) for name, obj in watched.items()}
    _call_every_path(list_sum, calls, list(lists.values()), errors,
                     collections.Counter() if raised is None else raised)
    after = {name: sys.getrefcount(obj) for name, obj in watched.items()}
    return {name: after[name] - before[name] for name in watched}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    import macro

    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    print(json.dumps({"module": macro.__file__, "drift": drift(macro.list_sum, calls)}))
