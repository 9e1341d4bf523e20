# cython: language_level=3
"""The one check every C kernel wrapper runs on its arrays before it releases the GIL.

A compiled loop is built for C-contiguous float32 or float64 arrays in native byte
order (class indices: int64) and trusts the sizes it is given; these inline checks
make every wrapper refuse anything else with a TypeError (wrong dtype, byte order or
layout) or ValueError (wrong size), so no caller can hand a kernel an array it would
misread or read past. The Python layers above convert inputs first
(fastnn._checks); a failure here is a bug in fastnn, reported instead of a crash.
"""
cimport numpy as cnp


cdef inline int ndim(object a, int nd, str where, str name) except -1:
    """``a`` (already checked to be an ndarray) has ``nd`` dimensions."""
    if cnp.PyArray_NDIM(<cnp.ndarray>a) != nd:
        raise ValueError(f"{where}: {name} must be {nd}-D, got shape {a.shape}.")
    return 0


cdef inline int index(Py_ssize_t i, Py_ssize_t n, str where, str name) except -1:
    """``i`` indexes a table of ``n`` entries (a kernel's op number)."""
    if not 0 <= i < n:
        raise ValueError(f"{where}: {name} must be in [0, {n}), got {i}.")
    return 0

cdef inline object _refuse(object a, str where, str name, str what):
    if not isinstance(a, cnp.ndarray):
        return TypeError(f"{where}: {name} must be {what}, got {type(a).__name__}.")
    return TypeError(f"{where}: {name} must be {what}, got an array of dtype {a.dtype}, "
                     f"shape {a.shape}, C-contiguous={a.flags.c_contiguous}.")


cdef inline int kernel_type(object a):
    """The type number (NPY_FLOAT32 or NPY_FLOAT64) of ``a`` when it is a C-contiguous
    float32/float64 ndarray in native byte order, else -1 (for wrappers that decline
    instead of raising)."""
    cdef int t
    if type(a) is cnp.ndarray or isinstance(a, cnp.ndarray):
        t = cnp.PyArray_TYPE(<cnp.ndarray>a)
        if ((t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64)
                and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)):
            return t
    return -1


cdef inline bint is_kernel_array(object a, int t):
    """``a`` is a C-contiguous ndarray of type number ``t`` in native byte order."""
    return (isinstance(a, cnp.ndarray) and cnp.PyArray_TYPE(<cnp.ndarray>a) == t
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a))


cdef inline int float_type(object a, str where, str name) except -1:
    """The type number (NPY_FLOAT32 or NPY_FLOAT64) of ``a``, a C-contiguous
    float32/float64 ndarray in native byte order; TypeError otherwise."""
    cdef int t = kernel_type(a)
    if t < 0:
        raise _refuse(a, where, name, "a C-contiguous float32 or float64 array in native byte order")
    return t


cdef inline int same(object a, int t, cnp.npy_intp n, str where, str name) except -1:
    """``a`` is an ndarray of type number ``t`` (native order, C-contiguous) holding
    ``n`` elements (any count when n < 0)."""
    cdef str what
    if not is_kernel_array(a, t):
        what = "float32" if t == cnp.NPY_FLOAT32 else "float64" if t == cnp.NPY_FLOAT64 else "int64"
        raise _refuse(a, where, name, f"a C-contiguous {what} array in native byte order")
    if n >= 0 and cnp.PyArray_SIZE(<cnp.ndarray>a) != n:
        raise ValueError(f"{where}: {name} must hold {n} elements, got shape {a.shape}.")
    return 0


cdef inline int same_or_none(object a, int t, cnp.npy_intp n, str where, str name) except -1:
    """``same`` for an optional array (None passes)."""
    if a is None:
        return 0
    return same(a, t, n, where, name)
