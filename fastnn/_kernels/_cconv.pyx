# cython: language_level=3
"""C convolution (csrc/conv.h): per-sample im2col + serial BLAS GEMM on fastnn's pool.

BLAS is NumPy's own OpenBLAS as installed in the pool (fastnn._kernels.threads);
where it was not found, ``available()`` is False and conv.py uses its NumPy/Numba
path. Arguments are trusted: C-contiguous arrays of one float dtype, shapes
matching ``geom``.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t

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
    cdef fnn_conv_geom g = _geom(x, w, geom, groups)
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
    cdef fnn_conv_geom g = _geom(x, w, geom, groups)
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
