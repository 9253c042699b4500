//go:build exercise

// EXERCISE (make exercise): fix the reference.
//
// list_sum walks a tuple snapshot of the list (ListSum owns it, and releases
// it once). It reads each item through getItem below, and uses the item
// during the call only: it never releases it, as befits a BORROWED
// reference. But PySequence_GetItem returns a NEW reference: the caller owns
// it and must release it. So every item gains one reference per call and is
// never freed. refcheck.py sees it: sys.getrefcount of every item grows by
// one per call.
//
// Make getItem return a borrowed reference again, so that list_sum's
// reference counts do not move. Read the CPython docs of each function you
// consider: "Return value: New reference" or "Borrowed reference"
// (https://docs.python.org/3/c-api/tuple.html). A new reference that you
// release at once is borrowed again only while someone else holds one: who
// does here?
//
// `make exercise` builds module macro with this file in place of
// core/item.go (in build/exercise/, never the step's own module) and runs
// exercise/check_item.py. (The `go:build exercise` line keeps this file out
// of the step's own `go vet` and `go test`.)
package main

// #include "shims.h"
import "C"

// getItem returns item i of the snapshot tuple. The caller treats it as
// BORROWED: it never releases it.
func getItem(tuple *C.PyObject, i int) *C.PyObject {
	return C.PySequence_GetItem(tuple, C.Py_ssize_t(i))
}
