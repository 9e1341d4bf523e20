# cython: language_level=3
"""C per-channel and grouped activation kernels (csrc/activations.h): prelu, srelu,
crelu, maxout, forward and backward.

Callers (fastnn._kernels.activations) pass C-contiguous arrays already viewed in the
kernel's layout; every array is checked here (dtype, byte order and contiguity through
the shared _ccheck.pxd, then shape), so no call can make the C code read or write past
a buffer. Parameter-gradient partial sums come back per (n, c) row in float64.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int32_t

from fastnn._kernels._ccheck cimport float_type, is_kernel_array, same

cnp.import_array()

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()   # the parallel loops run on fastnn's pool (the _cpool extension)

cdef extern from "activations.h" nogil:
    ctypedef struct fnn_act_args:
        ptrdiff_t N, C, S, G, K
        const void *x
        const void *g
        const void *p0
        const void *p1
        const void *p2
        const void *p3
        void *out
        void *gx
        double *rows
        int32_t *idx
        const int32_t *idx_in
        ptrdiff_t bad
    void fnn_prelu_fwd_f32(fnn_act_args *, int)
    void fnn_prelu_fwd_f64(fnn_act_args *, int)
    void fnn_prelu_bwd_f32(fnn_act_args *, int)
    void fnn_prelu_bwd_f64(fnn_act_args *, int)
    void fnn_srelu_fwd_f32(fnn_act_args *, int)
    void fnn_srelu_fwd_f64(fnn_act_args *, int)
    void fnn_srelu_bwd_f32(fnn_act_args *, int)
    void fnn_srelu_bwd_f64(fnn_act_args *, int)
    void fnn_crelu_fwd_f32(fnn_act_args *, int)
    void fnn_crelu_fwd_f64(fnn_act_args *, int)
    void fnn_crelu_bwd_f32(fnn_act_args *, int)
    void fnn_crelu_bwd_f64(fnn_act_args *, int)
    void fnn_maxout_fwd_f32(fnn_act_args *, int)
    void fnn_maxout_fwd_f64(fnn_act_args *, int)
    ptrdiff_t fnn_maxout_bwd_f32(fnn_act_args *, int)
    ptrdiff_t fnn_maxout_bwd_f64(fnn_act_args *, int)


cdef tuple _shape(str where, str name, object a, int ndim):
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy.ndarray, got {type(a).__name__}.")
    if cnp.PyArray_NDIM(<cnp.ndarray>a) != ndim:
        raise ValueError(f"{where}: {name} must have {ndim} dimensions, got shape {a.shape}.")
    return tuple(a.shape)


cdef str _described(object a):
    if not isinstance(a, cnp.ndarray):
        return type(a).__name__
    return f"an array of dtype {a.dtype}, shape {a.shape}, C-contiguous={a.flags.c_contiguous}"


cdef void *_arr(str where, str name, object a, int t, tuple shape, bint write) except? NULL:
    """The data of a checked array: type number t in native byte order, C-contiguous
    (the shared checks of _ccheck.pxd), this shape, writeable when the kernel writes it."""
    if t == cnp.NPY_INT32:
        # _ccheck names float and int64 arrays; the maxout indices are int32
        if not is_kernel_array(a, t):
            raise TypeError(f"{where}: {name} must be a C-contiguous int32 array in native "
                            f"byte order, got {_described(a)}.")
    else:
        same(a, t, -1, where, name)
    if tuple(a.shape) != shape:
        raise ValueError(f"{where}: {name} must be of shape {shape}, got shape {a.shape}.")
    if write and not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{where}: {name} must be writeable, got a read-only array.")
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef int _channels(str where, fnn_act_args *a, x, tuple params, int *t) except -1:
    """x (N, C, S) and its one or four per-channel parameters (C,) into a."""
    t[0] = float_type(x, where, "x")
    a.N, a.C, a.S = _shape(where, "x", x, 3)
    a.x = _arr(where, "x", x, t[0], (a.N, a.C, a.S), False)
    cdef tuple c = (a.C,)
    a.p0 = _arr(where, "parameter 0", params[0], t[0], c, False)
    a.p1 = a.p2 = a.p3 = NULL
    if len(params) == 4:
        a.p1 = _arr(where, "parameter 1", params[1], t[0], c, False)
        a.p2 = _arr(where, "parameter 2", params[2], t[0], c, False)
        a.p3 = _arr(where, "parameter 3", params[3], t[0], c, False)
    return 0


def prelu_fwd(x, w, out, int nt):
    """out = x if x > 0 else w[c] * x, x and out (N, C, S), w (C,)."""
    cdef fnn_act_args a
    cdef int t
    _channels("prelu_fwd", &a, x, (w,), &t)
    a.out = _arr("prelu_fwd", "out", out, t, (a.N, a.C, a.S), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_prelu_fwd_f32(&a, nt)
        else:
            fnn_prelu_fwd_f64(&a, nt)


def prelu_bwd(x, w, g, gx, rows, int nt):
    """gx (N, C, S) and rows (N, C) float64: per-row sums of g * x where x <= 0."""
    cdef fnn_act_args a
    cdef int t
    _channels("prelu_bwd", &a, x, (w,), &t)
    a.g = _arr("prelu_bwd", "g", g, t, (a.N, a.C, a.S), False)
    a.gx = _arr("prelu_bwd", "gx", gx, t, (a.N, a.C, a.S), True)
    a.rows = <double *>_arr("prelu_bwd", "rows", rows, cnp.NPY_FLOAT64, (a.N, a.C), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_prelu_bwd_f32(&a, nt)
        else:
            fnn_prelu_bwd_f64(&a, nt)


def srelu_fwd(x, tl, al, tr, ar, out, int nt):
    """S-shaped ReLU, x and out (N, C, S), each parameter (C,)."""
    cdef fnn_act_args a
    cdef int t
    _channels("srelu_fwd", &a, x, (tl, al, tr, ar), &t)
    a.out = _arr("srelu_fwd", "out", out, t, (a.N, a.C, a.S), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_srelu_fwd_f32(&a, nt)
        else:
            fnn_srelu_fwd_f64(&a, nt)


def srelu_bwd(x, tl, al, tr, ar, g, gx, rows, int nt):
    """gx (N, C, S) and rows (N, C, 4) float64: per-row partial gradients of
    (t_left, a_left, t_right, a_right)."""
    cdef fnn_act_args a
    cdef int t
    _channels("srelu_bwd", &a, x, (tl, al, tr, ar), &t)
    a.g = _arr("srelu_bwd", "g", g, t, (a.N, a.C, a.S), False)
    a.gx = _arr("srelu_bwd", "gx", gx, t, (a.N, a.C, a.S), True)
    a.rows = <double *>_arr("srelu_bwd", "rows", rows, cnp.NPY_FLOAT64, (a.N, a.C, 4), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_srelu_bwd_f32(&a, nt)
        else:
            fnn_srelu_bwd_f64(&a, nt)


def crelu_fwd(x, out, int nt):
    """out (O, 2, M) = (relu(x), relu(-x)) for x (O, M)."""
    cdef fnn_act_args a
    cdef int t = float_type(x, "crelu_fwd", "x")
    a.N, a.S = _shape("crelu_fwd", "x", x, 2)
    a.x = _arr("crelu_fwd", "x", x, t, (a.N, a.S), False)
    a.out = _arr("crelu_fwd", "out", out, t, (a.N, 2, a.S), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_crelu_fwd_f32(&a, nt)
        else:
            fnn_crelu_fwd_f64(&a, nt)


def crelu_bwd(x, g, gx, int nt):
    """gx (O, M) from x (O, M) and the output gradient g (O, 2, M)."""
    cdef fnn_act_args a
    cdef int t = float_type(x, "crelu_bwd", "x")
    a.N, a.S = _shape("crelu_bwd", "x", x, 2)
    a.x = _arr("crelu_bwd", "x", x, t, (a.N, a.S), False)
    a.g = _arr("crelu_bwd", "g", g, t, (a.N, 2, a.S), False)
    a.gx = _arr("crelu_bwd", "gx", gx, t, (a.N, a.S), True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_crelu_bwd_f32(&a, nt)
        else:
            fnn_crelu_bwd_f64(&a, nt)


def maxout_fwd(x, out, idx, int nt):
    """out, idx (O, G, I) = max over K of x (O, G, K, I) and its int32 position."""
    cdef fnn_act_args a
    cdef int t = float_type(x, "maxout_fwd", "x")
    a.N, a.G, a.K, a.S = _shape("maxout_fwd", "x", x, 4)
    a.x = _arr("maxout_fwd", "x", x, t, (a.N, a.G, a.K, a.S), False)
    a.out = _arr("maxout_fwd", "out", out, t, (a.N, a.G, a.S), True)
    a.idx = <int32_t *>_arr("maxout_fwd", "idx", idx, cnp.NPY_INT32, (a.N, a.G, a.S), True)
    if a.K < 1 and a.N * a.G * a.S > 0:
        raise ValueError("maxout_fwd: groups of 0 elements have no maximum.")
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_maxout_fwd_f32(&a, nt)
        else:
            fnn_maxout_fwd_f64(&a, nt)


def maxout_bwd(g, idx, gx, int nt):
    """gx (O, G, K, I): g (O, G, I) at the arg-max idx of each group, zeros elsewhere."""
    cdef fnn_act_args a
    cdef int t = float_type(g, "maxout_bwd", "g")
    a.N, a.G, a.K, a.S = _shape("maxout_bwd", "gx", gx, 4)
    a.g = _arr("maxout_bwd", "g", g, t, (a.N, a.G, a.S), False)
    a.idx_in = <const int32_t *>_arr("maxout_bwd", "idx", idx, cnp.NPY_INT32, (a.N, a.G, a.S), False)
    a.gx = _arr("maxout_bwd", "gx", gx, t, (a.N, a.G, a.K, a.S), True)
    cdef ptrdiff_t bad
    with nogil:
        if t == cnp.NPY_FLOAT32:
            bad = fnn_maxout_bwd_f32(&a, nt)
        else:
            bad = fnn_maxout_bwd_f64(&a, nt)
    if bad:
        raise ValueError(f"maxout_bwd: {bad} indices lie outside [0, {a.K}).")
