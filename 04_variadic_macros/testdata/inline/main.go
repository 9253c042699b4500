// Go calling static inline functions: this one builds (Python >= 3.11,
// where Py_INCREF, Py_DECREF and Py_TYPE are static inline functions; in
// 3.10 they are macros and cgo refuses them like any macro).
package main

// #include <Python.h>
import "C"

func touch(obj *C.PyObject) *C.PyTypeObject {
	C.Py_INCREF(obj)
	C.Py_DECREF(obj)
	return C.Py_TYPE(obj)
}

func main() { _ = touch }
