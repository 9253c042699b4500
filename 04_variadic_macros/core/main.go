// Command core is step 04's Go core, built with -buildmode=c-shared into
// libmacro_core.so. Like step 02's variant (a), Go receives the PyObject*
// arguments itself and calls the CPython API: real functions directly,
// variadic functions and macros through the C shims of shims.h.
//
// Rules every function here follows (see README.md):
//   - it runs only as a direct call from the C glue, on the calling thread,
//     with the GIL held (an attached thread state on a free-threaded build);
//     it starts no goroutine that touches Python objects;
//   - it returns a NEW reference, or NULL with a Python exception set;
//   - it recovers any panic into *report (the glue raises RuntimeError):
//     a panic that reached cgo would kill the interpreter;
//   - references it gets from PyArg_ParseTuple "O" and PyTuple_GetItem are
//     BORROWED: it never Py_DECREFs them and never keeps them after return;
//     the NEW reference it takes (list_sum's snapshot) it releases exactly
//     once, with a defer, so that a panic releases it too.
package main

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -Wno-unused-variable -Werror
// (cgo's own generated C has unused parameters, and before Go 1.26 an unused
// variable in the call of a C function without arguments: PyErr_Clear.)
#include "shims.h"
#include "go_panic.h"
*/
import "C"

import (
	"errors"
	"unsafe"

	"example.com/epg/04_variadic_macros/listsum"
	"example.com/epg/gopanic"
)

// IsAList implements macro.is_a_list(obj): True for a list or a subclass.
//
//export IsAList
func IsAList(self, args *C.PyObject, report *C.epg_go_panic) *C.PyObject {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("IsAList")
	obj := C.macro_parse_one_arg(args, C.macro_fmt_is_a_list) // borrowed
	if obj == nil {
		done = true
		return nil // PyArg_ParseTuple set the TypeError
	}
	// PyBool_FromLong returns a new reference (to Py_True or Py_False).
	done = true
	return C.PyBool_FromLong(C.long(C.macro_PyList_Check(obj)))
}

// IsALong implements macro.is_a_long(obj): True for an int, bool included.
//
//export IsALong
func IsALong(self, args *C.PyObject, report *C.epg_go_panic) *C.PyObject {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("IsALong")
	obj := C.macro_parse_one_arg(args, C.macro_fmt_is_a_long) // borrowed
	if obj == nil {
		done = true
		return nil
	}
	done = true
	return C.PyBool_FromLong(C.long(C.macro_PyLong_Check(obj)))
}

// [excerpt: listsum]

// ListSum implements macro.list_sum(values): the sum of a list of ints that
// fit in 64 bits, walking the list from Go (one crossing into Go per list,
// a few cheap Go-to-C calls per item), as it was at one instant: Go walks a
// snapshot of it (python.go says why).
//
//export ListSum
func ListSum(self, args *C.PyObject, report *C.epg_go_panic) *C.PyObject {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("ListSum")
	values := C.macro_parse_one_arg(args, C.macro_fmt_list_sum) // borrowed
	if values == nil {
		done = true
		return nil
	}
	if C.macro_PyList_Check(values) == 0 {
		raise(C.PyExc_TypeError, "list_sum() argument must be a list, not "+typeName(values))
		done = true
		return nil
	}
	items := snapshot(values) // a NEW reference: ours to release
	if items == nil {
		done = true
		return nil // MemoryError set
	}
	defer C.Py_DecRef(items) // on every path, a panic included
	total, err := listsum.Sum(newPyItems(items))
	if err != nil {
		setError(err)
		gopanic.Hook("ListSum.error") // tests (-tags epgpanic): a panic with an exception set
		done = true
		return nil
	}
	done = true
	return C.PyLong_FromLongLong(C.longlong(total)) // new reference
}

// [/excerpt: listsum]

// setError sets the Python exception that says why the sum failed.
func setError(err error) {
	var e *listsum.Error
	if !errors.As(err, &e) {
		raise(C.PyExc_SystemError, "list_sum(): "+err.Error())
		return
	}
	switch e.Problem {
	case listsum.NotInt:
		raise(C.PyExc_TypeError, "list_sum() "+e.Error())
	case listsum.ItemOverflow, listsum.SumOverflow:
		raise(C.PyExc_OverflowError, "list_sum() "+e.Error())
	default:
		// listsum.Failed: CPython already set an exception; keep it.
	}
}

func main() {} // required by -buildmode=c-shared, never runs
