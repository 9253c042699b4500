// Go calling a variadic C function directly: cgo refuses to build this.
package main

// #include <Python.h>
import "C"

func parse(args *C.PyObject) *C.PyObject {
	var obj *C.PyObject
	C.PyArg_ParseTuple(args, C.CString("O"), &obj)
	return obj
}

func main() { _ = parse }
