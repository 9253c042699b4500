//go:build !leakyref

package main

// #include "shims.h"
import "C"

// getItem returns item i of list as a BORROWED reference: the list owns it,
// the caller must not Py_DECREF it (PyList_GetItem, not PySequence_GetItem).
func getItem(list *C.PyObject, i int) *C.PyObject {
	return C.PyList_GetItem(list, C.Py_ssize_t(i))
}
