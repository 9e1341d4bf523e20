# cython: language_level=3
"""C small-batch linear kernel (csrc/linear.h): y = act(x Wᵀ + b) in one serial pass.

``linear_small`` is called on the hot path of single-sample inference, so it checks
in C, not Python, whether the kernel applies (2-D, matching sizes, one float
dtype in native byte order, C-contiguous, little enough work; ``_ccheck``) and
returns None when it does not: the caller then takes the validated BLAS path,
which also raises the errors.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

from fastnn._kernels._ccheck cimport is_kernel_array, kernel_type

cnp.import_array()

cdef extern from "linear.h" nogil:
    int FNN_ACT_NONE, FNN_ACT_RELU
    void linear_small_f32(const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, const float *, float *, int)
    void linear_small_f64(const double *, ptrdiff_t, ptrdiff_t, const double *, ptrdiff_t, const double *, double *, int)
    void linear_chain_f32(const float *, ptrdiff_t, ptrdiff_t, int, const void *const *, const void *const *,
                          const ptrdiff_t *, const int *, float *, float *, float *)
    void linear_chain_f64(const double *, ptrdiff_t, ptrdiff_t, int, const void *const *, const void *const *,
                          const ptrdiff_t *, const int *, double *, double *, double *)
    int linear_chain_blocks_f32(const float *, ptrdiff_t, ptrdiff_t, int, const void *const *,
                                const void *const *, const ptrdiff_t *, const int *, float *,
                                ptrdiff_t, ptrdiff_t, int)
    int linear_chain_blocks_f64(const double *, ptrdiff_t, ptrdiff_t, int, const void *const *,
                                const void *const *, const ptrdiff_t *, const int *, double *,
                                ptrdiff_t, ptrdiff_t, int)
    int linear_fwd_f32(const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, const float *,
                       float *, int, ptrdiff_t, int)
    int linear_fwd_f64(const double *, ptrdiff_t, ptrdiff_t, const double *, ptrdiff_t, const double *,
                       double *, int, ptrdiff_t, int)
    void linear_relu_bwd_f32(const float *, const float *, float *, float *, ptrdiff_t, ptrdiff_t,
                             ptrdiff_t, int)
    void linear_relu_bwd_f64(const double *, const double *, double *, double *, ptrdiff_t, ptrdiff_t,
                             ptrdiff_t, int)

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()

from fastnn._kernels import _cpool

# the pooled GEMM's row unit: linear_fwd splits rows as fastnn._kernels.gemm does
cdef ptrdiff_t _gemm_rows = _cpool.GEMM_ROWS

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


cdef int _input_type(x):
    """x's float type number when the kernel can take it as the input (2-D, float32 or
    float64, native byte order, C-contiguous), else -1."""
    if type(x) is not cnp.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>x) != 2:
        return -1
    return kernel_type(x)


cdef ptrdiff_t _layer(w, b, ptrdiff_t n, ptrdiff_t k, int t, const void **wp, const void **bp,
                      bint limited=True):
    """A layer's output size m, its weight and bias pointers set, when the kernel takes
    w (m, k) and b (m,) or None of type t for n rows (and, when ``limited``, the work
    is small enough for the serial kernel), else -1."""
    if type(w) is not cnp.ndarray:
        return -1
    cdef cnp.ndarray wa = <cnp.ndarray>w, ba
    if cnp.PyArray_NDIM(wa) != 2 or cnp.PyArray_DIM(wa, 1) != k or not is_kernel_array(wa, t):
        return -1
    cdef ptrdiff_t m = cnp.PyArray_DIM(wa, 0), work = n * k * m
    if limited and work > _max_work and (n != 1 or work > _max_gemv):
        return -1
    bp[0] = NULL
    if b is not None:
        if type(b) is not cnp.ndarray:
            return -1
        ba = <cnp.ndarray>b
        if cnp.PyArray_NDIM(ba) != 1 or cnp.PyArray_DIM(ba, 0) != m or not is_kernel_array(ba, t):
            return -1
        bp[0] = cnp.PyArray_DATA(ba)
    wp[0] = cnp.PyArray_DATA(wa)
    return m


cdef inline cnp.ndarray _empty(ptrdiff_t n, ptrdiff_t m, int t):
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = m
    return cnp.PyArray_EMPTY(2, dims, t, 0)


def linear_small(x, w, b, int act):
    """act(x @ w.T + b) as a new (n, m) array for x (n, k), w (m, k), b (m,) or None,
    or None when the kernel does not apply."""
    cdef int t = _input_type(x)
    if t < 0:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k = cnp.PyArray_DIM(xa, 1)
    cdef const void *wp
    cdef const void *bp
    cdef ptrdiff_t m = _layer(w, b, n, k, t, &wp, &bp)
    if m < 0:
        return None
    cdef cnp.ndarray y = _empty(n, m, t)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            linear_small_f32(<const float *>cnp.PyArray_DATA(xa), n, k, <const float *>wp, m,
                             <const float *>bp, <float *>cnp.PyArray_DATA(y), act)
    else:
        with nogil:
            linear_small_f64(<const double *>cnp.PyArray_DATA(xa), n, k, <const double *>wp, m,
                             <const double *>bp, <double *>cnp.PyArray_DATA(y), act)
    return y


cdef enum:
    MAX_CHAIN = 32


cdef ptrdiff_t _chain_layers(str where, tuple layers, ptrdiff_t n, ptrdiff_t k, int t,
                             const void **ws, const void **bs, ptrdiff_t *ms, int *acts,
                             ptrdiff_t *widest, bint limited) except -2:
    """Fill the chain's per-layer arrays from ``layers`` for n rows of k inputs of type t
    (``widest``: the largest hidden size); the last layer's output size, or -1 when the
    kernel does not take every layer (``limited``: the serial kernel's work limits;
    without them a product over nothing is declined too, left to matmul, which zeroes
    it)."""
    cdef Py_ssize_t l, L = len(layers)
    cdef ptrdiff_t m
    cdef tuple layer
    for l in range(L):
        layer = <tuple?>layers[l]
        if len(layer) != 3:
            raise ValueError(f"{where}: each layer must be (weight, bias, act), got {layer!r}.")
        b = layer[1]
        m = _layer(layer[0].data, None if b is None else b.data, n, k, t, &ws[l], &bs[l], limited)
        if m < 0 or (not limited and k == 0):
            return -1
        ms[l] = m
        acts[l] = layer[2]
        if l < L - 1 and m > widest[0]:
            widest[0] = m
        k = m
    return k


def linear_chain(x, tuple layers):
    """Layers ((weight, bias or None, act), ...) applied in order to x (n, k) in one
    call, where weight and bias are objects with the array in ``.data`` (Tensors);
    None when the kernel does not take every layer (then run them one by one)."""
    cdef Py_ssize_t L = len(layers)
    cdef int t = _input_type(x)
    if L == 0 or L > MAX_CHAIN or t < 0:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k0 = cnp.PyArray_DIM(xa, 1), k, widest = 1
    cdef const void *ws[MAX_CHAIN]
    cdef const void *bs[MAX_CHAIN]
    cdef ptrdiff_t ms[MAX_CHAIN]
    cdef int acts[MAX_CHAIN]
    k = _chain_layers("linear_chain", layers, n, k0, t, ws, bs, ms, acts, &widest, True)
    if k < 0:
        return None
    cdef cnp.ndarray y = _empty(n, k, t)
    cdef cnp.ndarray scratch = _empty(n, 2 * widest, t)
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


# Rows per block of linear_chain_blocks: a multiple of the pool GEMM's row unit
# (so the bits match one BLAS call over all rows), small enough that a block's
# activations stay in L2, large enough that packing each weight per block is cheap.
cdef ptrdiff_t _block_rows = 192


def block_rows():
    return _block_rows


def set_block_rows(ptrdiff_t rows):
    global _block_rows
    if rows < 24 or rows % 24:
        raise ValueError(f"set_block_rows: expected a positive multiple of 24, got {rows}.")
    _block_rows = rows


def linear_chain_blocks(x, tuple layers, int nt):
    """linear_chain for any number of rows, block by block on ``nt`` pool threads with
    BLAS GEMMs; None when BLAS is missing or the kernel does not take every layer."""
    cdef Py_ssize_t L = len(layers)
    cdef int t = _input_type(x)
    if L == 0 or L > MAX_CHAIN or t < 0 or not _cpool.blas_available():
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k0 = cnp.PyArray_DIM(xa, 1), k, widest = 1
    cdef const void *ws[MAX_CHAIN]
    cdef const void *bs[MAX_CHAIN]
    cdef ptrdiff_t ms[MAX_CHAIN]
    cdef int acts[MAX_CHAIN]
    k = _chain_layers("linear_chain_blocks", layers, n, k0, t, ws, bs, ms, acts, &widest, False)
    if k < 0:
        return None
    cdef cnp.ndarray y = _empty(n, k, t)
    cdef ptrdiff_t rows = _block_rows
    cdef int ok
    if n == 0 or k == 0:
        return y
    if t == cnp.NPY_FLOAT32:
        with nogil:
            ok = linear_chain_blocks_f32(<const float *>cnp.PyArray_DATA(xa), n, k0, <int>L, ws, bs, ms,
                                         acts, <float *>cnp.PyArray_DATA(y), rows, widest, nt)
    else:
        with nogil:
            ok = linear_chain_blocks_f64(<const double *>cnp.PyArray_DATA(xa), n, k0, <int>L, ws, bs, ms,
                                         acts, <double *>cnp.PyArray_DATA(y), rows, widest, nt)
    return y if ok else None


def linear_fwd(x, w, b, int act, int nt):
    """act(x @ w.T + b) as a new (n, m) array for any number of rows, on ``nt`` pool
    threads split as the pooled GEMM splits them, each thread adding the bias and
    applying the activation to the rows it computed; None where BLAS is missing or
    the kernel does not take the operands (then run matmul, += b and the activation)."""
    cdef int t = _input_type(x)
    if t < 0 or not _cpool.blas_available():
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef ptrdiff_t n = cnp.PyArray_DIM(xa, 0), k = cnp.PyArray_DIM(xa, 1)
    cdef const void *wp
    cdef const void *bp
    cdef ptrdiff_t m = _layer(w, b, n, k, t, &wp, &bp, False)
    if m < 0 or k == 0:
        return None
    cdef cnp.ndarray y = _empty(n, m, t)
    cdef ptrdiff_t unit = _gemm_rows
    cdef int ok = 1
    if n == 0 or m == 0:
        return y
    if t == cnp.NPY_FLOAT32:
        with nogil:
            ok = linear_fwd_f32(<const float *>cnp.PyArray_DATA(xa), n, k, <const float *>wp, m,
                                <const float *>bp, <float *>cnp.PyArray_DATA(y), act, unit, nt)
    else:
        with nogil:
            ok = linear_fwd_f64(<const double *>cnp.PyArray_DATA(xa), n, k, <const double *>wp, m,
                                <const double *>bp, <double *>cnp.PyArray_DATA(y), act, unit, nt)
    return y if ok else None


# columns per block of linear_relu_bwd (a multiple of any vector width)
cdef ptrdiff_t _bwd_cols = 64


def linear_relu_bwd(y, g, int nt):
    """(gm, gb) for y and g (n, m) of one float type, C-contiguous: gm = relu_bwd(y, g)
    (g where y > 0) and gb = gm.sum(axis=0), bitwise; None where the kernel does not
    take them."""
    cdef int t = _input_type(y)
    if t < 0 or _input_type(g) != t:
        return None
    cdef cnp.ndarray ya = <cnp.ndarray>y, ga = <cnp.ndarray>g
    cdef ptrdiff_t n = cnp.PyArray_DIM(ya, 0), m = cnp.PyArray_DIM(ya, 1)
    if cnp.PyArray_DIM(ga, 0) != n or cnp.PyArray_DIM(ga, 1) != m:
        return None
    cdef cnp.ndarray gm = _empty(n, m, t)
    cdef cnp.npy_intp dims[1]
    dims[0] = m
    cdef cnp.ndarray gb = cnp.PyArray_EMPTY(1, dims, t, 0)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            linear_relu_bwd_f32(<const float *>cnp.PyArray_DATA(ya), <const float *>cnp.PyArray_DATA(ga),
                                <float *>cnp.PyArray_DATA(gm), <float *>cnp.PyArray_DATA(gb), n, m,
                                _bwd_cols, nt)
    else:
        with nogil:
            linear_relu_bwd_f64(<const double *>cnp.PyArray_DATA(ya), <const double *>cnp.PyArray_DATA(ga),
                                <double *>cnp.PyArray_DATA(gm), <double *>cnp.PyArray_DATA(gb), n, m,
                                _bwd_cols, nt)
    return gm, gb
