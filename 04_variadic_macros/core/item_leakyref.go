//go:build leakyref

package main

// #include "shims.h"
import "C"

// [excerpt: getitem]

// getItem, WRONG on purpose (built only with -tags leakyref, into
// build/leakyref/, for the test and the notebook that show the bug):
// PySequence_GetItem returns a NEW reference, and the caller treats it as
// borrowed, so every item gains one reference per call and is never freed.
func getItem(tuple *C.PyObject, i int) *C.PyObject {
	return C.PySequence_GetItem(tuple, C.Py_ssize_t(i))
}

// [/excerpt: getitem]
