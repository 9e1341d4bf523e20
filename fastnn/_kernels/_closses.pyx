# cython: language_level=3
"""C loss kernels (csrc/losses.h): fused value + gradient, OpenMP over rows/elements.

Callers (fastnn._kernels.losses) pass C-contiguous float32/float64 arrays of one
dtype (targets of class indices as int64) and ``None`` for optional outputs; each
wrapper checks dtypes, layout and sizes (``_ccheck``) before the kernel runs.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int64_t

from fastnn._kernels._ccheck cimport float_type, index, ndim, same, same_or_none

cnp.import_array()

cdef extern from "losses.h" nogil:
    ctypedef double (*fnn_pw_sum_f32)(const float *, const float *, ptrdiff_t, double, float *, double, int)
    ctypedef double (*fnn_pw_sum_f64)(const double *, const double *, ptrdiff_t, double, double *, double, int)
    ctypedef void (*fnn_pw_elem_f32)(const float *, const float *, ptrdiff_t, double, float *, float *, int)
    ctypedef void (*fnn_pw_elem_f64)(const double *, const double *, ptrdiff_t, double, double *, double *, int)
    ctypedef void (*fnn_pw_rows_f32)(const float *, const float *, ptrdiff_t, ptrdiff_t, double, float *, float *, double, int)
    ctypedef void (*fnn_pw_rows_f64)(const double *, const double *, ptrdiff_t, ptrdiff_t, double, double *, double *, double, int)
    const char *fnn_pw_names[]
    const fnn_pw_sum_f32 fnn_pw_sum_table_f32[]
    const fnn_pw_sum_f64 fnn_pw_sum_table_f64[]
    const fnn_pw_elem_f32 fnn_pw_elem_table_f32[]
    const fnn_pw_elem_f64 fnn_pw_elem_table_f64[]
    const fnn_pw_rows_f32 fnn_pw_rows_table_f32[]
    const fnn_pw_rows_f64 fnn_pw_rows_table_f64[]
    double bce_logits_pw_f32(const float *, const float *, const float *, ptrdiff_t, ptrdiff_t, float *, float *, double, int)
    double bce_logits_pw_f64(const double *, const double *, const double *, ptrdiff_t, ptrdiff_t, double *, double *, double, int)
    double ce_hard_f32(const float *, const int64_t *, ptrdiff_t, ptrdiff_t, const float *, int64_t, double,
                       float *, float *, double, int, double *, ptrdiff_t *, int)
    double ce_hard_f64(const double *, const int64_t *, ptrdiff_t, ptrdiff_t, const double *, int64_t, double,
                       double *, double *, double, int, double *, ptrdiff_t *, int)
    double ce_soft_f32(const float *, const float *, ptrdiff_t, ptrdiff_t, const float *, double,
                       float *, float *, double, int)
    double ce_soft_f64(const double *, const double *, ptrdiff_t, ptrdiff_t, const double *, double,
                       double *, double *, double, int)
    void scale_f32(const float *, float *, ptrdiff_t, double, int)
    void scale_f64(const double *, double *, ptrdiff_t, double, int)


cdef dict _names(const char **table):
    cdef dict d = {}
    cdef int i = 0
    while table[i] != NULL:
        d[table[i].decode()] = i
        i += 1
    return d


POINTWISE = _names(fnn_pw_names)
cdef Py_ssize_t _N_POINTWISE = len(POINTWISE)


cdef inline void *_ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline bint _f32(cnp.ndarray x):
    return cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32


def pw_sum(int op, cnp.ndarray x, cnp.ndarray y, double p, grad, double gscale, int nt):
    """Sum over all elements of loss(x, y; p); grad (or None) = gscale * dloss/dx."""
    cdef int t = float_type(x, "pw_sum", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(x)
    index(op, _N_POINTWISE, "pw_sum", "op")
    same(y, t, n, "pw_sum", "y")
    same_or_none(grad, t, n, "pw_sum", "grad")
    cdef void *g = _ptr(grad)
    cdef double s
    if _f32(x):
        with nogil:
            s = fnn_pw_sum_table_f32[op](<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(y),
                                         n, p, <float *>g, gscale, nt)
    else:
        with nogil:
            s = fnn_pw_sum_table_f64[op](<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(y),
                                         n, p, <double *>g, gscale, nt)
    return s


def pw_elem(int op, cnp.ndarray x, cnp.ndarray y, double p, cnp.ndarray loss, grad, int nt):
    """loss[i] = loss(x[i], y[i]; p); grad (or None) = dloss/dx."""
    cdef int t = float_type(x, "pw_elem", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(x)
    index(op, _N_POINTWISE, "pw_elem", "op")
    same(y, t, n, "pw_elem", "y")
    same(loss, t, n, "pw_elem", "loss")
    same_or_none(grad, t, n, "pw_elem", "grad")
    cdef void *g = _ptr(grad)
    if _f32(x):
        with nogil:
            fnn_pw_elem_table_f32[op](<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(y),
                                      n, p, <float *>cnp.PyArray_DATA(loss), <float *>g, nt)
    else:
        with nogil:
            fnn_pw_elem_table_f64[op](<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(y),
                                      n, p, <double *>cnp.PyArray_DATA(loss), <double *>g, nt)
    return loss


def pw_rows(int op, cnp.ndarray x, cnp.ndarray y, ptrdiff_t rows, ptrdiff_t cols, double p,
            cnp.ndarray out, grad, double gscale, int nt):
    """out[r] = sum over a row of `cols` elements of loss; grad (or None) = gscale * dloss/dx."""
    cdef int t = float_type(x, "pw_rows", "x")
    index(op, _N_POINTWISE, "pw_rows", "op")
    if rows < 0 or cols < 0:
        raise ValueError(f"pw_rows: rows and cols must be >= 0, got {rows} and {cols}.")
    same(x, t, rows * cols, "pw_rows", "x")
    same(y, t, rows * cols, "pw_rows", "y")
    same(out, t, rows, "pw_rows", "out")
    same_or_none(grad, t, rows * cols, "pw_rows", "grad")
    cdef void *g = _ptr(grad)
    if _f32(x):
        with nogil:
            fnn_pw_rows_table_f32[op](<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(y),
                                      rows, cols, p, <float *>cnp.PyArray_DATA(out), <float *>g, gscale, nt)
    else:
        with nogil:
            fnn_pw_rows_table_f64[op](<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(y),
                                      rows, cols, p, <double *>cnp.PyArray_DATA(out), <double *>g, gscale, nt)
    return out


def bce_logits_pw(cnp.ndarray x, cnp.ndarray y, cnp.ndarray pw, ptrdiff_t rows, ptrdiff_t cols,
                  loss, grad, double gscale, int nt):
    """BCE with logits and a per-column pos_weight; returns the total."""
    cdef int t = float_type(x, "bce_logits_pw", "x")
    if rows < 0 or cols < 0:
        raise ValueError(f"bce_logits_pw: rows and cols must be >= 0, got {rows} and {cols}.")
    same(x, t, rows * cols, "bce_logits_pw", "x")
    same(y, t, rows * cols, "bce_logits_pw", "y")
    same(pw, t, cols, "bce_logits_pw", "pw")
    same_or_none(loss, t, rows * cols, "bce_logits_pw", "loss")
    same_or_none(grad, t, rows * cols, "bce_logits_pw", "grad")
    cdef void *l = _ptr(loss)
    cdef void *g = _ptr(grad)
    cdef double s
    if _f32(x):
        with nogil:
            s = bce_logits_pw_f32(<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(y),
                                  <const float *>cnp.PyArray_DATA(pw), rows, cols, <float *>l, <float *>g, gscale, nt)
    else:
        with nogil:
            s = bce_logits_pw_f64(<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(y),
                                  <const double *>cnp.PyArray_DATA(pw), rows, cols, <double *>l, <double *>g, gscale, nt)
    return s


def ce_hard(cnp.ndarray x, cnp.ndarray t, weight, long long ignore_index, double eps,
            cnp.ndarray loss, grad, double gscale, bint mean, int nt):
    """Fused cross-entropy with class indices; returns (total, den, first bad row or N)."""
    cdef int ty = float_type(x, "ce_hard", "x")
    ndim(x, 2, "ce_hard", "x")
    cdef ptrdiff_t N = cnp.PyArray_DIM(x, 0), C = cnp.PyArray_DIM(x, 1)
    same(t, cnp.NPY_INT64, N, "ce_hard", "t")
    same_or_none(weight, ty, C, "ce_hard", "weight")
    same(loss, ty, N, "ce_hard", "loss")
    same_or_none(grad, ty, N * C, "ce_hard", "grad")
    cdef void *w = _ptr(weight)
    cdef void *g = _ptr(grad)
    cdef double total, den = 0
    cdef ptrdiff_t bad = 0
    cdef const int64_t *tp = <const int64_t *>cnp.PyArray_DATA(t)
    if _f32(x):
        with nogil:
            total = ce_hard_f32(<const float *>cnp.PyArray_DATA(x), tp, N, C, <const float *>w, ignore_index, eps,
                                <float *>cnp.PyArray_DATA(loss), <float *>g, gscale, mean, &den, &bad, nt)
    else:
        with nogil:
            total = ce_hard_f64(<const double *>cnp.PyArray_DATA(x), tp, N, C, <const double *>w, ignore_index, eps,
                                <double *>cnp.PyArray_DATA(loss), <double *>g, gscale, mean, &den, &bad, nt)
    return total, den, bad


def ce_soft(cnp.ndarray x, cnp.ndarray y, weight, double eps, cnp.ndarray loss, grad,
            double gscale, int nt):
    """Fused cross-entropy with class-probability targets; returns the total."""
    cdef int t = float_type(x, "ce_soft", "x")
    ndim(x, 2, "ce_soft", "x")
    cdef ptrdiff_t N = cnp.PyArray_DIM(x, 0), C = cnp.PyArray_DIM(x, 1)
    same(y, t, N * C, "ce_soft", "y")
    same_or_none(weight, t, C, "ce_soft", "weight")
    same(loss, t, N, "ce_soft", "loss")
    same_or_none(grad, t, N * C, "ce_soft", "grad")
    cdef void *w = _ptr(weight)
    cdef void *g = _ptr(grad)
    cdef double total
    if _f32(x):
        with nogil:
            total = ce_soft_f32(<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(y), N, C,
                                <const float *>w, eps, <float *>cnp.PyArray_DATA(loss), <float *>g, gscale, nt)
    else:
        with nogil:
            total = ce_soft_f64(<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(y), N, C,
                                <const double *>w, eps, <double *>cnp.PyArray_DATA(loss), <double *>g, gscale, nt)
    return total


def scale(cnp.ndarray a, cnp.ndarray out, double s, int nt):
    """out = a * s."""
    cdef int t = float_type(a, "scale", "a")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(a)
    same(out, t, n, "scale", "out")
    if _f32(a):
        with nogil:
            scale_f32(<const float *>cnp.PyArray_DATA(a), <float *>cnp.PyArray_DATA(out), n, s, nt)
    else:
        with nogil:
            scale_f64(<const double *>cnp.PyArray_DATA(a), <double *>cnp.PyArray_DATA(out), n, s, nt)
    return out
