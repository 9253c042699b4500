//go:build exercise

// A solution of exercise/item.go (step 04's core/item.go is the same code).
package main

// #include "shims.h"
import "C"

// getItem returns item i of the snapshot tuple as a BORROWED reference: the
// tuple owns it, the caller must not Py_DECREF it (PyTuple_GetItem, not
// PySequence_GetItem).
func getItem(tuple *C.PyObject, i int) *C.PyObject {
	return C.PyTuple_GetItem(tuple, C.Py_ssize_t(i))
}
