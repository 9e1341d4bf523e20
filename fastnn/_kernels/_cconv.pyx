# cython: language_level=3
"""C convolution (csrc/conv.h): per-sample im2col + serial BLAS GEMM in one OpenMP region.

BLAS comes from NumPy's own OpenBLAS, as CBLAS function pointers that conv.py finds
and hands to :func:`set_blas`; until then (or where NumPy has another BLAS) the
kernels are unavailable and conv.py uses its NumPy/Numba path. Callers pass
C-contiguous arrays of one float dtype with shapes matching ``geom``; each wrapper
checks dtypes, layout and sizes (``_ccheck``) before the kernel runs.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t, uintptr_t

from fastnn._kernels._ccheck cimport float_type, ndim, same, same_or_none

cnp.import_array()

cdef extern from "conv.h" nogil:
    ctypedef struct fnn_conv_geom:
        int64_t N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups
    ctypedef void (*fnn_sgemm_t)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                                 const float *, int64_t, float, float *, int64_t)
    ctypedef void (*fnn_dgemm_t)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                                 const double *, int64_t, double, double *, int64_t)
    ctypedef void (*fnn_set_threads_t)(int)
    ctypedef int (*fnn_get_threads_t)()
    int fnn_conv_fwd_f32(const float *, const float *, const float *, float *, const fnn_conv_geom *,
                         fnn_sgemm_t, int)
    int fnn_conv_fwd_f64(const double *, const double *, const double *, double *, const fnn_conv_geom *,
                         fnn_dgemm_t, int)
    int fnn_conv_bwd_f32(const float *, const float *, const float *, float *, float *, float *,
                         const fnn_conv_geom *, fnn_sgemm_t, int)
    int fnn_conv_bwd_f64(const double *, const double *, const double *, double *, double *, double *,
                         const fnn_conv_geom *, fnn_dgemm_t, int)

cdef fnn_sgemm_t _sgemm = NULL
cdef fnn_dgemm_t _dgemm = NULL
cdef fnn_set_threads_t _set_threads = NULL
cdef fnn_get_threads_t _get_threads = NULL


def set_blas(uintptr_t sgemm, uintptr_t dgemm, uintptr_t set_threads, uintptr_t get_threads):
    """Install the CBLAS sgemm/dgemm (64-bit integer interface) and the BLAS thread-count
    setter/getter, as addresses (0 for none)."""
    global _sgemm, _dgemm, _set_threads, _get_threads
    _sgemm = <fnn_sgemm_t>sgemm
    _dgemm = <fnn_dgemm_t>dgemm
    _set_threads = <fnn_set_threads_t>set_threads
    _get_threads = <fnn_get_threads_t>get_threads


def available():
    """True once set_blas has installed both GEMMs and the thread-count controls."""
    return _sgemm != NULL and _dgemm != NULL and _set_threads != NULL and _get_threads != NULL


cdef int _check(str where, cnp.ndarray x, cnp.ndarray w, b, int64_t groups) except -1:
    """x (N, C, H, W) and w (O, C / groups, kh, kw) of one float dtype, b (O,) or None,
    with the BLAS installed; returns the type number."""
    if not available():
        raise RuntimeError(f"{where}: no BLAS installed (call set_blas first).")
    cdef int t = float_type(x, where, "x")
    ndim(x, 4, where, "x")
    same(w, t, -1, where, "w")
    ndim(w, 4, where, "w")
    if groups < 1 or w.shape[0] % groups or w.shape[1] * groups != x.shape[1]:
        raise ValueError(f"{where}: w of shape {(<object>w).shape} with groups={groups} does not match "
                         f"x of shape {(<object>x).shape}.")
    same_or_none(b, t, w.shape[0], where, "b")
    return t


cdef fnn_conv_geom _geom(cnp.ndarray x, cnp.ndarray w, tuple geom, int64_t groups):
    cdef fnn_conv_geom g
    g.N, g.C, g.H, g.W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    g.O, g.kh, g.kw = w.shape[0], w.shape[2], w.shape[3]
    g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow = geom
    g.groups = groups
    return g


cdef inline void *_ptr(a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef int _enter(int nt) noexcept nogil:
    # the OpenMP team is the only parallelism: each thread's GEMM runs serially
    cdef int prev = 0
    if nt > 1:
        prev = _get_threads()
        _set_threads(1)
    return prev


cdef void _leave(int nt, int prev) noexcept nogil:
    if nt > 1:
        _set_threads(prev)


def conv2d_fwd(cnp.ndarray x, cnp.ndarray w, b, cnp.ndarray y, tuple geom, int64_t groups, int nt):
    """y = conv(x, w) + b in place (y preallocated (N, O, oh, ow))."""
    cdef int t = _check("conv2d_fwd", x, w, b, groups)
    cdef fnn_conv_geom g = _geom(x, w, geom, groups)
    if g.oh < 0 or g.ow < 0 or g.sh < 1 or g.sw < 1 or g.dh < 1 or g.dw < 1 or g.ph < 0 or g.pw < 0:
        raise ValueError(f"conv2d_fwd: bad geometry {geom}.")
    same(y, t, g.N * g.O * g.oh * g.ow, "conv2d_fwd", "y")
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *wp = cnp.PyArray_DATA(w)
    cdef void *bp = _ptr(b)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int rc, prev
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    with nogil:
        prev = _enter(nt)
        if single:
            rc = fnn_conv_fwd_f32(<const float *>xp, <const float *>wp, <const float *>bp, <float *>yp,
                                  &g, _sgemm, nt)
        else:
            rc = fnn_conv_fwd_f64(<const double *>xp, <const double *>wp, <const double *>bp, <double *>yp,
                                  &g, _dgemm, nt)
        _leave(nt, prev)
    if rc:
        raise MemoryError("conv2d: out of memory for the column buffers")


def conv2d_bwd(cnp.ndarray x, cnp.ndarray w, cnp.ndarray gy, gx, gw, gw_parts, tuple geom, int64_t groups,
               int nt):
    """gx = d/dx (overwritten) and gw += d/dw, each skipped when None; gw_parts: nt zeroed
    weight-shaped scratch accumulators (None when gw is None)."""
    cdef int t = _check("conv2d_bwd", x, w, None, groups)
    cdef fnn_conv_geom g = _geom(x, w, geom, groups)
    if g.oh < 0 or g.ow < 0 or g.sh < 1 or g.sw < 1 or g.dh < 1 or g.dw < 1 or g.ph < 0 or g.pw < 0:
        raise ValueError(f"conv2d_bwd: bad geometry {geom}.")
    same(gy, t, g.N * g.O * g.oh * g.ow, "conv2d_bwd", "gy")
    same_or_none(gx, t, cnp.PyArray_SIZE(x), "conv2d_bwd", "gx")
    same_or_none(gw, t, cnp.PyArray_SIZE(w), "conv2d_bwd", "gw")
    if gw is not None:
        same(gw_parts, t, nt * cnp.PyArray_SIZE(w), "conv2d_bwd", "gw_parts")
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *wp = cnp.PyArray_DATA(w)
    cdef void *gp = cnp.PyArray_DATA(gy)
    cdef void *gxp = _ptr(gx)
    cdef void *gwp = _ptr(gw)
    cdef void *partp = _ptr(gw_parts)
    cdef int rc, prev
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    with nogil:
        prev = _enter(nt)
        if single:
            rc = fnn_conv_bwd_f32(<const float *>xp, <const float *>wp, <const float *>gp, <float *>gxp,
                                  <float *>gwp, <float *>partp, &g, _sgemm, nt)
        else:
            rc = fnn_conv_bwd_f64(<const double *>xp, <const double *>wp, <const double *>gp, <double *>gxp,
                                  <double *>gwp, <double *>partp, &g, _dgemm, nt)
        _leave(nt, prev)
    if rc:
        raise MemoryError("conv2d backward: out of memory for the column buffers")
