# cython: language_level=3
"""C elementwise kernels (SIMD loops with glibc's vector math, on fastnn's pool).

Callers (fastnn._kernels.elementwise) pass C-contiguous float32/float64 arrays of
equal size and dtype; each wrapper checks that (``_ccheck``) before the kernel runs.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

from fastnn._kernels._ccheck cimport float_type, index, same

cnp.import_array()

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()   # the parallel loops run on fastnn's pool (the _cpool extension)

cdef extern from "elementwise.h" nogil:
    ctypedef void (*fnn_unary_f32)(const float *, float *, ptrdiff_t, const double *, int)
    ctypedef void (*fnn_unary_f64)(const double *, double *, ptrdiff_t, const double *, int)
    ctypedef void (*fnn_binary_f32)(const float *, const float *, float *, ptrdiff_t, const double *, int)
    ctypedef void (*fnn_binary_f64)(const double *, const double *, double *, ptrdiff_t, const double *, int)
    const char *fnn_unary_names[]
    const char *fnn_binary_names[]
    const fnn_unary_f32 fnn_unary_table_f32[]
    const fnn_unary_f64 fnn_unary_table_f64[]
    const fnn_binary_f32 fnn_binary_table_f32[]
    const fnn_binary_f64 fnn_binary_table_f64[]
    int fnn_has_openmp()


cdef dict _names(const char **table):
    cdef dict d = {}
    cdef int i = 0
    while table[i] != NULL:
        d[table[i].decode()] = i
        i += 1
    return d


UNARY = _names(fnn_unary_names)
BINARY = _names(fnn_binary_names)
cdef Py_ssize_t _N_UNARY = len(UNARY), _N_BINARY = len(BINARY)
HAS_OPENMP = bool(fnn_has_openmp())


cdef inline cnp.ndarray _c_order(cnp.ndarray a):
    # a strided view is copied here rather than by a Python-level call per op: the
    # common small-tensor call then costs one C function
    return a if cnp.PyArray_IS_C_CONTIGUOUS(a) else cnp.PyArray_GETCONTIGUOUS(a)


cdef inline object _result(object out, cnp.ndarray like, int t, ptrdiff_t n, str where):
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like), t, 0)
    same(out, t, n, where, "out")
    return out


def unary(int op, cnp.ndarray x, out, double a, double b, double c, int nt):
    """out[i] = op(x[i]; a, b, c); a strided x is copied first, and ``out=None``
    returns a new array of x's shape."""
    cdef double p[3]
    p[0] = a; p[1] = b; p[2] = c
    x = _c_order(x)
    cdef int t = float_type(x, "unary", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(x)
    index(op, _N_UNARY, "unary", "op")
    out = _result(out, x, t, n, "unary")
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *op_ = cnp.PyArray_DATA(<cnp.ndarray>out)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_unary_table_f32[op](<const float *>xp, <float *>op_, n, p, nt)
    else:
        with nogil:
            fnn_unary_table_f64[op](<const double *>xp, <double *>op_, n, p, nt)
    return out


def binary(int op, cnp.ndarray u, cnp.ndarray g, out,
           double a, double b, double c, int nt):
    """out[i] = op(u[i], g[i]; a, b, c); strided inputs are copied first, and
    ``out=None`` returns a new array of u's shape."""
    cdef double p[3]
    p[0] = a; p[1] = b; p[2] = c
    u = _c_order(u)
    g = _c_order(g)
    cdef int t = float_type(u, "binary", "u")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(u)
    index(op, _N_BINARY, "binary", "op")
    same(g, t, n, "binary", "g")
    out = _result(out, u, t, n, "binary")
    cdef void *up = cnp.PyArray_DATA(u)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *op_ = cnp.PyArray_DATA(<cnp.ndarray>out)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_binary_table_f32[op](<const float *>up, <const float *>gp, <float *>op_, n, p, nt)
    else:
        with nogil:
            fnn_binary_table_f64[op](<const double *>up, <const double *>gp, <double *>op_, n, p, nt)
    return out


cdef extern from "softmax.h" nogil:
    void fnn_softmax_f32(const float *, float *, ptrdiff_t, ptrdiff_t, int, int)
    void fnn_softmax_f64(const double *, double *, ptrdiff_t, ptrdiff_t, int, int)
    void fnn_softmax_bwd_f32(const float *, const float *, float *, ptrdiff_t, ptrdiff_t, int, int)
    void fnn_softmax_bwd_f64(const double *, const double *, double *, ptrdiff_t, ptrdiff_t, int, int)


def softmax_rows(cnp.ndarray x, cnp.ndarray out, ptrdiff_t d, bint log_out, int nt):
    """Row-wise (log_)softmax of a C-contiguous array viewed as (size // d, d)."""
    cdef int t = float_type(x, "softmax_rows", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(x)
    cdef ptrdiff_t rows = n // d if d > 0 else 0
    if rows * d != n:
        raise ValueError(f"softmax_rows: rows of d={d} must tile x, got {n} elements.")
    same(out, t, n, "softmax_rows", "out")
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_softmax_f32(<const float *>cnp.PyArray_DATA(x),
                            <float *>cnp.PyArray_DATA(out), rows, d, log_out, nt)
    else:
        with nogil:
            fnn_softmax_f64(<const double *>cnp.PyArray_DATA(x),
                            <double *>cnp.PyArray_DATA(out), rows, d, log_out, nt)
    return out


def softmax_bwd_rows(cnp.ndarray y, cnp.ndarray g, cnp.ndarray out, ptrdiff_t d,
                     bint log_out, int nt):
    """Row-wise gradient of (log_)softmax from its output ``y`` and grad ``g``."""
    cdef int t = float_type(y, "softmax_bwd_rows", "y")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(y)
    cdef ptrdiff_t rows = n // d if d > 0 else 0
    if rows * d != n:
        raise ValueError(f"softmax_bwd_rows: rows of d={d} must tile y, got {n} elements.")
    same(g, t, n, "softmax_bwd_rows", "g")
    same(out, t, n, "softmax_bwd_rows", "out")
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_softmax_bwd_f32(<const float *>cnp.PyArray_DATA(y),
                                <const float *>cnp.PyArray_DATA(g),
                                <float *>cnp.PyArray_DATA(out), rows, d, log_out, nt)
    else:
        with nogil:
            fnn_softmax_bwd_f64(<const double *>cnp.PyArray_DATA(y),
                                <const double *>cnp.PyArray_DATA(g),
                                <double *>cnp.PyArray_DATA(out), rows, d, log_out, nt)
    return out
