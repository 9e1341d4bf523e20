# cython: language_level=3
"""C elementwise kernels (OpenMP SIMD loops with glibc's vector math).

Callers (fastnn._kernels.elementwise) pass C-contiguous float32/float64 arrays of
equal size and dtype; each wrapper checks that (``_ccheck``) before the kernel runs.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

from fastnn._kernels._ccheck cimport float_type, index, same

cnp.import_array()

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


def unary(int op, cnp.ndarray x, cnp.ndarray out, double a, double b, double c, int nt):
    """out[i] = op(x[i]; a, b, c)."""
    cdef double p[3]
    p[0] = a; p[1] = b; p[2] = c
    cdef int t = float_type(x, "unary", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(x)
    index(op, _N_UNARY, "unary", "op")
    same(out, t, n, "unary", "out")
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_unary_table_f32[op](<const float *>cnp.PyArray_DATA(x),
                                    <float *>cnp.PyArray_DATA(out), n, p, nt)
    else:
        with nogil:
            fnn_unary_table_f64[op](<const double *>cnp.PyArray_DATA(x),
                                    <double *>cnp.PyArray_DATA(out), n, p, nt)
    return out


def binary(int op, cnp.ndarray u, cnp.ndarray g, cnp.ndarray out,
           double a, double b, double c, int nt):
    """out[i] = op(u[i], g[i]; a, b, c)."""
    cdef double p[3]
    p[0] = a; p[1] = b; p[2] = c
    cdef int t = float_type(u, "binary", "u")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(u)
    index(op, _N_BINARY, "binary", "op")
    same(g, t, n, "binary", "g")
    same(out, t, n, "binary", "out")
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_binary_table_f32[op](<const float *>cnp.PyArray_DATA(u),
                                     <const float *>cnp.PyArray_DATA(g),
                                     <float *>cnp.PyArray_DATA(out), n, p, nt)
    else:
        with nogil:
            fnn_binary_table_f64[op](<const double *>cnp.PyArray_DATA(u),
                                     <const double *>cnp.PyArray_DATA(g),
                                     <double *>cnp.PyArray_DATA(out), n, p, nt)
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
