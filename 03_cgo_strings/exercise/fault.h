/*
 * The exercise's build only (make exercise: cc -include exercise/fault.h): a
 * PyUnicode_FromString that fails, as when memory runs out, for the greeting
 * of a name that starts with "\x01fail". Then exercise/check_hello.py can take
 * the glue's path where the copy fails, which a real call never does (Go's
 * greeting is always valid UTF-8).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static inline PyObject *
exercise_failing_from_string(const char *s)
{
    if (strncmp(s, "Hello \x01" "fail", 11) == 0)
        return PyErr_NoMemory();
    return PyUnicode_FromString(s);
}
#define PyUnicode_FromString exercise_failing_from_string
