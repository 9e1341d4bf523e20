# cython: language_level=3
"""C small-batch linear kernel (csrc/linear.h): y = act(x Wᵀ + b) in one serial pass.

``linear_small`` is called on the hot path of single-sample inference, so it checks
in C, not Python, whether the kernel applies (2-D, matching sizes, one float
dtype, C-contiguous, little enough work) and returns None when it does not: the
caller then takes the validated BLAS path, which also raises the errors.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

cnp.import_array()

cdef extern from "linear.h" nogil:
    int FNN_ACT_NONE, FNN_ACT_RELU
    void linear_small_f32(const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, const float *, float *, int)
    void linear_small_f64(const double *, ptrdiff_t, ptrdiff_t, const double *, ptrdiff_t, const double *, double *, int)
    void linear_chain_f32(const float *, ptrdiff_t, ptrdiff_t, int, const void *const *, const void *const *,
                          const ptrdiff_t *, const int *, float *, float *, float *)
    void linear_chain_f64(const double *, ptrdiff_t, ptrdiff_t, int, const void *const *, const void *const *,
                          const ptrdiff_t *, const int *, double *, double *, double *)

ACT_NONE = FNN_ACT_NONE
ACT_RELU = FNN_ACT_RELU

# Multiply-adds up to which the serial kernel beats BLAS whatever the batch, and up
# to which it still does for one row (a GEMV that stays in one core's L2); measured
# on a 2-core Zen 4 against OpenBLAS (asv_bench/benchmarks/mlp.py, MLPInference).
cdef ptrdiff_t _max_work = 1 << 17
cdef ptrdiff_t _max_gemv = 1 << 19


def limits():
    """(max multiply-adds for any batch, max for a single row)."""
    return _max_work, _max_gemv


def set_limits(ptrdiff_t max_work, ptrdiff_t max_gemv):
    global _max_work, _max_gemv
    _max_work, _max_gemv = max_work, max_gemv


cdef inline bint _usable(cnp.ndarray a, int typenum):
    return cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_IS_C_CONTIGUOUS(a)


def linear_small(x, w, b, int act):
    """act(x @ w.T + b) as a new (n, m) array for x (n, k), w (m, k), b (m,) or None,
    or None when the kernel does not apply."""
    if type(x) is not cnp.ndarray or type(w) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, wa = <cnp.ndarray>w, ba
    if cnp.PyArray_NDIM(xa) != 2 or cnp.PyArray_NDIM(wa) != 2:
        return None
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k = cnp.PyArray_DIM(xa, 1), m = cnp.PyArray_DIM(wa, 0)
    if cnp.PyArray_DIM(wa, 1) != k:
        return None
    cdef ptrdiff_t work = n * k * m
    if work > _max_work and (n != 1 or work > _max_gemv):
        return None
    cdef int t = cnp.PyArray_TYPE(xa)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not _usable(xa, t) or not _usable(wa, t):
        return None
    cdef void *bp = NULL
    if b is not None:
        if type(b) is not cnp.ndarray:
            return None
        ba = <cnp.ndarray>b
        if cnp.PyArray_NDIM(ba) != 1 or cnp.PyArray_DIM(ba, 0) != m or not _usable(ba, t):
            return None
        bp = cnp.PyArray_DATA(ba)
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = m
    cdef cnp.ndarray y = cnp.PyArray_EMPTY(2, dims, t, 0)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            linear_small_f32(<const float *>cnp.PyArray_DATA(xa), n, k, <const float *>cnp.PyArray_DATA(wa), m,
                             <const float *>bp, <float *>cnp.PyArray_DATA(y), act)
    else:
        with nogil:
            linear_small_f64(<const double *>cnp.PyArray_DATA(xa), n, k, <const double *>cnp.PyArray_DATA(wa), m,
                             <const double *>bp, <double *>cnp.PyArray_DATA(y), act)
    return y



cdef enum:
    MAX_CHAIN = 32


def linear_chain(x, tuple layers):
    """Layers ((weight, bias or None, act), ...) applied in order to x (n, k) in one
    call, where weight and bias are objects with the array in ``.data`` (Tensors);
    None when the kernel does not take every layer (then run them one by one)."""
    cdef Py_ssize_t L = len(layers), l
    if L == 0 or L > MAX_CHAIN or type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, wa, ba
    if cnp.PyArray_NDIM(xa) != 2:
        return None
    cdef int t = cnp.PyArray_TYPE(xa)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not cnp.PyArray_IS_C_CONTIGUOUS(xa):
        return None
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k0 = cnp.PyArray_DIM(xa, 1), k = k0, m, widest = 1
    cdef const void *ws[MAX_CHAIN]
    cdef const void *bs[MAX_CHAIN]
    cdef ptrdiff_t ms[MAX_CHAIN]
    cdef int acts[MAX_CHAIN]
    cdef tuple layer
    for l in range(L):
        layer = <tuple>layers[l]
        w, b = layer[0].data, layer[1]
        if type(w) is not cnp.ndarray:
            return None
        wa = <cnp.ndarray>w
        if cnp.PyArray_NDIM(wa) != 2 or cnp.PyArray_DIM(wa, 1) != k or not _usable(wa, t):
            return None
        m = cnp.PyArray_DIM(wa, 0)
        if n * k * m > _max_work and (n != 1 or n * k * m > _max_gemv):
            return None
        bs[l] = NULL
        if b is not None:
            b = b.data
            if type(b) is not cnp.ndarray:
                return None
            ba = <cnp.ndarray>b
            if cnp.PyArray_NDIM(ba) != 1 or cnp.PyArray_DIM(ba, 0) != m or not _usable(ba, t):
                return None
            bs[l] = cnp.PyArray_DATA(ba)
        ws[l] = cnp.PyArray_DATA(wa)
        ms[l] = m
        acts[l] = layer[2]
        if l < L - 1 and m > widest:
            widest = m
        k = m
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = k
    cdef cnp.ndarray y = cnp.PyArray_EMPTY(2, dims, t, 0)
    dims[1] = 2 * widest
    cdef cnp.ndarray scratch = cnp.PyArray_EMPTY(2, dims, t, 0)
    cdef char *s0 = <char *>cnp.PyArray_DATA(scratch)
    cdef char *s1 = s0 + n * widest * cnp.PyArray_ITEMSIZE(scratch)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            linear_chain_f32(<const float *>cnp.PyArray_DATA(xa), n, k0, <int>L, ws, bs, ms, acts,
                             <float *>cnp.PyArray_DATA(y), <float *>s0, <float *>s1)
    else:
        with nogil:
            linear_chain_f64(<const double *>cnp.PyArray_DATA(xa), n, k0, <int>L, ws, bs, ms, acts,
                             <double *>cnp.PyArray_DATA(y), <double *>s0, <double *>s1)
    return y
