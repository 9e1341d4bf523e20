# cython: language_level=3
"""C convolution (csrc/conv.h): per-sample im2col + serial BLAS GEMM on fastnn's pool.

BLAS is NumPy's own OpenBLAS as installed in the pool (fastnn._kernels.threads);
where it was not found, conv.py uses its NumPy/Numba path. Callers pass C-contiguous arrays of one float dtype with shapes matching
``geom``; each wrapper checks dtypes, layout and sizes (``_ccheck``) before the
kernel runs.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t

from fastnn._kernels._ccheck cimport float_type, ndim, same, same_or_none

cnp.import_array()

cdef extern from "conv.h" nogil:
    ctypedef struct fnn_conv_geom:
        int64_t N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups
    int fnn_conv_fwd_f32(const float *, const float *, const float *, float *, const fnn_conv_geom *, int)
    int fnn_conv_fwd_f64(const double *, const double *, const double *, double *, const fnn_conv_geom *, int)
    int fnn_conv_bwd_f32(const float *, const float *, const float *, float *, float *,
                         const fnn_conv_geom *, int)
    int fnn_conv_bwd_f64(const double *, const double *, const double *, double *, double *,
                         const fnn_conv_geom *, int)

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()

from fastnn._kernels import _cpool


cdef int _check(str where, cnp.ndarray x, cnp.ndarray w, b, int64_t groups) except -1:
    """x (N, C, H, W) and w (O, C / groups, kh, kw) of one float dtype, b (O,) or None,
    with BLAS installed in the pool; returns the type number."""
    if not _cpool.blas_available():
        raise RuntimeError(f"{where}: no BLAS installed in fastnn's pool (threads.py finds NumPy's).")
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
    cdef int rc
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            rc = fnn_conv_fwd_f32(<const float *>xp, <const float *>wp, <const float *>bp, <float *>yp,
                                  &g, nt)
        else:
            rc = fnn_conv_fwd_f64(<const double *>xp, <const double *>wp, <const double *>bp, <double *>yp,
                                  &g, nt)
    if rc:
        raise MemoryError("conv2d: out of memory for the column buffers")


def conv2d_bwd(cnp.ndarray x, cnp.ndarray w, cnp.ndarray gy, gx, gw, tuple geom, int64_t groups, int nt):
    """gx = d/dx (overwritten) and gw += d/dw, each skipped when None."""
    cdef int t = _check("conv2d_bwd", x, w, None, groups)
    cdef fnn_conv_geom g = _geom(x, w, geom, groups)
    if g.oh < 0 or g.ow < 0 or g.sh < 1 or g.sw < 1 or g.dh < 1 or g.dw < 1 or g.ph < 0 or g.pw < 0:
        raise ValueError(f"conv2d_bwd: bad geometry {geom}.")
    same(gy, t, g.N * g.O * g.oh * g.ow, "conv2d_bwd", "gy")
    same_or_none(gx, t, cnp.PyArray_SIZE(x), "conv2d_bwd", "gx")
    same_or_none(gw, t, cnp.PyArray_SIZE(w), "conv2d_bwd", "gw")
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *wp = cnp.PyArray_DATA(w)
    cdef void *gp = cnp.PyArray_DATA(gy)
    cdef void *gxp = _ptr(gx)
    cdef void *gwp = _ptr(gw)
    cdef int rc
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            rc = fnn_conv_bwd_f32(<const float *>xp, <const float *>wp, <const float *>gp, <float *>gxp,
                                  <float *>gwp, &g, nt)
        else:
            rc = fnn_conv_bwd_f64(<const double *>xp, <const double *>wp, <const double *>gp, <double *>gxp,
                                  <double *>gwp, &g, nt)
    if rc:
        raise MemoryError("conv2d backward: out of memory for the column buffers")
