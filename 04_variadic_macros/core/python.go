package main

/*
#include <stdlib.h>
#include "shims.h"
*/
import "C"

import (
	"unsafe"

	"example.com/epg/04_variadic_macros/listsum"
	"example.com/epg/gopanic"
)

// snapshot returns the items of list as a new tuple: a NEW reference, which
// the caller owns and must release exactly once (C.Py_DecRef), or NULL with
// MemoryError set.
//
// Why a copy: Go reads the items with borrowed references, and a borrowed
// reference is only as good as its owner. On a free-threaded build (3.13t)
// another thread may shrink the list or replace an item during the walk,
// freeing what Go is reading. PyList_AsTuple copies the item pointers under
// the list's lock (its critical section on 3.13t, the GIL elsewhere) and
// takes a reference to each, and a tuple never changes: the walk reads the
// list as it was at one instant, whatever other threads do meanwhile. It
// reads the list's storage, not its methods (a subclass's __iter__ is not
// called), like PyList_GetItem would.
func snapshot(list *C.PyObject) *C.PyObject {
	return C.PyList_AsTuple(list)
}

// pyItems is a snapshot tuple as listsum.Sum sees it. It holds a BORROWED
// reference: the tuple is owned by ListSum, which releases it after the walk,
// so pyItems must never outlive the call.
type pyItems struct {
	tuple *C.PyObject
	n     int
}

func newPyItems(tuple *C.PyObject) pyItems {
	return pyItems{tuple, int(C.PyTuple_Size(tuple))}
}

func (t pyItems) Len() int { return t.n }

// [excerpt: walk]

func (t pyItems) Int64(i int) (int64, listsum.Problem) {
	if i == t.n/2 {
		gopanic.Hook("ListSum.walk") // tests (-tags epgpanic): a panic halfway through
	}
	// Borrowed from the tuple (getItem, item.go): no Py_DECREF. No Python code
	// runs below (PyLong_Check is a flag test, and PyLong_AsLongLong on an int,
	// subclasses included, calls no __index__).
	item := getItem(t.tuple, i)
	if item == nil {
		return 0, listsum.Failed // IndexError set (cannot happen: i < n)
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

// [/excerpt: walk]

func (t pyItems) TypeName(i int) string {
	return typeName(C.PyTuple_GetItem(t.tuple, C.Py_ssize_t(i)))
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
