// Go calling a C macro directly: cgo refuses to build this.
package main

// #include <Python.h>
import "C"

// [excerpt: call]
func isAList(obj *C.PyObject) bool {
	return C.PyList_Check(obj) != 0
}

// [/excerpt: call]

func main() { _ = isAList }
