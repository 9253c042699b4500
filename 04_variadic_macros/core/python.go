package main

/*
#include <stdlib.h>
#include "shims.h"
*/
import "C"

import (
	"unsafe"

	"example.com/epg/04_variadic_macros/listsum"
)

// pyList is a Python list as listsum.Sum sees it. It holds a BORROWED
// reference, valid while the caller's args tuple holds the list, i.e. for
// the duration of the call: it must never outlive it.
//
// Why borrowed references from PyList_GetItem are safe here: no Python code
// runs while the list is walked (PyLong_Check is a flag test, and
// PyLong_AsLongLong on an int calls no __index__), and the GIL is held
// throughout, so nothing can shrink the list or drop its items meanwhile.
type pyList struct{ list *C.PyObject }

func (l pyList) Len() int { return int(C.PyList_Size(l.list)) }

func (l pyList) Int64(i int) (int64, listsum.Problem) {
	item := getItem(l.list, i) // borrowed: no Py_DECREF
	if item == nil {
		return 0, listsum.Failed // IndexError set (cannot happen, see above)
	}
	if C.macro_PyLong_Check(item) == 0 {
		return 0, listsum.NotInt
	}
	v := C.PyLong_AsLongLong(item)
	if v == -1 && C.PyErr_Occurred() != nil {
		if C.PyErr_ExceptionMatches(C.PyExc_OverflowError) == 0 {
			return 0, listsum.Failed
		}
		// Replaced by an OverflowError that names the item.
		C.PyErr_Clear()
		return 0, listsum.ItemOverflow
	}
	return int64(v), listsum.OK
}

func (l pyList) TypeName(i int) string {
	return typeName(C.PyList_GetItem(l.list, C.Py_ssize_t(i)))
}

// typeName copies the name of obj's type into a Go string.
func typeName(obj *C.PyObject) string {
	return C.GoString(C.macro_type_name(obj))
}

// raise sets a Python exception of type exc. PyErr_SetString copies the
// message into a new str, so the C copy made here is freed right after:
// exactly once, by the code that allocated it.
func raise(exc *C.PyObject, msg string) {
	cmsg := C.CString(msg)
	defer C.free(unsafe.Pointer(cmsg))
	C.PyErr_SetString(exc, cmsg)
}
