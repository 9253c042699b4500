// Go calling a variadic C function directly: cgo refuses to build this.
package main

// #include <Python.h>
import "C"

// [excerpt: call]
func parse(args *C.PyObject) *C.PyObject {
	var obj *C.PyObject
	C.PyArg_ParseTuple(args, C.CString("O"), &obj)
	return obj
}

// [/excerpt: call]

func main() { _ = parse }
